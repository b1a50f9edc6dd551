//! One error type for the whole API, HTTP and WebSocket alike: each variant
//! has a stable `code` a client can branch on and a message that says exactly
//! what to fix. Server faults (5xx) tell the client little and log the rest.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use morelike_core::{CatalogError, SessionError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::store::StorageError;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The frame or body is not JSON.
    #[error("not valid JSON: {0}")]
    BadJson(String),
    /// A message `type` the server does not know.
    #[error(
        "unknown message type '{0}': use start, vote, more, undo, reset, resume, explain or ping"
    )]
    UnknownType(String),
    /// A field is missing, of the wrong type, or out of range.
    #[error("field '{field}': {reason}")]
    BadField {
        /// The field, as a path (`votes[1].vote`).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A protocol version this server does not speak.
    #[error("protocol version {0} is not supported: send \"v\": 1")]
    UnsupportedVersion(String),
    /// A product id the store does not have.
    #[error("no product with id '{0}' in this store")]
    UnknownProduct(String),
    /// A session id that is unknown or expired.
    #[error("no session '{0}' in this store (unknown, or expired): start a new one")]
    UnknownSession(String),
    /// A session message before `start` or `resume`.
    #[error("this connection has no session yet: send start or resume first")]
    NoSession,
    /// A store that does not exist.
    #[error("there is no store '{0}'")]
    UnknownStore(String),
    /// A frame over the protocol's size limit.
    #[error("a frame of {size} bytes is over the limit of {limit} bytes")]
    FrameTooLarge {
        /// The frame's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// An HTTP body over its size limit.
    #[error("the request body is too large: {0}")]
    BodyTooLarge(String),
    /// A filter the store cannot apply.
    #[error("{0}")]
    BadFilter(String),
    /// `undo` with no vote to take back.
    #[error("there is no vote to undo")]
    NothingToUndo,
    /// A mapping that cannot be used.
    #[error("{0}")]
    BadMapping(String),
    /// An upload that cannot be imported at all (its rows are not the problem).
    #[error("{0}")]
    BadImport(String),
    /// The store changed in a way that makes this request void (its
    /// mapping changed while an upload was read); sending it again works.
    #[error("{0}")]
    Conflict(String),
    /// Storage cannot save changes right now (a full disk); nothing changed.
    #[error(
        "the server cannot save changes right now; nothing was changed: retry in a little while"
    )]
    StorageUnavailable(String),
    /// Something broke on the server.
    #[error("internal error")]
    Internal(String),
}

/// The JSON body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable code to branch on (`bad_field`, `unknown_product` …).
    pub code: &'static str,
    /// What went wrong and what to do about it.
    pub message: String,
    /// The field at fault, for `bad_field`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    /// The stable code clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadJson(_) => "bad_json",
            ApiError::UnknownType(_) => "unknown_type",
            ApiError::BadField { .. } => "bad_field",
            ApiError::UnsupportedVersion(_) => "unsupported_version",
            ApiError::UnknownProduct(_) => "unknown_product",
            ApiError::UnknownSession(_) => "unknown_session",
            ApiError::NoSession => "no_session",
            ApiError::UnknownStore(_) => "unknown_store",
            ApiError::FrameTooLarge { .. } => "frame_too_large",
            ApiError::BodyTooLarge(_) => "body_too_large",
            ApiError::BadFilter(_) => "bad_filter",
            ApiError::NothingToUndo => "nothing_to_undo",
            ApiError::BadMapping(_) => "bad_mapping",
            ApiError::BadImport(_) => "bad_import",
            ApiError::Conflict(_) => "conflict",
            ApiError::StorageUnavailable(_) => "storage_unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadJson(_)
            | ApiError::UnknownType(_)
            | ApiError::BadField { .. }
            | ApiError::UnsupportedVersion(_)
            | ApiError::BadFilter(_) => StatusCode::BAD_REQUEST,
            ApiError::UnknownProduct(_)
            | ApiError::UnknownSession(_)
            | ApiError::UnknownStore(_) => StatusCode::NOT_FOUND,
            ApiError::NoSession | ApiError::NothingToUndo | ApiError::Conflict(_) => {
                StatusCode::CONFLICT
            }
            ApiError::FrameTooLarge { .. } | ApiError::BodyTooLarge(_) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::BadMapping(_) | ApiError::BadImport(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::StorageUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The body sent to the client; logs server faults.
    pub fn body(&self) -> ErrorBody {
        match self {
            ApiError::Internal(detail) => tracing::error!(%detail, "request failed"),
            ApiError::StorageUnavailable(detail) => {
                tracing::warn!(%detail, "request refused: storage cannot write");
            }
            _ => {}
        }
        ErrorBody {
            code: self.code(),
            message: self.to_string(),
            field: match self {
                ApiError::BadField { field, .. } => Some(field.clone()),
                _ => None,
            },
        }
    }

    /// A missing or mistyped field.
    pub fn field(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ApiError::BadField {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), Json(self.body())).into_response()
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Unavailable { .. } => ApiError::StorageUnavailable(e.to_string()),
            StorageError::Backend { .. } | StorageError::Corrupt { .. } => {
                ApiError::Internal(e.to_string())
            }
        }
    }
}

impl From<CatalogError> for ApiError {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::UnknownProduct(id) => ApiError::UnknownProduct(id),
            CatalogError::Filter(f) => ApiError::BadFilter(f.to_string()),
            other => ApiError::field("weights", other.to_string()),
        }
    }
}

impl From<SessionError> for ApiError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::UnknownSeed(id) => ApiError::UnknownProduct(id),
            e @ SessionError::BadK(_) => ApiError::field("k", e.to_string()),
            SessionError::NothingToUndo => ApiError::NothingToUndo,
            SessionError::Catalog(c) => c.into(),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::Internal(format!("a blocking task failed: {e}"))
    }
}

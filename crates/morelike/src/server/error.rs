//! One error type for the whole API, HTTP and WebSocket alike: each variant
//! has a stable `code` a client can branch on and a message that says exactly
//! what to fix. Server faults (5xx) tell the client little and log the rest.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
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
        "unknown message type '{0}': use start, vote, more, undo, reset, resume, explain, click or ping"
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
    /// A click on a product the session never showed.
    #[error("product '{0}' was not shown in this session: a click counts only for a product its pages showed")]
    NotShown(String),
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
    /// An HTTP body over its size limit (the message names the limit and
    /// what to do: [`body_too_large`]).
    #[error("{0}")]
    BodyTooLarge(String),
    /// A filter the store cannot apply.
    #[error("{0}")]
    BadFilter(String),
    /// `undo` with no vote to take back.
    #[error("there is no vote to undo")]
    NothingToUndo,
    /// `undo` of one product the session has no vote on.
    #[error("there is no vote on product '{0}' to undo: undo takes back a vote this session cast")]
    NoVoteOn(String),
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
    /// The node's compute queue is full (`max_queued_jobs`): nothing was
    /// done; retry in a moment.
    #[error(
        "the server is too busy to compute this now ({0}); nothing was changed: retry in a moment"
    )]
    Overloaded(String),
    /// `/readyz`: the server should not get traffic now (shutting down, or
    /// storage cannot write); the message says why.
    #[error("not ready: {0}")]
    NotReady(String),
    /// No key, an unknown key, or a key rotated out.
    #[error("{0}")]
    Unauthorized(String),
    /// A valid key that may not make this call (another store's, or a
    /// publishable key on a write).
    #[error("{0}")]
    Forbidden(String),
    /// A browser page whose origin the store does not allow.
    #[error("{0}")]
    OriginNotAllowed(String),
    /// A `Host` the server does not answer to (DNS rebinding).
    #[error("{0}")]
    HostNotAllowed(String),
    /// Too many requests from one address or with one key.
    #[error("too many requests: {what}; retry in {retry_after_secs} s")]
    RateLimited {
        /// Which rate.
        what: String,
        /// Seconds until a retry can pass.
        retry_after_secs: u64,
    },
    /// Too many open WebSockets (on the node, or from one address).
    #[error("{0}")]
    TooManySockets(String),
    /// Too many uploads in progress (on the node, or into one store).
    #[error("{0}")]
    TooManyUploads(String),
    /// A store started too many sessions.
    #[error("{0}")]
    TooManySessions(String),
    /// The node holds its most stores.
    #[error("this server holds its most stores ({0}, max_stores): delete one first")]
    TooManyStores(usize),
    /// A session holds its most votes or pages.
    #[error("{0}")]
    SessionFull(String),
    /// A name search over its length limit.
    #[error("the search is {size} bytes, over the limit of {limit}: search with fewer words")]
    QueryTooLong {
        /// The query's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A mapping whose index would be too large.
    #[error("{0}")]
    MappingTooLarge(String),
    /// A request past its deadline.
    #[error("{0}")]
    Timeout(String),
    /// A route that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A route that exists, with another method.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// A plain request where a WebSocket upgrade was expected.
    #[error("{0}")]
    NotAWebSocket(String),
    /// A request the HTTP layer refused before any handler (a bad path
    /// escape, a body that is not UTF-8).
    #[error("{0}")]
    BadRequest(String),
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
            ApiError::NotShown(_) => "not_shown",
            ApiError::UnknownStore(_) => "unknown_store",
            ApiError::FrameTooLarge { .. } => "frame_too_large",
            ApiError::BodyTooLarge(_) => "body_too_large",
            ApiError::BadFilter(_) => "bad_filter",
            ApiError::NothingToUndo | ApiError::NoVoteOn(_) => "nothing_to_undo",
            ApiError::BadMapping(_) => "bad_mapping",
            ApiError::BadImport(_) => "bad_import",
            ApiError::Conflict(_) => "conflict",
            ApiError::StorageUnavailable(_) => "storage_unavailable",
            ApiError::Overloaded(_) => "overloaded",
            ApiError::NotReady(_) => "not_ready",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::OriginNotAllowed(_) => "origin_not_allowed",
            ApiError::HostNotAllowed(_) => "host_not_allowed",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::TooManySockets(_) => "too_many_sockets",
            ApiError::TooManyUploads(_) => "too_many_uploads",
            ApiError::TooManySessions(_) => "too_many_sessions",
            ApiError::TooManyStores(_) => "too_many_stores",
            ApiError::SessionFull(_) => "session_full",
            ApiError::QueryTooLong { .. } => "query_too_long",
            ApiError::MappingTooLarge(_) => "mapping_too_large",
            ApiError::Timeout(_) => "request_timeout",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::NotAWebSocket(_) => "not_a_websocket",
            ApiError::BadRequest(_) => "bad_request",
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
            | ApiError::BadFilter(_)
            | ApiError::QueryTooLong { .. }
            | ApiError::NotAWebSocket(_)
            | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::UnknownProduct(_)
            | ApiError::UnknownSession(_)
            | ApiError::UnknownStore(_)
            | ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::NoSession
            | ApiError::NotShown(_)
            | ApiError::NothingToUndo
            | ApiError::NoVoteOn(_)
            | ApiError::Conflict(_)
            | ApiError::TooManyStores(_)
            | ApiError::SessionFull(_) => StatusCode::CONFLICT,
            ApiError::FrameTooLarge { .. } | ApiError::BodyTooLarge(_) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::BadMapping(_) | ApiError::BadImport(_) | ApiError::MappingTooLarge(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::OriginNotAllowed(_) => StatusCode::FORBIDDEN,
            ApiError::HostNotAllowed(_) => StatusCode::MISDIRECTED_REQUEST,
            ApiError::RateLimited { .. }
            | ApiError::TooManySockets(_)
            | ApiError::TooManyUploads(_)
            | ApiError::TooManySessions(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::StorageUnavailable(_) | ApiError::NotReady(_) | ApiError::Overloaded(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The body sent to the client; logs server faults and counts refusals
    /// by a limit.
    pub fn body(&self) -> ErrorBody {
        match self {
            ApiError::Internal(detail) => tracing::error!(%detail, "request failed"),
            ApiError::StorageUnavailable(detail) => {
                tracing::warn!(%detail, "request refused: storage cannot write");
            }
            _ => {}
        }
        super::limits::counters::count(self.code());
        ErrorBody {
            code: self.code(),
            message: self.to_string(),
            field: match self {
                ApiError::BadField { field, .. } => Some(field.clone()),
                _ => None,
            },
        }
    }

    /// What the log says of it: an internal fault's detail, else the message.
    pub fn detail(&self) -> String {
        match self {
            ApiError::Internal(detail) => detail.clone(),
            other => other.to_string(),
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
        let mut response = (self.status(), Json(self.body())).into_response();
        if let ApiError::RateLimited {
            retry_after_secs, ..
        } = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        } else if let ApiError::Overloaded(_) = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(1));
        }
        response
    }
}

/// The body limits of the routes, for the message of a refusal.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimits {
    /// A product upload's (`max_upload_bytes`).
    pub upload: usize,
    /// Every other body's (`max_body_bytes`).
    pub body: usize,
}

impl BodyLimits {
    /// Whether this request is a product upload (`POST …/products`).
    pub fn is_upload(method: &axum::http::Method, path: &str) -> bool {
        method == axum::http::Method::POST
            && path.starts_with("/v1/stores/")
            && path.ends_with("/products")
            && path.matches('/').count() == 4
    }

    /// What a body over its limit is told: the limit in bytes and the fix.
    pub fn refusal(&self, upload: bool) -> String {
        body_too_large(if upload { self.upload } else { self.body }, upload)
    }
}

/// What a body over its limit is told: the limit in bytes, the setting,
/// and what to do instead.
pub fn body_too_large(limit: usize, upload: bool) -> String {
    if upload {
        format!(
            "the upload is over this server's limit of {limit} bytes (max_upload_bytes): \
             split the file into smaller uploads, raise `max_upload_bytes` \
             (MORELIKE_MAX_UPLOAD_BYTES), or import it on the server's machine with `morelike import`"
        )
    } else {
        format!(
            "the request body is over this server's limit of {limit} bytes (max_body_bytes): \
             send a smaller body, or raise `max_body_bytes` (MORELIKE_MAX_BODY_BYTES)"
        )
    }
}

/// Turns every error answer that is not already our JSON (a route that does
/// not exist, a method a route lacks, a refused WebSocket upgrade, a bad path
/// escape, the HTTP layer's own refusals) into the JSON error with a `code`.
pub async fn json_errors(State(limits): State<BodyLimits>, req: Request, next: Next) -> Response {
    let upload = BodyLimits::is_upload(req.method(), req.uri().path());
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if status.as_u16() < 400 || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let text = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let error = match status {
        StatusCode::NOT_FOUND => {
            ApiError::NotFound(format!("{text}: no such route (see /v1/openapi.json)"))
        }
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed(format!(
            "{text}: this route does not take that method (see /v1/openapi.json)"
        )),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::BodyTooLarge(limits.refusal(upload)),
        StatusCode::REQUEST_TIMEOUT => ApiError::Timeout(text),
        StatusCode::UPGRADE_REQUIRED => ApiError::NotAWebSocket(text),
        s if s.is_server_error() => ApiError::Internal(text),
        _ => ApiError::BadRequest(text),
    };
    let mut fixed = error.into_response();
    // The status stays what the layer below chose (a 415 stays a 415).
    *fixed.status_mut() = status;
    for (name, value) in parts.headers {
        if let Some(name) = name {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                fixed.headers_mut().insert(name, value);
            }
        }
    }
    fixed
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
            SessionError::NoVoteOn(id) => ApiError::NoVoteOn(id),
            SessionError::Catalog(c) => c.into(),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::Internal(format!("a blocking task failed: {e}"))
    }
}

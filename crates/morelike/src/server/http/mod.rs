//! The HTTP API: thin handlers, a file per resource. Each extracts, checks
//! its caller's key ([`crate::server::access::Caller`]), calls one function
//! of the core or of the session service, and maps the error. Request bodies
//! are read by [`ApiJson`] and query strings by [`ApiQuery`], which name the
//! field at fault exactly as the WebSocket protocol does.

pub mod health;
pub mod keys;
pub mod page;
pub mod products;
pub mod sessions;
pub mod settings;
pub mod socket;
pub mod stats;
pub mod stores;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::{body_too_large, ApiError};
use super::protocol::fields;
use super::state::AppState;

/// A JSON body, read with the protocol's error codes (`bad_json`, `bad_field`).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::BodyTooLarge(body_too_large(state.config.max_body_bytes, false))
            } else {
                ApiError::BadJson(e.body_text())
            }
        })?;
        let value = if bytes.is_empty() {
            serde_json::Value::Object(Default::default())
        } else {
            serde_json::from_slice(&bytes).map_err(|e| ApiError::BadJson(e.to_string()))?
        };
        Ok(ApiJson(fields(value)?))
    }
}

/// A query string, read with the protocol's error codes (`bad_field` naming
/// the parameter at fault).
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(ApiQuery)
            .map_err(|e| {
                let field = e.path().to_string();
                let reason = e.inner().to_string();
                let field = if field == "." {
                    reason
                        .strip_prefix("missing field `")
                        .and_then(|r| r.split('`').next())
                        .unwrap_or("query")
                        .to_owned()
                } else {
                    field
                };
                ApiError::field(field, reason)
            })
    }
}

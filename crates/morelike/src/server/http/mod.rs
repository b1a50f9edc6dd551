//! The HTTP API: thin handlers, a file per resource. Each extracts, checks,
//! calls one function of the core or of the session service, and maps the
//! error. Request bodies are read by [`ApiJson`], which names the field at
//! fault exactly as the WebSocket protocol does.

pub mod health;
pub mod page;
pub mod products;
pub mod sessions;
pub mod settings;
pub mod socket;
pub mod stores;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::protocol::fields;

/// A JSON body, read with the protocol's error codes (`bad_json`, `bad_field`).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::BodyTooLarge(e.body_text())
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

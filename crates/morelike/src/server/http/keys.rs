//! Key rotation: new keys for a store, answered once; the old ones stop
//! working at once (secret key or admin key).

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::ApiJson;
use crate::server::access::{Caller, IssuedKeys, Level, Rotate};
use crate::server::error::{ApiError, ErrorBody};
use crate::server::state::AppState;

/// Which keys to replace.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateRequest {
    /// `both` (default), `secret` (deployed widgets keep working) or `publishable`.
    #[serde(default)]
    pub keys: Rotate,
}

/// Replaces a store's keys and answers the new ones (shown once).
#[utoipa::path(post, path = "/v1/stores/{store}/keys/rotate", tag = "stores",
    params(("store" = String, Path, description = "The store")),
    security(("bearer" = [])),
    request_body(content = RotateRequest, description = "Which keys; an empty body rotates both"),
    responses(
        (status = 200, description = "The new keys; the old ones no longer work", body = IssuedKeys),
        (status = 404, description = "No such store", body = ErrorBody),
        (status = 503, description = "Storage cannot save changes right now (`storage_unavailable`); nothing changed", body = ErrorBody)))]
pub async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
    Path(store): Path<String>,
    ApiJson(req): ApiJson<RotateRequest>,
) -> Result<Json<IssuedKeys>, ApiError> {
    caller.require(Level::Merchant)?;
    if state.held(&store).is_err() && state.storage.settings(&store)?.is_none() {
        return Err(ApiError::UnknownStore(store));
    }
    // Through the store's writer: a rotation and an origins change both
    // rewrite the store's access record, and neither may undo the other.
    let writer = state.writer(&store).await;
    let task_state = state.clone();
    let name = store.clone();
    let keys = tokio::task::spawn_blocking(move || {
        let _writer = writer;
        task_state.access.issue(&name, req.keys)
    })
    .await??;
    tracing::info!(store = %store, which = ?req.keys, "keys rotated");
    Ok(Json(keys))
}

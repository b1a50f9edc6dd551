//! Liveness and readiness.

use axum::extract::State;

use crate::server::error::{ApiError, ErrorBody};
use crate::server::state::AppState;

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process is up", body = String)))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Ready to serve: not shutting down, and storage can write (so changes
/// are kept). The answer says why not (`not_ready`).
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Serving", body = String),
        (status = 503, description = "`not_ready`: shutting down, or storage cannot write (the message says why)", body = ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    if state.shutdown.is_cancelled() {
        return Err(ApiError::NotReady("the server is shutting down".into()));
    }
    if let Some(reason) = state.health.failing() {
        return Err(ApiError::NotReady(format!(
            "storage cannot write ({reason}); changes are refused until it can"
        )));
    }
    Ok("ready")
}

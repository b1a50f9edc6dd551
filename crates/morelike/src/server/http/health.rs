//! Liveness and readiness.

use axum::extract::State;
use axum::http::StatusCode;

use crate::server::state::AppState;

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process is up", body = String)))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Ready to serve: not shutting down, and storage can write (so changes
/// are kept). The answer says why not.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Serving", body = String),
        (status = 503, description = "Shutting down, or storage cannot write (the reason follows)", body = String)))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, String) {
    if state.shutdown.is_cancelled() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down".into());
    }
    if let Some(reason) = state.health.failing() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: storage cannot write ({reason}); changes are refused until it can"),
        );
    }
    (StatusCode::OK, "ready".into())
}

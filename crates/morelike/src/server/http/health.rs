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

/// The stores are loaded and the server is not shutting down.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Serving", body = String),
        (status = 503, description = "Shutting down", body = String)))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.shutdown.is_cancelled() {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down")
    } else {
        (StatusCode::OK, "ready")
    }
}

//! Limits applied to every HTTP request as middleware: the `Host` allow-list
//! (against DNS rebinding), a body announced over its limit, and the
//! request deadline.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::server::error::{ApiError, BodyLimits};
use crate::server::state::AppState;

/// Answers only requests whose `Host` is one of the server's names.
pub async fn host_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    if !state.access.hosts().allows(host) {
        let shown: String = host.unwrap_or("(none)").chars().take(100).collect();
        return ApiError::HostNotAllowed(format!(
            "this server does not answer to the host '{shown}': list it in allowed_hosts"
        ))
        .into_response();
    }
    next.run(req).await
}

/// Gives every request a deadline: `upload_timeout_secs` for catalog
/// uploads, `request_timeout_secs` for the rest; past it the answer is 408.
pub async fn deadline(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limits = &state.config.limits;
    let upload = BodyLimits::is_upload(req.method(), req.uri().path());
    // An upload's own body deadline answers first (with how far it got);
    // this one is the backstop.
    let secs = if upload {
        limits.upload_timeout_secs.saturating_add(5)
    } else {
        limits.request_timeout_secs
    };
    match tokio::time::timeout(Duration::from_secs(secs), next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout(format!(
            "the request was not done within {secs} s (request_timeout_secs / upload_timeout_secs)"
        ))
        .into_response(),
    }
}

/// Answers 413 at once when a request (other than a catalog upload, which
/// has its own limit and layer) announces a body over `max_body_bytes`,
/// instead of waiting for a body it will refuse.
pub async fn announced_body(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let upload = BodyLimits::is_upload(req.method(), req.uri().path());
    let limit = state.config.max_body_bytes;
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(length) = announced.filter(|&n| !upload && n > limit as u64) {
        return ApiError::BodyTooLarge(format!(
            "the request announces a body of {length} bytes; this call takes at most {limit} bytes (max_body_bytes)"
        ))
        .into_response();
    }
    next.run(req).await
}

//! CORS for browsers: preflights answered; a store's API is readable by the
//! pages its `allowed_origins` lists (and the server's own origin); the
//! widget script and the OpenAPI document by any page, so the one-tag embed
//! works from a shop's own domain.

use std::time::Duration;

use axum::http::request::Parts;
use axum::http::{header, HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::store_in_path;
use crate::server::state::AppState;

fn allowed(state: &AppState, origin: &HeaderValue, parts: &Parts) -> bool {
    let path = parts.uri.path();
    if path.starts_with("/widget/") || path == "/v1/openapi.json" || path == "/healthz" {
        return true;
    }
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    state
        .access
        .check_origin(store_in_path(path), origin, host)
        .is_ok()
}

/// The CORS layer over the whole router.
pub fn layer(state: AppState) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, parts| {
            allowed(&state, origin, parts)
        }))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([HeaderName::from_static("x-request-id"), header::RETRY_AFTER])
        .max_age(Duration::from_secs(600))
}

//! The WebSocket endpoint: checks the store, upgrades, and hands the socket
//! to [`crate::server::ws::serve`], tracked so shutdown can wait for it.

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::StreamExt;
use tracing::Instrument;

use crate::server::error::{ApiError, ErrorBody};
use crate::server::state::AppState;
use crate::server::ws::{self, Connection};

/// The transport's hard limit is this many times the protocol's frame limit,
/// so a frame over the protocol limit is still read and answered with
/// `frame_too_large` instead of killing the connection.
const TRANSPORT_HEADROOM: usize = 16;

/// Opens a WebSocket on a store (the protocol is in docs/PROTOCOL.md).
#[utoipa::path(get, path = "/v1/stores/{store}/ws", tag = "sessions",
    params(("store" = String, Path, description = "The store")),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol v1 (docs/PROTOCOL.md)"),
        (status = 404, description = "No such store", body = ErrorBody)))]
pub async fn upgrade(
    State(state): State<AppState>,
    Path(store): Path<String>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    state.store(&store)?;
    let transport = state
        .config
        .max_frame_bytes
        .saturating_mul(TRANSPORT_HEADROOM)
        .max(1 << 20);
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let span = tracing::info_span!("socket", %store, %request_id);
    let tracker = state.connections.clone();
    let shutdown = state.shutdown.clone();
    Ok(upgrade
        .max_message_size(transport)
        .max_frame_size(transport)
        .on_upgrade(move |socket| {
            tracker.track_future(
                async move {
                    tracing::debug!("connected");
                    let (sink, stream) = socket.split();
                    ws::serve(sink, stream, Connection::new(state, store), shutdown).await;
                    tracing::debug!("disconnected");
                }
                .instrument(span),
            )
        }))
}

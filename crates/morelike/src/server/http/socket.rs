//! The WebSocket endpoint: checks the caller (its key, from the `key` query
//! parameter or the `Authorization` header, its origin, its rate) and the
//! store, takes a place within the socket caps, upgrades, and hands the
//! socket to [`crate::server::ws::serve`], tracked so shutdown can wait.
//!
//! A browser cannot read the status of a refused upgrade, so when the
//! request carries an `Origin` (every browser's does) a refused key, origin
//! or store is answered inside the socket: one `error` frame with the code,
//! then a close frame (1008, the code as its reason).

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use tracing::Instrument;

use crate::server::access::{Caller, Level, Role};
use crate::server::error::{ApiError, ErrorBody};
use crate::server::limits::SocketRate;
use crate::server::protocol::{Reply, ReplyBody};
use crate::server::state::AppState;
use crate::server::ws::{self, Connection};

/// The transport's hard limit is this many times the protocol's frame limit,
/// so a frame over the protocol limit is still read and answered with
/// `frame_too_large` instead of killing the connection.
const TRANSPORT_HEADROOM: usize = 16;

/// Per-socket buffers: small, so an idle socket costs little memory.
const READ_BUFFER: usize = 8 * 1024;
const WRITE_BUFFER: usize = 8 * 1024;
/// Replies queued for a client that does not read, at most.
const MAX_WRITE_BUFFER: usize = 16 << 20;

/// Refusals a browser is told inside the socket (the rest are plain HTTP).
fn told_in_band(error: &ApiError) -> bool {
    matches!(
        error,
        ApiError::Unauthorized(_)
            | ApiError::Forbidden(_)
            | ApiError::OriginNotAllowed(_)
            | ApiError::UnknownStore(_)
    )
}

/// A key refusal on a socket opened without an `Authorization` header (the
/// widget's), told as what the page embedding the widget must change.
fn to_the_embedder(error: ApiError, store: &str) -> ApiError {
    let ApiError::Unauthorized(said) = &error else {
        return error;
    };
    let attribute = format!(
        "the page embedding the widget must give a current publishable key of store '{store}' in its \
         `key` attribute (`<morelike-recs store=\"{store}\" key=\"pk_…\">`, sent as the WebSocket's \
         `key` query parameter)"
    );
    ApiError::Unauthorized(if said.starts_with("unknown key") {
        format!(
            "unknown key for store '{store}' (mistyped, or rotated out): {attribute}; \
             the store's merchant has its keys (POST /v1/stores/{store}/keys/rotate issues new ones)"
        )
    } else {
        format!("store '{store}' needs its publishable key: {attribute}")
    })
}

fn refuse_in_band(upgrade: WebSocketUpgrade, error: ApiError) -> Response {
    let reply = Reply::new(None, ReplyBody::Error(error.body())).to_json();
    let code = error.code();
    tracing::debug!(code, "refused a socket in band");
    upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .on_upgrade(move |mut socket| async move {
            let _ = socket.send(Message::text(reply)).await;
            let _ = socket
                .send(Message::Close(Some(CloseFrame {
                    code: 1008,
                    reason: code.into(),
                })))
                .await;
        })
}

/// Opens a WebSocket on a store (the protocol is in docs/PROTOCOL.md).
#[utoipa::path(get, path = "/v1/stores/{store}/ws", tag = "sessions",
    params(("store" = String, Path, description = "The store"),
        ("key" = Option<String>, Query, description = "The publishable key (browsers cannot send headers on a WebSocket)")),
    security(("bearer" = [])),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol v1 (docs/PROTOCOL.md)"),
        (status = 400, description = "Not a WebSocket upgrade request", body = ErrorBody),
        (status = 404, description = "No such store", body = ErrorBody)))]
pub async fn upgrade(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Path(store): Path<String>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let upgrade = upgrade.map_err(|e| {
        ApiError::NotAWebSocket(format!(
            "{}: open this route with a WebSocket client",
            e.body_text()
        ))
    })?;
    let checked = match caller.and_then(|caller| caller.require(Level::Shopper).map(|()| caller)) {
        Ok(caller) => state.store(&store).await.map(|_| caller),
        // A browser's socket carries its key from the embed's `key`
        // attribute: the refusal speaks to the merchant who wrote it.
        Err(error) if !headers.contains_key(header::AUTHORIZATION) => {
            Err(to_the_embedder(error, &store))
        }
        Err(error) => Err(error),
    };
    let caller = match checked {
        Ok(caller) => caller,
        Err(error) if told_in_band(&error) && headers.contains_key(header::ORIGIN) => {
            return Ok(refuse_in_band(upgrade, error));
        }
        Err(error) => return Err(error),
    };
    let permit = state.limits.open_socket(caller.address)?;
    let key = match caller.role {
        Role::Secret => Some((store.clone(), "secret")),
        Role::Publishable => Some((store.clone(), "publishable")),
        Role::Admin | Role::Anonymous => None,
    };
    let rate = SocketRate::new(
        state.limits.clone(),
        key,
        caller.limited_address(),
        state.config.limits.messages_per_sec_per_socket,
    );
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
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .max_message_size(transport)
        .max_frame_size(transport)
        .on_upgrade(move |socket| {
            tracker.track_future(
                async move {
                    let _permit = permit;
                    tracing::debug!("connected");
                    let (sink, stream) = socket.split();
                    let connection = Connection::new(state, store).with_rate(rate);
                    ws::serve(sink, stream, connection, shutdown).await;
                    tracing::debug!("disconnected");
                }
                .instrument(span),
            )
        })
        .into_response())
}

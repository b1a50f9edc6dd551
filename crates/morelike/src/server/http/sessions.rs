//! The HTTP equivalent of every WebSocket session call, for clients that
//! cannot hold a socket: the same session service, the same page.

use std::time::Instant;

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{ApiJson, ApiQuery};
use crate::server::access::{Caller, Level};
use crate::server::error::{ApiError, ErrorBody};
use crate::server::protocol::{
    ClickBody, ClickRequest, ExplanationBody, PageBody, StartRequest, VoteRequest,
};
use crate::server::state::{AppState, Store};

/// The page with its server time, counted in the store's events.
fn timed(state: &AppState, store: &Store, started: Instant, mut page: PageBody) -> Json<PageBody> {
    page.took_us = started.elapsed().as_micros() as u64;
    state.sessions.served(store, &page);
    Json(page)
}

/// Starts a session from a seed product and serves its first page.
#[utoipa::path(post, path = "/v1/stores/{store}/sessions", tag = "sessions",
    params(("store" = String, Path, description = "The store")),
    security(("bearer" = [])),
    request_body = StartRequest,
    responses(
        (status = 200, description = "The first page; keep `session`", body = PageBody),
        (status = 400, description = "A field is missing or wrong, or a filter names an unknown field", body = ErrorBody),
        (status = 404, description = "No such store, or the seed is not in it", body = ErrorBody),
        (status = 503, description = "Storage cannot save changes right now (`storage_unavailable`), or the node's compute queue is full (`overloaded`, with Retry-After); nothing changed", body = ErrorBody)))]
pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Path(store): Path<String>,
    ApiJson(req): ApiJson<StartRequest>,
) -> Result<Json<PageBody>, ApiError> {
    caller.require(Level::Shopper)?;
    let started = Instant::now();
    let store = state.store(&store).await?;
    state
        .limits
        .rates
        .check_session_start(&store.name, caller.limited_address())?;
    let page = state.sessions.start(&store, req).await?;
    Ok(timed(&state, &store, started, page))
}

/// The last page a session showed (to resume it), scored as the session stands.
#[utoipa::path(get, path = "/v1/stores/{store}/sessions/{session}", tag = "sessions",
    params(("store" = String, Path, description = "The store"), ("session" = String, Path, description = "The session id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The last page, with `resumed: true`", body = PageBody),
        (status = 404, description = "No such store or session (unknown or expired)", body = ErrorBody)))]
pub async fn resume(
    State(state): State<AppState>,
    caller: Caller,
    Path((store, session)): Path<(String, String)>,
) -> Result<Json<PageBody>, ApiError> {
    caller.require(Level::Shopper)?;
    let started = Instant::now();
    let store = state.store(&store).await?;
    let page = state.sessions.resume(&store, &session)?;
    Ok(timed(&state, &store, started, page))
}

/// Records one or several votes and serves the next page.
#[utoipa::path(post, path = "/v1/stores/{store}/sessions/{session}/votes", tag = "sessions",
    params(("store" = String, Path, description = "The store"), ("session" = String, Path, description = "The session id")),
    security(("bearer" = [])),
    request_body = VoteRequest,
    responses(
        (status = 200, description = "The next page; unknown products are listed in `skipped`", body = PageBody),
        (status = 400, description = "A field is missing or wrong", body = ErrorBody),
        (status = 404, description = "No such store or session, or no voted product is in the store", body = ErrorBody),
        (status = 503, description = "Storage cannot save changes right now (`storage_unavailable`), or the node's compute queue is full (`overloaded`, with Retry-After); nothing changed", body = ErrorBody)))]
pub async fn vote(
    State(state): State<AppState>,
    caller: Caller,
    Path((store, session)): Path<(String, String)>,
    ApiJson(req): ApiJson<VoteRequest>,
) -> Result<Json<PageBody>, ApiError> {
    caller.require(Level::Shopper)?;
    let votes = req.into_votes()?;
    let started = Instant::now();
    let store = state.store(&store).await?;
    let page = state.sessions.vote(&store, &session, votes).await?;
    Ok(timed(&state, &store, started, page))
}

/// Serves the next page without votes.
#[utoipa::path(post, path = "/v1/stores/{store}/sessions/{session}/more", tag = "sessions",
    params(("store" = String, Path, description = "The store"), ("session" = String, Path, description = "The session id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The next page", body = PageBody),
        (status = 404, description = "No such store or session", body = ErrorBody),
        (status = 503, description = "Storage cannot save changes right now (`storage_unavailable`), or the node's compute queue is full (`overloaded`, with Retry-After); nothing changed", body = ErrorBody)))]
pub async fn more(
    State(state): State<AppState>,
    caller: Caller,
    Path((store, session)): Path<(String, String)>,
) -> Result<Json<PageBody>, ApiError> {
    caller.require(Level::Shopper)?;
    let started = Instant::now();
    let store = state.store(&store).await?;
    let page = state.sessions.more(&store, &session).await?;
    Ok(timed(&state, &store, started, page))
}

/// Which votes an undo takes back.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UndoParams {
    /// Every vote on this product, whatever its round; without it, the
    /// latest round's votes.
    pub product: Option<String>,
}

/// Takes back the latest round's votes (or every vote on `product`) and
/// serves a page without them.
#[utoipa::path(post, path = "/v1/stores/{store}/sessions/{session}/undo", tag = "sessions",
    params(("store" = String, Path, description = "The store"), ("session" = String, Path, description = "The session id"), UndoParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The next page", body = PageBody),
        (status = 404, description = "No such store or session", body = ErrorBody),
        (status = 409, description = "There is no vote to undo (on `product`, when given)", body = ErrorBody),
        (status = 503, description = "Storage cannot save changes right now (`storage_unavailable`), or the node's compute queue is full (`overloaded`, with Retry-After); nothing changed", body = ErrorBody)))]
pub async fn undo(
    State(state): State<AppState>,
    caller: Caller,
    Path((store, session)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<UndoParams>,
) -> Result<Json<PageBody>, ApiError> {
    caller.require(Level::Shopper)?;
    let started = Instant::now();
    let store = state.store(&store).await?;
    let page = state
        .sessions
        .undo(&store, &session, params.product.as_deref())
        .await?;
    Ok(timed(&state, &store, started, page))
}

/// Forgets every vote and everything shown; serves the first page again.
#[utoipa::path(post, path = "/v1/stores/{store}/sessions/{session}/reset", tag = "sessions",
    params(("store" = String, Path, description = "The store"), ("session" = String, Path, description = "The session id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The first page", body = PageBody),
        (status = 404, description = "No such store or session", body = ErrorBody),
        (status = 503, description = "Storage cannot save changes right now (`storage_unavailable`), or the node's compute queue is full (`overloaded`, with Retry-After); nothing changed", body = ErrorBody)))]
pub async fn reset(
    State(state): State<AppState>,
    caller: Caller,
    Path((store, session)): Path<(String, String)>,
) -> Result<Json<PageBody>, ApiError> {
    caller.require(Level::Shopper)?;
    let started = Instant::now();
    let store = state.store(&store).await?;
    let page = state.sessions.reset(&store, &session).await?;
    Ok(timed(&state, &store, started, page))
}

/// Why a product scores as it does in this session: per view and per vote.
#[utoipa::path(get, path = "/v1/stores/{store}/sessions/{session}/explain/{product}", tag = "sessions",
    params(("store" = String, Path, description = "The store"), ("session" = String, Path, description = "The session id"),
        ("product" = String, Path, description = "The product to explain")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The explanation", body = ExplanationBody),
        (status = 404, description = "No such store, session or product", body = ErrorBody)))]
pub async fn explain(
    State(state): State<AppState>,
    caller: Caller,
    Path((store, session, product)): Path<(String, String, String)>,
) -> Result<Json<ExplanationBody>, ApiError> {
    caller.require(Level::Shopper)?;
    let store = state.store(&store).await?;
    Ok(Json(
        state.sessions.explain(&store, &session, &product).await?,
    ))
}

/// Counts a click: the shopper opened a product this session showed (the
/// widget sends it when a card's link is followed). The session does not change.
#[utoipa::path(post, path = "/v1/stores/{store}/sessions/{session}/clicks", tag = "sessions",
    params(("store" = String, Path, description = "The store"), ("session" = String, Path, description = "The session id")),
    security(("bearer" = [])),
    request_body = ClickRequest,
    responses(
        (status = 200, description = "Counted", body = ClickBody),
        (status = 400, description = "A field is missing or wrong", body = ErrorBody),
        (status = 404, description = "No such store or session", body = ErrorBody),
        (status = 409, description = "The session never showed this product (`not_shown`); nothing was counted", body = ErrorBody)))]
pub async fn click(
    State(state): State<AppState>,
    caller: Caller,
    Path((store, session)): Path<(String, String)>,
    ApiJson(req): ApiJson<ClickRequest>,
) -> Result<Json<ClickBody>, ApiError> {
    caller.require(Level::Shopper)?;
    let store = state.store(&store).await?;
    Ok(Json(state.sessions.click(
        &store,
        &session,
        &req.product,
    )?))
}

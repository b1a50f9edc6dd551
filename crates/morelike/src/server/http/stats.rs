//! What shoppers did in a store (secret key): `GET …/stats`, totals, page
//! times and a per-minute series; and the node's Prometheus metrics
//! (admin key): `GET /metrics`.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use super::ApiQuery;
use crate::server::access::{Caller, Level};
use crate::server::error::{ApiError, ErrorBody};
use crate::server::limits::counters;
use crate::server::state::AppState;
use crate::server::stats::report::{self, StatsBody};
use crate::server::stats::{now_minute, prometheus, KEEP_MINUTES};
use crate::store::EventBucket;

/// Minutes in the series when the request does not say.
const DEFAULT_MINUTES: u64 = 60;

/// How much of the series to answer.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// Minutes in the series, ending with the current one (1–1440; 60 when left out).
    pub minutes: Option<u64>,
}

/// A store's events: sessions, pages, products shown, votes, clicks, the
/// upvote and click-through rates, page times (p50/p90/p99 and a
/// histogram), in total and minute by minute.
#[utoipa::path(get, path = "/v1/stores/{store}/stats", tag = "stats",
    params(("store" = String, Path, description = "The store"), StatsParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Totals, page times and one entry per minute, oldest first", body = StatsBody),
        (status = 400, description = "`minutes` is not 1–1440", body = ErrorBody),
        (status = 404, description = "No such store", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(store): Path<String>,
    ApiQuery(params): ApiQuery<StatsParams>,
) -> Result<Json<StatsBody>, ApiError> {
    caller.require(Level::Merchant)?;
    let minutes = params.minutes.unwrap_or(DEFAULT_MINUTES);
    if !(1..=KEEP_MINUTES).contains(&minutes) {
        return Err(ApiError::field(
            "minutes",
            format!("{minutes} is not from 1 to {KEEP_MINUTES}"),
        ));
    }
    if state.held(&store).is_err()
        && (!state.config.serves(&store) || state.storage.settings(&store)?.is_none())
    {
        return Err(ApiError::UnknownStore(store));
    }
    let current = now_minute();
    let first = current.saturating_sub(minutes - 1);
    let (total, series) = match state.stats.get(&store) {
        Some(stats) => (stats.total(), stats.minutes(first, current)),
        None => (EventBucket::default(), Vec::new()),
    };
    Ok(Json(report::body(
        &store, &total, &series, current, minutes,
    )))
}

/// The node's metrics in the Prometheus text format: each store's events
/// and page-time histogram (label `store`), refusals by code, open
/// sockets, stores in memory and the memory they hold.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    security(("bearer" = [])),
    responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String)))]
pub async fn metrics(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(Level::Operator)?;
    let stores: Vec<(String, EventBucket)> = state
        .stats
        .all()
        .into_iter()
        .map(|(name, stats)| (name, stats.total()))
        .collect();
    let node = prometheus::Node {
        open_sockets: state.limits.open_sockets(),
        stores_in_memory: state.stores.read().unwrap_or_else(|e| e.into_inner()).len(),
        held_bytes: state.held_bytes(),
        memory_budget: state.config.memory_budget,
    };
    let text = prometheus::render(&stores, &counters::snapshot(), &node);
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    ))
}

//! A store's settings: its view weights, the strategy its pages are served
//! with, the browser origins allowed to call it, and the precision of its
//! index (secret key). All apply live, through the store's writer: weights
//! live in the query (the index is untouched), a new strategy keeps the
//! catalog, origins are read from storage on every call, and a new
//! precision re-encodes the index on the CPU pool while the old one serves.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::Json;
use morelike_core::{strategy, Precision};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiJson;
use crate::server::access::{origins, Caller, Level};
use crate::server::error::{ApiError, ErrorBody};
use crate::server::state::{AppState, Store};

/// A store's settings as they stand.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsBody {
    /// The weight of each view, by view name.
    pub weights: BTreeMap<String, f32>,
    /// The strategy pages are served with.
    pub strategy: String,
    /// Every strategy this build offers.
    pub strategies: Vec<&'static str>,
    /// Browser origins allowed to call the store besides the server's own
    /// (`https://shop.example`, `http://localhost:*`).
    pub allowed_origins: Vec<String>,
    /// How the index stores its vectors: `i8` (the default: a quarter of
    /// the memory, pages nearly always equal) or `f32` (exact).
    #[schema(value_type = PrecisionName)]
    pub precision: Precision,
}

/// How a store's index holds its vectors.
// The API document's picture of `Precision` (serialized the same way).
#[derive(Serialize, ToSchema)]
#[schema(as = Precision)]
#[serde(rename_all = "lowercase")]
pub enum PrecisionName {
    /// 32-bit floats: exact, four times the memory of `i8`.
    F32,
    /// 8-bit integers with a scale per view (the default).
    I8,
}

/// A change to a store's settings; what is left out stays as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsChange {
    /// New weights for some views (finite, ≥ 0), by view name.
    #[serde(default)]
    pub weights: Option<BTreeMap<String, f32>>,
    /// A strategy by name (see `strategies`).
    #[serde(default)]
    pub strategy: Option<String>,
    /// The whole list of allowed browser origins (replaces the old one; at
    /// most 32; `scheme://host[:port]`, port `*` for any).
    #[serde(default)]
    pub allowed_origins: Option<Vec<String>>,
    /// `f32` or `i8`: a new one re-encodes the index from the stored
    /// products on the CPU pool (pages are served by the old index until
    /// the new one is in; the answer comes once it is).
    #[serde(default)]
    #[schema(value_type = Option<PrecisionName>)]
    pub precision: Option<Precision>,
}

fn body(state: &AppState, store: &Store) -> Result<SettingsBody, ApiError> {
    Ok(SettingsBody {
        weights: store.read().weights_by_name(),
        strategy: store.settings.strategy.clone(),
        strategies: strategy::names(),
        allowed_origins: state.access.allowed_origins(&store.name)?,
        precision: store.settings.precision,
    })
}

/// The store's view weights, strategy, allowed origins and precision (secret key).
#[utoipa::path(get, path = "/v1/stores/{store}/settings", tag = "stores",
    params(("store" = String, Path, description = "The store")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The settings", body = SettingsBody),
        (status = 404, description = "No such store", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(store): Path<String>,
) -> Result<Json<SettingsBody>, ApiError> {
    caller.require(Level::Merchant)?;
    let store = state.store(&store).await?;
    Ok(Json(body(&state, &store)?))
}

/// Changes view weights (live, for the very next page), the strategy, the
/// allowed origins and the precision of the index (secret key).
#[utoipa::path(patch, path = "/v1/stores/{store}/settings", tag = "stores",
    params(("store" = String, Path, description = "The store")),
    security(("bearer" = [])),
    request_body = SettingsChange,
    responses(
        (status = 200, description = "The settings as they now are", body = SettingsBody),
        (status = 400, description = "An unknown view, strategy or precision, a weight below 0, or a malformed origin; nothing changed", body = ErrorBody),
        (status = 404, description = "No such store", body = ErrorBody),
        (status = 503, description = "Storage cannot save changes right now (`storage_unavailable`); nothing changed", body = ErrorBody)))]
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(change): ApiJson<SettingsChange>,
) -> Result<Json<SettingsBody>, ApiError> {
    caller.require(Level::Merchant)?;
    state.store(&name).await?;
    if let Some(list) = &change.allowed_origins {
        origins::parse_list(list)
            .map_err(|(i, reason)| ApiError::field(format!("allowed_origins[{i}]"), reason))?;
    }
    let writer = state.writer(&name).await;
    let weights = change.weights.unwrap_or_default();
    let store = tokio::task::spawn_blocking(move || {
        writer.change_settings(
            &weights,
            change.strategy.as_deref(),
            change.allowed_origins.as_deref(),
            change.precision,
        )
    })
    .await??;
    Ok(Json(body(&state, &store)?))
}

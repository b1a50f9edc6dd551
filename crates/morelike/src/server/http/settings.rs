//! A store's settings: its view weights and the strategy its pages are
//! served with. Both apply live, through the store's writer: weights live
//! in the query (the index is untouched), and a new strategy keeps the
//! catalog.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::Json;
use morelike_core::strategy;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiJson;
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
}

fn body(store: &Store) -> SettingsBody {
    SettingsBody {
        weights: store.read().weights_by_name(),
        strategy: store.settings.strategy.clone(),
        strategies: strategy::names(),
    }
}

/// The store's view weights and strategy.
#[utoipa::path(get, path = "/v1/stores/{store}/settings", tag = "stores",
    params(("store" = String, Path, description = "The store")),
    responses(
        (status = 200, description = "The settings", body = SettingsBody),
        (status = 404, description = "No such store", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(store): Path<String>,
) -> Result<Json<SettingsBody>, ApiError> {
    let store = state.store(&store)?;
    Ok(Json(body(&store)))
}

/// Changes view weights (live, for the very next page) and the strategy.
#[utoipa::path(patch, path = "/v1/stores/{store}/settings", tag = "stores",
    params(("store" = String, Path, description = "The store")),
    request_body = SettingsChange,
    responses(
        (status = 200, description = "The settings as they now are", body = SettingsBody),
        (status = 400, description = "An unknown view or strategy, or a weight below 0; nothing changed", body = ErrorBody),
        (status = 404, description = "No such store", body = ErrorBody),
        (status = 503, description = "Storage cannot save changes right now (`storage_unavailable`); nothing changed", body = ErrorBody)))]
pub async fn patch(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiJson(change): ApiJson<SettingsChange>,
) -> Result<Json<SettingsBody>, ApiError> {
    state.store(&name)?;
    let writer = state.writer(&name).await;
    let weights = change.weights.unwrap_or_default();
    let store = tokio::task::spawn_blocking(move || {
        writer.change_settings(&weights, change.strategy.as_deref())
    })
    .await??;
    Ok(Json(body(&store)))
}

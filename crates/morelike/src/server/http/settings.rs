//! A store's settings: its view weights and the strategy its pages are
//! served with. Weights apply live (the index is untouched: weights live in
//! the query); a new strategy reloads the store from storage.

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
        (status = 404, description = "No such store", body = ErrorBody)))]
pub async fn patch(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiJson(change): ApiJson<SettingsChange>,
) -> Result<Json<SettingsBody>, ApiError> {
    let store = state.store(&name)?;
    if let Some(wanted) = &change.strategy {
        if strategy::by_name(wanted).is_none() {
            return Err(ApiError::field(
                "strategy",
                format!(
                    "no strategy '{wanted}'; choose one of {}",
                    strategy::names().join(", ")
                ),
            ));
        }
    }
    let weights = change.weights.unwrap_or_default();
    // Checked and applied at once; on an error nothing changes.
    store.write(|catalog| catalog.set_weights(&weights))?;
    let task_state = state.clone();
    let body = tokio::task::spawn_blocking(move || {
        let storage = task_state.storage.as_ref();
        let mut settings = storage
            .settings(&name)?
            .ok_or_else(|| ApiError::UnknownStore(name.clone()))?;
        settings.weights.extend(weights);
        let new_strategy = change.strategy.filter(|s| *s != settings.strategy);
        if let Some(s) = &new_strategy {
            settings.strategy = s.clone();
        }
        storage.put_settings(&name, &settings)?;
        if new_strategy.is_some() {
            let reloaded = Store::load(storage, &name)?;
            let body = body(&reloaded);
            task_state.replace(reloaded);
            return Ok::<_, ApiError>(body);
        }
        let store = task_state.store(&name)?;
        Ok(body(&store))
    })
    .await??;
    Ok(Json(body))
}

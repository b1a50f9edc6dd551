//! A store's settings: its view weights, the strategy its pages are served
//! with, and the browser origins allowed to call it (secret key). Weights
//! apply live (the index is untouched: weights live in the query); a new
//! strategy reloads the store from storage.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::Json;
use morelike_core::strategy;
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
}

fn body(state: &AppState, store: &Store) -> Result<SettingsBody, ApiError> {
    Ok(SettingsBody {
        weights: store.read().weights_by_name(),
        strategy: store.settings.strategy.clone(),
        strategies: strategy::names(),
        allowed_origins: state.access.allowed_origins(&store.name)?,
    })
}

/// The store's view weights, strategy and allowed origins (secret key).
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
    let store = state.store(&store)?;
    Ok(Json(body(&state, &store)?))
}

/// Changes view weights (live, for the very next page), the strategy and
/// the allowed origins (secret key).
#[utoipa::path(patch, path = "/v1/stores/{store}/settings", tag = "stores",
    params(("store" = String, Path, description = "The store")),
    security(("bearer" = [])),
    request_body = SettingsChange,
    responses(
        (status = 200, description = "The settings as they now are", body = SettingsBody),
        (status = 400, description = "An unknown view or strategy, a weight below 0, or a malformed origin; nothing changed", body = ErrorBody),
        (status = 404, description = "No such store", body = ErrorBody)))]
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(change): ApiJson<SettingsChange>,
) -> Result<Json<SettingsBody>, ApiError> {
    caller.require(Level::Merchant)?;
    let store = state.store(&name)?;
    if let Some(list) = &change.allowed_origins {
        origins::parse_list(list)
            .map_err(|(i, reason)| ApiError::field(format!("allowed_origins[{i}]"), reason))?;
    }
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
        if let Some(list) = &change.allowed_origins {
            task_state.access.set_allowed_origins(&name, list)?;
        }
        if new_strategy.is_some() {
            let reloaded = Store::load(storage, &name)?;
            let body = body(&task_state, &reloaded)?;
            task_state.replace(reloaded);
            return Ok::<_, ApiError>(body);
        }
        let store = task_state.store(&name)?;
        body(&task_state, &store)
    })
    .await??;
    Ok(Json(body))
}

//! Stores: list them (admin), create one (admin; its keys are answered
//! once) or change its mapping (secret key) from a column mapping in TOML,
//! as `morelike import --mapping` reads it, and delete one (admin).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use morelike_core::Mapping;
use serde::Serialize;
use utoipa::ToSchema;

use crate::server::access::{Caller, IssuedKeys, Level, Rotate};
use crate::server::error::{ApiError, ErrorBody};
use crate::server::state::AppState;

/// A store, in a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoreSummary {
    /// The store's name.
    pub name: String,
    /// Whether its catalog is in this node's memory now (stores load on
    /// their first call and the least recently used leave memory past
    /// `memory_budget`).
    pub loaded: bool,
    /// How many products it holds (when loaded).
    pub products: Option<usize>,
    /// The memory its catalog takes, estimated, in bytes (when loaded).
    pub memory_bytes: Option<u64>,
    /// The strategy its pages are served with.
    pub strategy: String,
}

/// A store as `PUT` leaves it; a new store's keys come once, here.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoreBody {
    /// The store's name.
    pub name: String,
    /// How many products it holds.
    pub products: usize,
    /// The strategy its pages are served with.
    pub strategy: String,
    /// A new store's secret key (shown once; only its hash is kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<String>,
    /// A new store's publishable key (shown once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publishable_key: Option<String>,
}

/// Every store on this node (admin key).
#[utoipa::path(get, path = "/v1/stores", tag = "stores",
    security(("bearer" = [])),
    responses((status = 200, description = "The stores this node serves, each with whether it is in memory and its size", body = Vec<StoreSummary>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<StoreSummary>>, ApiError> {
    caller.require(Level::Operator)?;
    let summaries = tokio::task::spawn_blocking(move || {
        let mut summaries = Vec::new();
        for name in state.storage.stores()? {
            if !state.config.serves(&name) {
                continue;
            }
            // Listing is not a use: it leaves the eviction order alone.
            let held = state
                .stores
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .get(&name)
                .cloned();
            let summary = match held {
                Some(store) => StoreSummary {
                    loaded: true,
                    products: Some(store.read().len()),
                    memory_bytes: Some(store.bytes()),
                    strategy: store.settings.strategy.clone(),
                    name,
                },
                None => match state.storage.settings(&name)? {
                    Some(settings) => StoreSummary {
                        loaded: false,
                        products: None,
                        memory_bytes: None,
                        strategy: settings.strategy,
                        name,
                    },
                    None => continue,
                },
            };
            summaries.push(summary);
        }
        Ok::<_, ApiError>(summaries)
    })
    .await??;
    Ok(Json(summaries))
}

fn exists(state: &AppState, name: &str) -> Result<bool, ApiError> {
    Ok(state.held(name).is_ok() || state.storage.settings(name)?.is_some())
}

/// Creates a store (admin key; its keys are answered once), or changes its
/// mapping (secret key; its catalog is rebuilt; views that keep their name
/// keep their weights).
#[utoipa::path(put, path = "/v1/stores/{store}", tag = "stores",
    params(("store" = String, Path, description = "The store")),
    security(("bearer" = [])),
    request_body(description = "The column mapping (TOML), as examples/fashion.toml; any content type",
        content((String = "application/toml"), (String = "text/plain"))),
    responses(
        (status = 200, description = "The store as it now is; a new store's keys, once", body = StoreBody),
        (status = 409, description = "The node holds its most stores", body = ErrorBody),
        (status = 422, description = "The mapping cannot be used (a view that none of the stored products has a value of its kind for, though they hold other values in its columns, included), or is too large; the message says why; nothing changed", body = ErrorBody),
        (status = 503, description = "Storage cannot save changes right now (`storage_unavailable`); nothing changed", body = ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: String,
) -> Result<Json<StoreBody>, ApiError> {
    let creating = !exists(&state, &name)?;
    caller.require(if creating {
        Level::Operator
    } else {
        Level::Merchant
    })?;
    if creating && state.storage.stores()?.len() >= state.config.limits.max_stores {
        return Err(ApiError::TooManyStores(state.config.limits.max_stores));
    }
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ApiError::field(
            "store",
            "use 1 to 64 letters, digits, '-' or '_'",
        ));
    }
    let mapping = Mapping::from_toml(&body).map_err(|e| ApiError::BadMapping(e.to_string()))?;
    // Checked before anything is stored: a mapping whose index cannot fit
    // must never reach the disk (it would fail every start after).
    state
        .config
        .limits
        .check_mapping(&mapping)
        .map_err(ApiError::MappingTooLarge)?;
    if !mapping.lookups.is_empty() {
        return Err(ApiError::BadMapping(
            "lookup tables cannot be sent over HTTP: join them into the catalog, or use `morelike import`".into(),
        ));
    }
    let writer = state.writer(&name).await;
    let task_state = state.clone();
    let (store, keys) = tokio::task::spawn_blocking(move || {
        // Asked again under the writer: the store may have been created or
        // deleted while this call waited for its turn.
        let creating = !exists(&task_state, &name)?;
        if creating {
            caller.require(Level::Operator)?;
        }
        let store = writer.put_mapping(mapping)?;
        let keys = if creating {
            task_state.access.issue(&name, Rotate::Both)?
        } else {
            IssuedKeys::default()
        };
        Ok::<_, ApiError>((store, keys))
    })
    .await??;
    if keys.secret_key.is_some() {
        tracing::info!(store = %store.name, "store created");
    }
    let products = store.read().len();
    Ok(Json(StoreBody {
        name: store.name.clone(),
        products,
        strategy: store.settings.strategy.clone(),
        secret_key: keys.secret_key,
        publishable_key: keys.publishable_key,
    }))
}

/// Deletes a store and everything in it: products, settings, keys,
/// sessions (admin key).
#[utoipa::path(delete, path = "/v1/stores/{store}", tag = "stores",
    params(("store" = String, Path, description = "The store")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such store", body = ErrorBody),
        (status = 503, description = "Storage cannot save changes right now (`storage_unavailable`); nothing changed", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(Level::Operator)?;
    let writer = state.writer(&name).await;
    tokio::task::spawn_blocking(move || writer.delete_store()).await??;
    Ok(StatusCode::NO_CONTENT)
}

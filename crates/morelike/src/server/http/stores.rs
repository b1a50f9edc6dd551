//! Stores: list them, and create one (or change its mapping) from a column
//! mapping in TOML, as `morelike import --mapping` reads it.

use axum::extract::{Path, State};
use axum::Json;
use morelike_core::Mapping;
use serde::Serialize;
use utoipa::ToSchema;

use crate::server::error::{ApiError, ErrorBody};
use crate::server::state::AppState;

/// A store, in a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoreSummary {
    /// The store's name.
    pub name: String,
    /// How many products it holds.
    pub products: usize,
    /// The strategy its pages are served with.
    pub strategy: String,
}

/// Every store on this node.
#[utoipa::path(get, path = "/v1/stores", tag = "stores",
    responses((status = 200, description = "The stores", body = Vec<StoreSummary>)))]
pub async fn list(State(state): State<AppState>) -> Json<Vec<StoreSummary>> {
    let summaries = state
        .store_names()
        .into_iter()
        .filter_map(|name| {
            let store = state.store(&name).ok()?;
            let products = store.read().len();
            Some(StoreSummary {
                name,
                products,
                strategy: store.settings.strategy.clone(),
            })
        })
        .collect();
    Json(summaries)
}

/// Creates a store, or changes its mapping (its catalog is rebuilt).
#[utoipa::path(put, path = "/v1/stores/{store}", tag = "stores",
    params(("store" = String, Path, description = "The store")),
    request_body(content = String, description = "The column mapping (TOML), as examples/fashion.toml", content_type = "application/toml"),
    responses(
        (status = 200, description = "The store as it now is", body = StoreSummary),
        (status = 422, description = "The mapping cannot be used; the message says why", body = ErrorBody),
        (status = 503, description = "Storage cannot save changes right now (`storage_unavailable`); nothing changed", body = ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: String,
) -> Result<Json<StoreSummary>, ApiError> {
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
    if !mapping.lookups.is_empty() {
        return Err(ApiError::BadMapping(
            "lookup tables cannot be sent over HTTP: join them into the catalog, or use `morelike import`".into(),
        ));
    }
    let writer = state.writer(&name).await;
    let store = tokio::task::spawn_blocking(move || writer.put_mapping(mapping)).await??;
    let products = store.read().len();
    Ok(Json(StoreSummary {
        name,
        products,
        strategy: store.settings.strategy.clone(),
    }))
}

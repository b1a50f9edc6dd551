//! Products: bulk upsert (CSV, JSON Lines, JSON — the CLI's importer and
//! per-row report, the body streamed through it), get, delete, search by
//! name, and the products most similar to one.

use std::future::Future;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use futures_util::TryStreamExt;
use morelike_core::{Card, Filters, Format, Product};
use serde::{Deserialize, Serialize};
use tokio_util::io::{StreamReader, SyncIoBridge};
use utoipa::{IntoParams, ToSchema};

use super::ApiQuery;
use crate::catalogs;
use crate::server::access::{Caller, Level};
use crate::server::error::{ApiError, ErrorBody};
use crate::server::protocol::{PageItem, DEFAULT_K};
use crate::server::state::AppState;
use crate::store::StorageError;

/// How the upload is encoded, when the Content-Type does not say.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// `csv`, `jsonl` or `json`; else taken from the Content-Type
    /// (`text/csv`, `application/x-ndjson`, `application/json`).
    pub format: Option<String>,
}

/// What an upload did: the per-row report and the counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadReport {
    /// The importer's account: rows, imported, repaired, rejected, errors
    /// (line, field, reason), warnings.
    #[schema(value_type = Object)]
    #[serde(flatten)]
    pub report: morelike_core::import::ImportReport,
    /// Products that are new.
    pub added: usize,
    /// Products that existed and changed.
    pub updated: usize,
    /// Products that existed unchanged.
    pub unchanged: usize,
}

fn format_of(params: &UploadParams, headers: &HeaderMap) -> Result<Format, ApiError> {
    if let Some(name) = &params.format {
        return Format::from_file_name(&format!("x.{name}")).ok_or_else(|| {
            ApiError::field("format", format!("'{name}' is not csv, jsonl or json"))
        });
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    match essence {
        "text/csv" => Ok(Format::Csv),
        "application/x-ndjson" | "application/jsonl" | "application/json-lines" => Ok(Format::Jsonl),
        "application/json" => Ok(Format::Json),
        _ => Err(ApiError::field(
            "format",
            format!("cannot tell the format from Content-Type '{content_type}': send text/csv, application/x-ndjson or application/json, or ?format=csv|jsonl|json"),
        )),
    }
}

/// Remembers the first read error (a body that broke off or went over the limit).
struct Watched<R> {
    inner: R,
    failure: Arc<Mutex<Option<String>>>,
}

impl<R: Read> Read for Watched<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            self.failure
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_or_insert_with(|| e.to_string());
        })
    }
}

const TOO_SLOW: &str = "the upload took longer than";

/// A body stream that fails once `limit` has passed, so a stalled upload
/// ends (and gives back its place) instead of holding a thread.
fn within<S>(
    stream: S,
    limit: Duration,
) -> impl futures_util::Stream<Item = std::io::Result<axum::body::Bytes>>
where
    S: futures_util::Stream<Item = std::io::Result<axum::body::Bytes>> + Unpin,
{
    let mut stream = stream;
    let mut deadline = Box::pin(tokio::time::sleep(limit));
    futures_util::stream::poll_fn(move |cx| {
        if deadline.as_mut().poll(cx).is_ready() {
            return std::task::Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("{TOO_SLOW} {} s (upload_timeout_secs)", limit.as_secs()),
            ))));
        }
        futures_util::StreamExt::poll_next_unpin(&mut stream, cx)
    })
}

/// Upserts products from a catalog file, with the store's mapping (secret key).
#[utoipa::path(post, path = "/v1/stores/{store}/products", tag = "products",
    params(("store" = String, Path, description = "The store"), UploadParams),
    security(("bearer" = [])),
    request_body(content = String, description = "The catalog: CSV with a header row, JSON Lines, or a JSON array",
        content_type = "text/csv"),
    responses(
        (status = 200, description = "Imported; bad rows (a field over its size limit, a number that does not fit) are listed and skipped", body = UploadReport),
        (status = 404, description = "No such store: create it with PUT /v1/stores/{store}", body = ErrorBody),
        (status = 413, description = "The body is over the upload limit", body = ErrorBody),
        (status = 422, description = "The file cannot be imported at all (a missing column; for a store whose mapping joins lookup tables, a missing joined column)", body = ErrorBody),
        (status = 409, description = "The store's mapping changed while the upload was read; nothing was imported: send it again", body = ErrorBody),
        (status = 503, description = "Storage cannot save changes right now (`storage_unavailable`); nothing changed", body = ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(store): Path<String>,
    ApiQuery(params): ApiQuery<UploadParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<UploadReport>, ApiError> {
    caller.require(Level::Merchant)?;
    let format = format_of(&params, &headers)?;
    let mapping = state.store(&store).await?.settings.mapping.clone();
    // Held from the first byte read to the last row written: it counts
    // uploads in progress, per store and on the node.
    let permit = state.limits.start_upload(&store)?;
    let fields = state.config.limits.fields();
    // The server has no lookup tables (they sit beside the merchant's
    // mapping file): a store that joins them takes files already joined.
    let joined = vec![morelike_core::import::Lookup::joined_in_file(); mapping.lookups.len()];
    let stream = within(
        body.into_data_stream().map_err(std::io::Error::other),
        Duration::from_secs(state.config.limits.upload_timeout_secs),
    );
    let failure = Arc::new(Mutex::new(None));
    let input = Watched {
        inner: SyncIoBridge::new(StreamReader::new(stream)),
        failure: failure.clone(),
    };
    // Read the whole body first, outside the store's writer: a slow client
    // holds up nobody.
    let read_with = mapping.clone();
    let (parsed, permit) = tokio::task::spawn_blocking(move || {
        let parsed = catalogs::parse(&read_with, &joined, format, input, fields)
            .map_err(|e| ApiError::BadImport(format!("{e:#}")));
        (parsed, permit)
    })
    .await?;
    // A body that broke off (or went over the limit) imports nothing.
    if let Some(reason) = failure.lock().unwrap_or_else(|p| p.into_inner()).take() {
        let message = format!("the upload broke off ({reason}); nothing was imported");
        return Err(if reason.contains("length limit") {
            let limit = state.config.max_upload_bytes;
            ApiError::BodyTooLarge(format!(
                "{}; nothing was imported",
                crate::server::error::body_too_large(limit, true)
            ))
        } else if reason.contains(TOO_SLOW) {
            ApiError::Timeout(message)
        } else {
            ApiError::BadImport(message)
        });
    }
    let parsed = parsed?;
    let writer = state.writer(&store).await;
    let outcome = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        writer.upsert(parsed, &mapping)
    })
    .await??;
    crate::server::limits::counters::count_n("rows_rejected", outcome.report.rejected);
    Ok(Json(UploadReport {
        report: outcome.report,
        added: outcome.added,
        updated: outcome.updated,
        unchanged: outcome.unchanged,
    }))
}

/// One product as this node serves it, with its stored vectors when
/// storage can be read (publishable key).
#[utoipa::path(get, path = "/v1/stores/{store}/products/{id}", tag = "products",
    params(("store" = String, Path, description = "The store"), ("id" = String, Path, description = "The product id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The product", body = Object),
        (status = 404, description = "No such store or product", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path((store, id)): Path<(String, String)>,
) -> Result<Json<Product>, ApiError> {
    caller.require(Level::Shopper)?;
    // What this node serves decides whether the product exists (as pages
    // do); the stored document adds the merchant's vectors, which the
    // cards in memory leave out. While storage cannot be read, the card.
    let card = state
        .store(&store)
        .await?
        .read()
        .get(&id)
        .map(|c| c.to_product());
    let Some(card) = card else {
        return Err(ApiError::UnknownProduct(id));
    };
    match state.storage.product(&store, &id) {
        Ok(Some(stored)) => Ok(Json(stored)),
        Ok(None) | Err(StorageError::Unavailable { .. }) => Ok(Json(card)),
        Err(e) => Err(e.into()),
    }
}

/// Deletes one product; the next page no longer shows it (secret key).
#[utoipa::path(delete, path = "/v1/stores/{store}/products/{id}", tag = "products",
    params(("store" = String, Path, description = "The store"), ("id" = String, Path, description = "The product id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such store or product", body = ErrorBody),
        (status = 503, description = "Storage cannot save changes right now (`storage_unavailable`); nothing changed", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path((store_name, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    caller.require(Level::Merchant)?;
    state.store(&store_name).await?;
    let writer = state.writer(&store_name).await;
    let ids = vec![id.clone()];
    let deleted = tokio::task::spawn_blocking(move || writer.delete(&ids)).await??;
    if deleted == 0 {
        return Err(ApiError::UnknownProduct(id));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A name search.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words that must each begin a word of the name (any case).
    #[serde(default)]
    pub q: String,
    /// At most this many products (default 20; more than 100 counts as 100).
    #[param(minimum = 0)]
    pub limit: Option<usize>,
}

/// Products whose name has, for every word of `q`, a word starting with it
/// (case-insensitive; shortest names first); an exact id match comes first
/// (publishable key).
#[utoipa::path(get, path = "/v1/stores/{store}/products", tag = "products",
    params(("store" = String, Path, description = "The store"), SearchParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Matching products", body = Vec<Object>),
        (status = 400, description = "The search is too long, or `limit` is not a number", body = ErrorBody),
        (status = 404, description = "No such store", body = ErrorBody),
        (status = 503, description = "`overloaded`: the node's compute queue is full (`max_queued_jobs`); retry in a moment (Retry-After)", body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Path(store): Path<String>,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<Json<Vec<Product>>, ApiError> {
    caller.require(Level::Shopper)?;
    let limit = state.config.limits.max_query_bytes;
    if params.q.len() > limit {
        return Err(ApiError::QueryTooLong {
            size: params.q.len(),
            limit,
        });
    }
    let store = state.store(&store).await?;
    let limit = params.limit.unwrap_or(20).min(100);
    // Through the name words, but a broad prefix on a big store still
    // orders many matches: on the CPU pool, whatever the store's size.
    let found = state
        .compute
        .run(move || {
            let catalog = store.read();
            catalog
                .search(&params.q, limit)
                .iter()
                .map(Card::to_product)
                .collect::<Vec<Product>>()
        })
        .await?;
    Ok(Json(found))
}

/// How many similar products.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SimilarParams {
    /// Products to return (default 8, at most 100).
    #[param(minimum = 1, maximum = 100)]
    pub k: Option<usize>,
}

/// The products most similar to one product.
#[derive(Debug, Serialize, ToSchema)]
pub struct SimilarBody {
    /// The product compared to.
    pub product: String,
    /// The most similar products, best first.
    pub items: Vec<PageItem>,
}

/// The `k` products most similar to one product (publishable key).
#[utoipa::path(get, path = "/v1/stores/{store}/similar/{id}", tag = "products",
    params(("store" = String, Path, description = "The store"), ("id" = String, Path, description = "The product id"), SimilarParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The most similar products", body = SimilarBody),
        (status = 400, description = "k out of range", body = ErrorBody),
        (status = 404, description = "No such store or product", body = ErrorBody)))]
pub async fn similar(
    State(state): State<AppState>,
    caller: Caller,
    Path((store, id)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<SimilarParams>,
) -> Result<Json<SimilarBody>, ApiError> {
    caller.require(Level::Shopper)?;
    let k = params.k.unwrap_or(DEFAULT_K);
    if k == 0 || k > morelike_core::session::MAX_K {
        return Err(ApiError::field(
            "k",
            format!("{k} is out of range: ask for 1 to 100"),
        ));
    }
    let store = state.store(&store).await?;
    let inline = store.read().len() < state.compute.pool_from_products;
    let items = state
        .compute
        .run_if(inline, move || {
            let catalog = store.read();
            let hits = catalog.similar(&id, k, &Filters::default())?;
            let items = hits
                .iter()
                .map(|h| PageItem::new(&catalog.at(h.row), h.score))
                .collect();
            Ok::<_, ApiError>(SimilarBody { product: id, items })
        })
        .await??;
    Ok(Json(items))
}

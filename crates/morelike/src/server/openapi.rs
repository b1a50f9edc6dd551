//! The OpenAPI document, generated from the handlers' annotations and the
//! wire types (utoipa) and served at `/v1/openapi.json`.

use axum::Json;
use utoipa::OpenApi;

use super::error::ErrorBody;
use super::http::{health, products, sessions, settings, socket, stores};
use super::protocol::{
    ExplanationBody, PageBody, PageFilters, PageItem, StartRequest, VoteItem, VoteKind, VoteRequest,
};

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "morelike", description = "Real-time interactive product recommender. The WebSocket protocol at /v1/stores/{store}/ws is described in docs/PROTOCOL.md; every session call has an HTTP equivalent here."),
    paths(
        health::healthz, health::readyz,
        stores::list, stores::put, settings::get, settings::patch,
        products::upload, products::get, products::delete, products::search, products::similar,
        sessions::start, sessions::resume, sessions::vote, sessions::more, sessions::undo,
        sessions::reset, sessions::explain,
        socket::upgrade,
    ),
    components(schemas(
        ErrorBody, PageBody, PageItem, PageFilters, StartRequest, VoteRequest, VoteItem, VoteKind,
        ExplanationBody, products::UploadReport, products::SimilarBody, stores::StoreSummary,
        settings::SettingsBody, settings::SettingsChange,
    )),
    tags(
        (name = "sessions", description = "A shopper's session: start, vote, more, undo, reset, resume, explain"),
        (name = "products", description = "The catalog: upload, get, delete, search, similar"),
        (name = "stores", description = "Stores, their mappings and settings (weights, strategy)"),
        (name = "operations", description = "Health and readiness"),
    )
)]
pub struct ApiDoc;

/// Serves the document.
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

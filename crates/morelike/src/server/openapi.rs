//! The OpenAPI document, generated from the handlers' annotations and the
//! wire types (utoipa) and served at `/v1/openapi.json`. The error answers
//! every route shares (keys, origins, rates, deadlines, the `Host` check,
//! body limits) are added to each operation here, so the document lists
//! every status a route can answer, each with the [`ErrorBody`].

use axum::Json;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::access::{IssuedKeys, Rotate};
use super::error::ErrorBody;
use super::http::{health, keys, products, sessions, settings, socket, stats, stores};
use super::protocol::{
    ClickBody, ClickRequest, ExplanationBody, PageBody, PageFilters, PageItem, StartRequest,
    VoteItem, VoteKind, VoteRequest, Warning,
};
use super::stats::report::{EventCounts, LatencyBar, LatencySummary, MinuteStats, StatsBody};

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "morelike", description = "Real-time interactive product recommender. The WebSocket protocol at /v1/stores/{store}/ws is described in docs/PROTOCOL.md; every session call has an HTTP equivalent here. Calls on a store need one of its keys as `Authorization: Bearer <key>`: the publishable key for sessions and product reads, the secret key for every write; the admin key creates and deletes stores (SECURITY.md)."),
    paths(
        health::healthz, health::readyz,
        stores::list, stores::put, stores::delete, keys::rotate, settings::get, settings::patch,
        products::upload, products::get, products::delete, products::search, products::similar,
        sessions::start, sessions::resume, sessions::vote, sessions::more, sessions::undo,
        sessions::reset, sessions::explain, sessions::click,
        stats::get, stats::metrics,
        socket::upgrade,
    ),
    components(schemas(
        ErrorBody, PageBody, PageItem, PageFilters, StartRequest, Warning, VoteRequest, VoteItem, VoteKind,
        ExplanationBody, products::UploadReport, products::SimilarBody, stores::StoreSummary,
        stores::StoreBody, settings::SettingsBody, settings::SettingsChange, settings::PrecisionName,
        IssuedKeys, Rotate, keys::RotateRequest,
        ClickRequest, ClickBody, StatsBody, EventCounts, LatencySummary, LatencyBar, MinuteStats,
    )),
    modifiers(&SharedErrors),
    tags(
        (name = "sessions", description = "A shopper's session: start, vote, more, undo, reset, resume, explain, click"),
        (name = "stats", description = "What shoppers did in a store: sessions, pages, products shown, votes, clicks, page times"),
        (name = "products", description = "The catalog: upload, get, delete, search, similar"),
        (name = "stores", description = "Stores, their mappings, keys and settings (weights, strategy, allowed origins)"),
        (name = "operations", description = "Health, readiness and Prometheus metrics"),
    )
)]
pub struct ApiDoc;

/// Adds the bearer scheme and the error answers every route shares.
struct SharedErrors;

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

fn add(operation: &mut Operation, status: &str, description: &str) {
    operation
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| error_response(description));
}

impl Modify for SharedErrors {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("sk_… (secret), pk_… (publishable) or the admin key")
                    .build(),
            ),
        );
        for (path, item) in doc.paths.paths.iter_mut() {
            // The API, and the one operations call that needs a key.
            let api = path.starts_with("/v1/") || path == "/metrics";
            let sessions = path.contains("/sessions");
            for (method, operation) in [
                ("get", item.get.as_mut()),
                ("put", item.put.as_mut()),
                ("post", item.post.as_mut()),
                ("delete", item.delete.as_mut()),
                ("patch", item.patch.as_mut()),
            ] {
                let Some(op) = operation else { continue };
                add(
                    op,
                    "421",
                    "host_not_allowed: the Host is not one of the server's names (allowed_hosts)",
                );
                add(
                    op,
                    "408",
                    "request_timeout: the request was not done in time",
                );
                add(
                    op,
                    "503",
                    "too_many_connections: the server holds its most connections; overloaded: its compute queue is full (max_queued_jobs, with Retry-After); retry shortly",
                );
                if !api {
                    continue;
                }
                add(op, "400", "bad_request / bad_field: a path, query or body the server cannot read; the message and `field` say what to fix");
                add(op, "401", "unauthorized: no key or an unknown (or rotated-out) key; the message says which key the call needs");
                add(op, "403", "forbidden: another store's key, or a publishable key on a write; origin_not_allowed: a browser page whose origin the store does not allow");
                add(op, "429", "rate_limited (with Retry-After), too_many_sockets, too_many_uploads or too_many_sessions");
                add(
                    op,
                    "500",
                    "internal: a server fault (logged); retrying may help",
                );
                if path.starts_with("/v1/stores/") {
                    add(
                        op,
                        "404",
                        "unknown_store (or the product or session named in the path)",
                    );
                }
                if sessions {
                    add(op, "409", "no_session, nothing_to_undo, or session_full: the session holds its most votes or pages");
                }
                if op.request_body.is_some() || method == "put" {
                    add(
                        op,
                        "413",
                        "body_too_large: the body is over its route's limit",
                    );
                }
            }
        }
    }
}

/// Serves the document.
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

//! `morelike serve`: the HTTP API and the WebSocket protocol over the
//! embedded store, or over Redis shared with other nodes (`follower.rs`
//! keeps each node's memory up with the others' changes). [`Application::build`] is used by `main` and by the
//! integration tests alike; [`app`] is the router.

pub mod access;
pub mod compute;
pub mod config;
pub mod demo;
pub mod error;
pub mod follower;
pub mod give_back;
pub mod http;
pub mod limits;
mod listener;
pub mod machine_memory;
pub mod openapi;
pub mod protocol;
pub mod session_writer;
pub mod sessions;
pub mod snapshot_writer;
pub mod state;
pub mod stats;
pub mod storage_health;
pub mod store_writer;
pub mod unknown_env;
pub mod ws;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::DefaultBodyLimit;
use axum::http::{Request, Uri};
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post, put};
use axum::Router;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use config::Config;

use http::{
    health, keys, page, products, sessions as session_api, settings, socket, stats as stats_api,
    stores,
};
use state::AppState;

use crate::store::{Embedded, Redis, RedisConfig, Storage};

/// A server that cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The data directory cannot be opened.
    #[error("cannot open the data directory {dir}: {reason}")]
    Storage {
        /// The directory.
        dir: String,
        /// Why.
        reason: String,
    },
    /// Redis cannot be used (the message names it, never its password).
    #[error("cannot use Redis: {0}")]
    Redis(String),
    /// The demo store cannot be created.
    #[error("cannot create the demo store: {0}")]
    Demo(String),
    /// A store cannot be loaded.
    #[error("cannot load store '{store}': {reason}")]
    Load {
        /// The store.
        store: String,
        /// Why.
        reason: String,
    },
    /// The address cannot be listened on.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
    /// Serving failed.
    #[error("the server failed: {0}")]
    Serve(String),
    /// Shutdown could not write every session change before its deadline.
    #[error("shutdown could not write {0} session change(s) to storage; they are lost")]
    Unwritten(usize),
}

/// A URI as logged: a `key` query parameter (the browser's WebSocket sends
/// its publishable key there) is never written out.
fn logged_uri(uri: &Uri) -> String {
    let Some(query) = uri.query() else {
        return uri.path().to_owned();
    };
    let redacted: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if name.eq_ignore_ascii_case("key") => format!("{name}=<redacted>"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{}?{}", uri.path(), redacted.join("&"))
}

/// The router: every route, with request ids, tracing, the `Host` check,
/// CORS, JSON errors, deadlines and body limits.
pub fn app(state: AppState) -> Router {
    let upload_limit = state.config.max_upload_bytes;
    let body_limit = state.config.max_body_bytes;
    let store = "/v1/stores/{store}";
    let session = "/v1/stores/{store}/sessions/{session}";
    Router::new()
        .route("/", get(page::index))
        .route("/widget/morelike-recs.js", get(page::widget))
        .route("/widget/morelike-shapes.js", get(page::shapes))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(stats_api::metrics))
        .route("/v1/openapi.json", get(openapi::serve))
        .route("/v1/stores", get(stores::list))
        .route(store, put(stores::put).delete(stores::delete))
        .route(&format!("{store}/keys/rotate"), post(keys::rotate))
        .route(
            &format!("{store}/settings"),
            get(settings::get).patch(settings::patch),
        )
        .route(
            &format!("{store}/products"),
            post(products::upload)
                .layer(RequestBodyLimitLayer::new(upload_limit))
                .get(products::search),
        )
        .route(
            &format!("{store}/products/{{id}}"),
            get(products::get).delete(products::delete),
        )
        .route(&format!("{store}/similar/{{id}}"), get(products::similar))
        .route(&format!("{store}/sessions"), post(session_api::start))
        .route(session, get(session_api::resume))
        .route(&format!("{session}/votes"), post(session_api::vote))
        .route(&format!("{session}/more"), post(session_api::more))
        .route(&format!("{session}/undo"), post(session_api::undo))
        .route(&format!("{session}/reset"), post(session_api::reset))
        .route(&format!("{session}/clicks"), post(session_api::click))
        .route(&format!("{store}/stats"), get(stats_api::get))
        .route(
            &format!("{session}/explain/{{product}}"),
            get(session_api::explain),
        )
        .route(&format!("{store}/ws"), get(socket::upgrade))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(from_fn_with_state(state.clone(), limits::http::deadline))
        .layer(from_fn_with_state(
            state.clone(),
            limits::http::announced_body,
        ))
        .layer(from_fn_with_state(
            error::BodyLimits {
                upload: upload_limit,
                body: body_limit,
            },
            error::json_errors,
        ))
        .layer(access::cors::layer(state.clone()))
        .layer(from_fn_with_state(state.clone(), limits::http::host_guard))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let request_id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                let uri = logged_uri(req.uri());
                tracing::info_span!("request", method = %req.method(), %uri, %request_id)
            }),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// A server ready to run: stores loaded, socket bound.
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Opens the data directory (or connects to Redis), creates the demo
    /// store if there is no store (and the demo is on), loads every store
    /// this node serves, and binds the address.
    pub async fn build(config: Config) -> Result<Self, ServerError> {
        if let Some(url) = &config.redis {
            let (url, log_len) = (url.0.clone(), config.redis_log_len);
            let storage: Arc<dyn Storage> = Arc::new(
                tokio::task::spawn_blocking(move || connect_redis(&url, log_len))
                    .await
                    .map_err(|e| ServerError::Serve(e.to_string()))??,
            );
            return Application::build_on(config, storage).await;
        }
        let dir = config.data_dir.clone();
        let storage: Arc<dyn Storage> = Arc::new(
            tokio::task::spawn_blocking(move || {
                Embedded::open(&dir).map_err(|e| ServerError::Storage {
                    dir: dir.display().to_string(),
                    reason: e.to_string(),
                })
            })
            .await
            .map_err(|e| ServerError::Serve(e.to_string()))??,
        );
        Application::build_on(config, storage).await
    }

    /// As [`Application::build`], over a storage already open (the fault
    /// tests use an embedded store whose disk they can fill).
    pub async fn build_on(
        mut config: Config,
        storage: Arc<dyn Storage>,
    ) -> Result<Self, ServerError> {
        let started = Instant::now();
        listener::fit_to_open_files(&mut config.limits);
        let demo = config.demo;
        let state = AppState::new(storage, config);
        let loader = state.clone();
        tokio::task::spawn_blocking(move || load_stores(&loader, demo))
            .await
            .map_err(|e| ServerError::Serve(e.to_string()))??;
        let addr = state.config.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| ServerError::Listen {
                addr,
                reason: e.to_string(),
            })?;
        tracing::info!(
            stores = ?state.store_names(),
            ready_ms = started.elapsed().as_millis() as u64,
            memory_budget = %state.config.memory_budget.map_or("none".into(), |b| format!("{:.1} GB", b as f64 / 1e9)),
            "loaded"
        );
        Ok(Application { listener, state })
    }

    /// The address the server listens on (the real port when asked for 0).
    pub fn address(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The shared state (for tests and tools in the same process).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `signal` completes, then shuts down within the
    /// configured deadline (`shutdown_timeout`): stops accepting and turns
    /// `/readyz` to 503; each socket answers the request in hand and gets a
    /// 1001 close frame (a client that does not take it within a second is
    /// dropped); HTTP requests in flight finish or, at the deadline, are
    /// dropped; then every pending session change is written. Fails only if
    /// some session change could not be written.
    pub async fn run(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let state = self.state;
        let shutdown = state.shutdown.clone();
        tracing::info!(address = %self.listener.local_addr().map_err(|e| ServerError::Serve(e.to_string()))?, "listening");
        let signalled = shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = signal => {
                    tracing::info!("shutting down");
                    signalled.cancel();
                }
                () = signalled.cancelled() => {}
            }
        });
        let housekeeper = tokio::spawn(housekeeping(state.clone()));
        let warming = tokio::spawn(warm_up(state.clone()));
        let follower = tokio::spawn(follower::follow(state.clone()));
        let snapshot_writer = tokio::spawn(snapshot_writer::keep(state.clone()));
        let events = tokio::spawn(stats::keep(state.clone()));
        let serving = listener::serve(
            self.listener,
            app(state.clone()),
            &state.config.limits,
            shutdown.clone().cancelled_owned(),
        );
        tokio::pin!(serving);
        let ended = tokio::select! {
            () = &mut serving => true,
            () = shutdown.cancelled() => false,
        };
        shutdown.cancel();
        let began = Instant::now();
        let deadline = state.config.shutdown_timeout;
        // Keep a quarter of the deadline (at most 2 s) to write sessions.
        let connections_by = began + deadline - (deadline / 4).min(Duration::from_secs(2));
        if !ended {
            let until = tokio::time::Instant::from_std(connections_by);
            if tokio::time::timeout_at(until, &mut serving).await.is_err() {
                tracing::warn!("HTTP requests still in flight at the deadline are dropped");
            }
        }
        // It holds the state (and so the database) until it sees the shutdown.
        let _ = housekeeper.await;
        let _ = follower.await;
        let _ = warming.await;
        state.connections.close();
        let until = tokio::time::Instant::from_std(connections_by);
        if tokio::time::timeout_at(until, state.connections.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                sockets = state.connections.len(),
                "sockets still open at the deadline are dropped"
            );
        }
        // The pages the sockets served to the end are folded in.
        let _ = events.await;
        stats::fold_now(&state);
        // Snapshots due are written within what is left of the deadline
        // (one cut short leaves the old file: the next start rebuilds).
        let until = tokio::time::Instant::from_std(connections_by);
        if tokio::time::timeout_at(until, snapshot_writer)
            .await
            .is_err()
        {
            tracing::warn!("index snapshots still being written at the deadline are left");
        }
        let sessions = state.sessions.clone();
        let by = began + deadline;
        let unwritten = tokio::task::spawn_blocking(move || sessions.close(by))
            .await
            .map_err(|e| ServerError::Serve(e.to_string()))?;
        tracing::info!(
            ms = began.elapsed().as_millis() as u64,
            unwritten,
            "stopped"
        );
        if unwritten > 0 {
            return Err(ServerError::Unwritten(unwritten));
        }
        Ok(())
    }
}

/// Once a minute: forget quiet clients in the rate limiters, and log the
/// refusals each limit made.
async fn housekeeping(state: AppState) {
    let mut last = limits::counters::snapshot();
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = state.shutdown.cancelled() => break,
        }
        state.limits.rates.tidy();
        limits::counters::log_changes(&mut last);
    }
    limits::counters::log_changes(&mut last);
}

/// Connects to Redis; credentials the URL leaves out come from
/// `MORELIKE_REDIS_USERNAME` and `MORELIKE_REDIS_PASSWORD`.
fn connect_redis(url: &str, log_len: usize) -> Result<Redis, ServerError> {
    let username = std::env::var("MORELIKE_REDIS_USERNAME").ok();
    let password = std::env::var("MORELIKE_REDIS_PASSWORD").ok();
    let failed = |e: crate::store::StorageError| ServerError::Redis(e.to_string());
    let mut config =
        RedisConfig::new(url, username.as_deref(), password.as_deref()).map_err(failed)?;
    config.log_len = log_len;
    Redis::connect(config).map_err(failed)
}

fn load_stores(state: &AppState, demo: bool) -> Result<(), ServerError> {
    let storage = state.storage.as_ref();
    let names = storage.stores().map_err(|e| ServerError::Storage {
        dir: state.config.data_dir.display().to_string(),
        reason: e.to_string(),
    })?;
    if !state.access.has_admin_key() {
        tracing::warn!(
            "no admin key: creating and deleting stores and rotating keys are refused; set MORELIKE_ADMIN_KEY (at least 24 random characters, e.g. `openssl rand -hex 24`) or admin_key in the configuration file"
        );
    }
    tracing::debug!(limits = ?state.config.limits.table(), "limits");
    if names.is_empty() && demo {
        let started = Instant::now();
        let outcome = demo::create(storage).map_err(|e| ServerError::Demo(format!("{e:#}")))?;
        tracing::info!(
            store = demo::STORE,
            products = outcome.report.imported,
            ms = started.elapsed().as_millis() as u64,
            "created the demo store from the bundled fashion catalog"
        );
    }
    for name in storage.stores().map_err(|e| ServerError::Load {
        store: "*".into(),
        reason: e.to_string(),
    })? {
        if !state.config.serves(&name) {
            continue;
        }
        give_keys_if_missing(storage, &name);
        if let Some(log) = storage.change_log() {
            // Followed from the log's end as it was before the store is read.
            match log.head(&name) {
                Ok(head) => {
                    state
                        .positions
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(name.clone(), head);
                }
                Err(e) => tracing::warn!(store = %name, error = %e, "cannot read the store's log"),
            }
        }
    }
    Ok(())
}

/// After the start: loads the stores this node serves in name order, one
/// at a time through each store's writer, until the memory budget is full
/// (every store without a budget).
/// The node answers meanwhile: a store called before its turn loads at
/// once. One store that cannot load must not take the others down: it is
/// left out (its calls answer `unknown_store`) and the log says why.
async fn warm_up(state: AppState) {
    let storage = state.storage.clone();
    let Ok(Ok(names)) = tokio::task::spawn_blocking(move || storage.stores()).await else {
        return;
    };
    // The last store's size stands for the next one's: warming up stops
    // before a load would evict (else it would churn through every store).
    let mut next_bytes = 0;
    for name in names {
        if state.shutdown.is_cancelled() {
            return;
        }
        if !state.config.serves(&name) || state.held(&name).is_ok() {
            continue;
        }
        if let Some(budget) = state.config.memory_budget {
            if state.held_bytes() + next_bytes > budget {
                tracing::info!("memory budget full: the other stores load on their first call");
                break;
            }
        }
        let writer = state.writer(&name).await;
        if let Ok(Ok(store)) = tokio::task::spawn_blocking(move || writer.store()).await {
            next_bytes = store.bytes();
        }
    }
    tracing::info!(
        stores = state.store_names().len(),
        bytes = state.held_bytes(),
        "warm-up done"
    );
}

/// A store from before keys existed gets an access record: the demo its
/// zero-setup one; any other none (only the admin key can use it until its
/// keys are rotated), which the log says.
fn give_keys_if_missing(storage: &dyn Storage, name: &str) {
    match storage.access(name) {
        Ok(Some(_)) => {}
        Ok(None) if name == demo::STORE => {
            if let Err(e) = storage.put_access(name, &access::demo_access()) {
                tracing::warn!(store = name, error = %e, "cannot give the demo store its keys");
            }
        }
        Ok(None) => tracing::warn!(
            store = name,
            "store has no keys: only the admin key can use it until POST /v1/stores/{name}/keys/rotate"
        ),
        Err(e) => tracing::warn!(store = name, error = %e, "cannot read the store's keys"),
    }
}

/// Completes on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

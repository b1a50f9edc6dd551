//! The accept loop: HTTP/1.1 (with upgrades for WebSockets) on hyper, with a
//! cap on open HTTP connections (one past it is answered 503 and closed; an
//! upgraded WebSocket leaves this count for `max_sockets`'s), a
//! deadline for request headers (slowloris, and idle kept-alive
//! connections), a cap on the request head's size, and the peer address on
//! every request. A graceful shutdown stops accepting, lets requests in
//! flight finish, and waits for their connections.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use super::access::ClientAddr;
use super::limits::{counters, Limits};

/// Descriptors kept free for the database, logs and the like.
const SPARE_DESCRIPTORS: u64 = 128;

/// Raises the open-file limit toward what the caps need (HTTP connections,
/// and WebSockets, which leave the connection count once upgraded) and, if
/// it cannot be raised that far, lowers both caps in proportion so the node
/// refuses cleanly instead of running out of descriptors.
pub fn fit_to_open_files(limits: &mut Limits) {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let needed = (limits.max_connections + limits.max_sockets) as u64;
    let wanted = needed + SPARE_DESCRIPTORS;
    let mut current = getrlimit(Resource::Nofile);
    let soft = current.current.unwrap_or(u64::MAX);
    if soft < wanted {
        let raised = current.maximum.map_or(wanted, |hard| hard.min(wanted));
        current.current = Some(raised);
        if setrlimit(Resource::Nofile, current).is_ok() {
            tracing::info!(from = soft, to = raised, "raised the open-file limit");
        }
    }
    let soft = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX);
    let available = soft.saturating_sub(SPARE_DESCRIPTORS);
    if available < needed {
        let share = |n: usize| ((n as u64 * available / needed) as usize).max(1);
        let (connections, sockets) = (share(limits.max_connections), share(limits.max_sockets));
        tracing::warn!(
            open_file_limit = soft,
            max_connections = connections,
            max_sockets = sockets,
            "the open-file limit is below max_connections + max_sockets: both caps lowered to fit; raise `ulimit -n`"
        );
        limits.max_connections = connections;
        limits.max_sockets = sockets;
    }
}

const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: close\r\nretry-after: 1\r\ncontent-length: 98\r\n\r\n{\"code\":\"too_many_connections\",\"message\":\"this server holds its most connections; retry shortly\"}";

async fn refuse(mut stream: TcpStream) {
    counters::count("too_many_connections");
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(REFUSAL).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// Serves `app` on `listener` until `signal` completes, then shuts down
/// gracefully (every connection's request in flight finishes).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    signal: impl Future<Output = ()> + Send + 'static,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let header_timeout = Duration::from_secs(limits.header_timeout_secs.max(1));
    let max_head = limits.max_header_bytes.max(8192);
    let (stop_tx, stop_rx) = watch::channel(false);
    let connections = TaskTracker::new();
    tokio::pin!(signal);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of descriptors, or a connection reset before accept.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut signal => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let mut stop = stop_rx.clone();
        connections.spawn(async move {
            let _permit = permit;
            let service = app.map_request(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ClientAddr(peer));
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                req.map(axum::body::Body::new)
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .max_buf_size(max_head);
            let conn = builder
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                .with_upgrades();
            tokio::pin!(conn);
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                        break;
                    }
                    changed = stop.changed() => {
                        conn.as_mut().graceful_shutdown();
                        if changed.is_err() {
                            // The server is gone: finish this connection only.
                            let _ = conn.as_mut().await;
                            break;
                        }
                    }
                }
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    connections.close();
    connections.wait().await;
}

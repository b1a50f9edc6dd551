//! The connection to Redis, standalone or Cluster, and the bridge from the
//! blocking `Storage` calls to the async client. The client is the `redis`
//! crate's: a `ConnectionManager` (one multiplexed connection, reconnected
//! by itself after an error) or the Cluster client (slots followed, nodes
//! reconnected by itself). It runs on a small runtime of its own, so a
//! blocking caller — an async handler inline, a `spawn_blocking` task, the
//! CLI — hands it a future and waits for the answer on a plain channel.

use std::future::Future;
use std::sync::mpsc;
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisError, RedisFuture, Value};

use super::url::Target;
use crate::store::StorageError;

/// How long one command may take before it counts as failed.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a (re)connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// A connection to a standalone Redis or to a Cluster; cheap to clone (all
/// clones share one multiplexed connection).
#[derive(Clone)]
pub enum Conn {
    /// One server (or a proxy in front of several).
    Single(ConnectionManager),
    /// A Redis Cluster: each command goes to its key's slot.
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(cmd, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// Opens the connection (on the current runtime: the bridge's).
pub async fn connect(target: &Target) -> Result<Conn, RedisError> {
    if target.cluster {
        let client = ClusterClient::builder(target.nodes.clone())
            .connection_timeout(CONNECT_TIMEOUT)
            .response_timeout(RESPONSE_TIMEOUT)
            .retries(2)
            .build()?;
        Ok(Conn::Cluster(client.get_async_connection().await?))
    } else {
        let client = redis::Client::open(target.nodes[0].clone())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        Ok(Conn::Single(
            ConnectionManager::new_with_config(client, config).await?,
        ))
    }
}

/// Our error for a Redis error: what cannot be reached, or is loading,
/// failing over, out of memory or unable to persist, is `Unavailable`
/// (retrying later may work); anything else is a backend failure.
pub fn storage_error(doing: &'static str, e: RedisError) -> StorageError {
    use redis::{ErrorKind, ServerErrorKind};
    let transient = e.is_io_error()
        || e.is_timeout()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || matches!(
            e.kind(),
            ErrorKind::Io
                | ErrorKind::ClusterConnectionNotFound
                | ErrorKind::Server(
                    ServerErrorKind::BusyLoading
                        | ServerErrorKind::TryAgain
                        | ServerErrorKind::ClusterDown
                        | ServerErrorKind::MasterDown
                        | ServerErrorKind::ReadOnly
                )
        )
        || matches!(e.code(), Some("OOM" | "MISCONF" | "NOREPLICAS"));
    let reason = e.to_string();
    if transient {
        StorageError::Unavailable { doing, reason }
    } else {
        StorageError::Backend { doing, reason }
    }
}

/// A runtime of the client's own, and a way to wait on it from anywhere.
pub struct Bridge {
    runtime: Option<tokio::runtime::Runtime>,
}

impl Bridge {
    /// Starts the client's runtime (one worker thread: the client only
    /// moves bytes).
    pub fn start() -> Result<Self, StorageError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("redis-client")
            .enable_all()
            .build()
            .map_err(|e| StorageError::backend("start the Redis client")(e.to_string()))?;
        Ok(Bridge {
            runtime: Some(runtime),
        })
    }

    fn handle(&self) -> &tokio::runtime::Handle {
        self.runtime
            .as_ref()
            .expect("the runtime lives until the bridge is dropped")
            .handle()
    }

    /// Runs a future on the client's runtime and waits for it (blocking the
    /// calling thread, whatever it is).
    pub fn wait<T: Send + 'static>(&self, future: impl Future<Output = T> + Send + 'static) -> T {
        let (tx, rx) = mpsc::sync_channel(1);
        self.handle().spawn(async move {
            let _ = tx.send(future.await);
        });
        rx.recv()
            .expect("the client's runtime runs every future it is given to the end")
    }

    /// Spawns a task on the client's runtime.
    pub fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        self.handle().spawn(future);
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        // Never blocks, so it may be dropped inside another runtime.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

//! Limits on everything that grows with input: connections, sockets, request
//! rates, uploads, stores, sessions, field sizes, mappings. Each refusal has
//! its own error code and is counted ([`counters`]); every value is settable
//! under `[limits]` in the configuration file, as `MORELIKE_*` or as a flag.

pub mod counters;
mod guards;
pub mod http;
mod rates;

use serde::Deserialize;

pub use guards::{Guards, SocketPermit, UploadPermit};
pub use rates::{address_key, Rates, SocketRate};

macro_rules! limits {
    ($( $(#[doc = $doc:expr])+ $name:ident : $ty:ty = $default:expr, $env:literal; )+) => {
        /// Every limit in force. The defaults are sized for one node serving a
        /// shop of 1M products (docs: SECURITY.md lists each with its reason).
        #[derive(Clone, Debug, PartialEq)]
        pub struct Limits {
            $( $(#[doc = $doc])+ pub $name: $ty, )+
        }

        impl Default for Limits {
            fn default() -> Self {
                Limits { $( $name: $default, )+ }
            }
        }

        /// One source of limits (the `[limits]` table, `MORELIKE_*`, flags);
        /// an absent value leaves the one below in place.
        #[derive(Clone, Debug, Default, Deserialize, clap::Args)]
        #[serde(deny_unknown_fields)]
        pub struct LimitsLayer {
            $( $(#[doc = $doc])+ #[arg(long, env = $env)] pub $name: Option<$ty>, )+
        }

        impl Limits {
            /// Applies a layer of limits over these.
            pub fn apply(&mut self, layer: LimitsLayer) {
                $( if let Some(v) = layer.$name { self.$name = v; } )+
            }

            /// Every limit by name with its value, for the log and SECURITY.md.
            pub fn table(&self) -> Vec<(&'static str, String)> {
                vec![ $( (stringify!($name), self.$name.to_string()), )+ ]
            }
        }
    };
}

limits! {
    /// Open HTTP connections per node (a WebSocket leaves this count once
    /// upgraded, for `max_sockets`); past it a new connection is answered
    /// 503 `too_many_connections` and closed [default: 4096].
    max_connections: usize = 4_096, "MORELIKE_MAX_CONNECTIONS";
    /// Open WebSockets per node [default: 10000].
    max_sockets: usize = 10_000, "MORELIKE_MAX_SOCKETS";
    /// Open WebSockets per client address [default: 100].
    max_sockets_per_address: usize = 100, "MORELIKE_MAX_SOCKETS_PER_ADDRESS";
    /// Seconds a WebSocket may stay silent before it is closed [default: 300].
    idle_socket_secs: u64 = 300, "MORELIKE_IDLE_SOCKET_SECS";
    /// Seconds to receive a request's headers (and between requests on a
    /// kept-alive connection) [default: 10].
    header_timeout_secs: u64 = 10, "MORELIKE_HEADER_TIMEOUT_SECS";
    /// Seconds to answer a request, body included [default: 30].
    request_timeout_secs: u64 = 30, "MORELIKE_REQUEST_TIMEOUT_SECS";
    /// Seconds to receive and import a catalog upload [default: 300].
    upload_timeout_secs: u64 = 300, "MORELIKE_UPLOAD_TIMEOUT_SECS";
    /// Largest request head (request line and headers), in bytes [default: 32768].
    max_header_bytes: usize = 32 * 1024, "MORELIKE_MAX_HEADER_BYTES";
    /// Requests per second from one client address without a secret key
    /// (bursts of twice that); 0: no limit [default: 50].
    requests_per_sec_per_address: u32 = 50, "MORELIKE_REQUESTS_PER_SEC_PER_ADDRESS";
    /// Requests and WebSocket messages per second made with one store key
    /// (bursts of twice that); 0: no limit [default: 2000].
    requests_per_sec_per_key: u32 = 2_000, "MORELIKE_REQUESTS_PER_SEC_PER_KEY";
    /// Messages per second on one WebSocket (bursts of twice that); 0: no
    /// limit [default: 20].
    messages_per_sec_per_socket: u32 = 20, "MORELIKE_MESSAGES_PER_SEC_PER_SOCKET";
    /// Computations (pages of big stores, name searches, similar) running
    /// or queued on the CPU pool; past it a request is answered 503
    /// `overloaded` [default: 512].
    max_queued_jobs: usize = 512, "MORELIKE_MAX_QUEUED_JOBS";
    /// Catalog uploads in progress per node [default: 4].
    max_uploads: usize = 4, "MORELIKE_MAX_UPLOADS";
    /// Catalog uploads in progress per store [default: 1].
    max_uploads_per_store: usize = 1, "MORELIKE_MAX_UPLOADS_PER_STORE";
    /// Stores per node [default: 1000].
    max_stores: usize = 1_000, "MORELIKE_MAX_STORES";
    /// Sessions a store may start per session TTL, which bounds the sessions
    /// it keeps [default: 1000000].
    sessions_per_store: u32 = 1_000_000, "MORELIKE_SESSIONS_PER_STORE";
    /// Sessions one client address may start per minute without a secret
    /// key (bursts of as many), so that no one address uses up
    /// `sessions_per_store`; 0: no limit [default: 120].
    session_starts_per_min_per_address: u32 = 120, "MORELIKE_SESSION_STARTS_PER_MIN_PER_ADDRESS";
    /// Votes one session may hold [default: 250].
    max_votes_per_session: usize = 250, "MORELIKE_MAX_VOTES_PER_SESSION";
    /// Pages one session may be served [default: 250].
    max_pages_per_session: u32 = 250, "MORELIKE_MAX_PAGES_PER_SESSION";
    /// Longest name search (`q`), in bytes [default: 256].
    max_query_bytes: usize = 256, "MORELIKE_MAX_QUERY_BYTES";
    /// Longest product id, in bytes [default: 256].
    max_id_bytes: usize = 256, "MORELIKE_MAX_ID_BYTES";
    /// Longest product name, in bytes [default: 1024].
    max_name_bytes: usize = 1_024, "MORELIKE_MAX_NAME_BYTES";
    /// Longest text or categorical value, in bytes [default: 16384].
    max_text_bytes: usize = 16 * 1024, "MORELIKE_MAX_TEXT_BYTES";
    /// Longest image URL, in bytes [default: 2048].
    max_image_url_bytes: usize = 2_048, "MORELIKE_MAX_IMAGE_URL_BYTES";
    /// Most numbers in a merchant vector [default: 4096].
    max_vector_dim: usize = 4_096, "MORELIKE_MAX_VECTOR_DIM";
    /// Most views in a mapping [default: 32].
    max_views: usize = 32, "MORELIKE_MAX_VIEWS";
    /// Most dense dimensions a mapping's views add up to (each is one byte
    /// per product in the index) [default: 2048].
    max_dense_dims: usize = 2_048, "MORELIKE_MAX_DENSE_DIMS";
}

impl Limits {
    /// The importer's per-field limits.
    pub fn fields(&self) -> morelike_core::import::FieldLimits {
        morelike_core::import::FieldLimits {
            id_bytes: self.max_id_bytes,
            name_bytes: self.max_name_bytes,
            text_bytes: self.max_text_bytes,
            image_url_bytes: self.max_image_url_bytes,
            vector_dim: self.max_vector_dim,
        }
    }

    /// Whether a session has room for one more page after `votes` more votes.
    pub fn session_room(
        &self,
        session: &morelike_core::Session,
        votes: usize,
    ) -> Result<(), crate::server::error::ApiError> {
        use crate::server::error::ApiError;
        if session.round >= self.max_pages_per_session {
            return Err(ApiError::SessionFull(format!(
                "this session has been served {} pages, the most one may (max_pages_per_session): reset it or start a new one",
                session.round
            )));
        }
        if votes > self.max_votes_per_session {
            // One message bigger than a whole session: the message is
            // wrong, not the session full.
            return Err(ApiError::BadField {
                field: "votes".into(),
                reason: format!(
                    "{votes} votes in one message; a session holds at most {} (max_votes_per_session): send fewer",
                    self.max_votes_per_session
                ),
            });
        }
        if session.votes.len() + votes > self.max_votes_per_session {
            return Err(ApiError::SessionFull(format!(
                "this session holds {} votes and may hold at most {} (max_votes_per_session): reset it or start a new one",
                session.votes.len(),
                self.max_votes_per_session
            )));
        }
        Ok(())
    }

    /// Checks a mapping's size before anything is stored: views and the dense
    /// dimensions they add up to (a vector view without `dim` counts at
    /// `max_vector_dim`, the most a row may bring).
    pub fn check_mapping(&self, mapping: &morelike_core::Mapping) -> Result<(), String> {
        let views = mapping.views.len();
        if views > self.max_views {
            return Err(format!(
                "the mapping has {views} views; this server takes at most {} (max_views)",
                self.max_views
            ));
        }
        let dims = mapping.dense_dims(self.max_vector_dim);
        if dims > self.max_dense_dims {
            let each: Vec<String> = mapping
                .views
                .iter()
                .map(|v| {
                    let dim = morelike_core::views::planned_dim(v, self.max_vector_dim);
                    let unsized_vector =
                        v.kind == morelike_core::views::ViewKind::Vector && v.dim.is_none();
                    if unsized_vector {
                        format!("{} {dim} (a vector view without `dim` counts at max_vector_dim: give its dim)", v.name)
                    } else {
                        format!("{} {dim}", v.name)
                    }
                })
                .collect();
            return Err(format!(
                "the mapping's views add up to {dims} dense dimensions ({}); this server takes at most {} (max_dense_dims): lower `dim` on text or vector views",
                each.join(", "),
                self.max_dense_dims
            ));
        }
        Ok(())
    }
}

//! The API, driven as a client would: a real server on port 0 over a
//! temporary data directory, real WebSockets, real HTTP.

mod access_matrix;
mod bad_input;
mod bench;
mod catalog_changes;
mod eval_matches_server;
mod helpers;
mod http_api;
mod limits;
mod lookup_stores;
mod many_stores;
mod mapping_changes;
mod persistence;
mod precision;
mod promises;
mod security_regressions;
mod snapshot_rewrite;
mod stats;
mod websocket;

//! morelike, the service: storage backends, catalog loading and the
//! command-line interface over the pure core (`morelike-core`).

pub mod bench;
pub mod catalogs;
pub mod cli;
pub mod server;
pub mod snapshots;
pub mod store;

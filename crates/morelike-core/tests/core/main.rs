//! Integration tests of the core on the real catalogs in `../shared/data`.

mod batch;
mod clusters;
mod eval;
mod helpers;
mod hostile;
mod import;
mod memory;
mod properties;
mod refine;
mod regression;
mod row_order;
mod search;
mod sessions;
mod steer;

//! Integration tests of the core on the real catalogs in `../shared/data`.

mod eval;
mod helpers;
mod hostile;
mod import;
mod properties;
mod sessions;

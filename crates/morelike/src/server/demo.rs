//! The demo store: the fashion catalog bundled inside the binary (see
//! `assets/NOTICE.md` for its origin and licence), imported as `demo` on
//! first start so a fresh machine shows recommendations at once.

use flate2::read::GzDecoder;
use morelike_core::{Format, Mapping};

use crate::catalogs::{self, ImportOutcome};
use crate::store::Storage;

/// The demo store's name.
pub const STORE: &str = "demo";

/// The fashion catalog, gzip-compressed.
const CATALOG_GZ: &[u8] = include_bytes!("../../assets/fashion-styles.csv.gz");

/// Its column mapping.
const MAPPING: &str = include_str!("../../../../examples/fashion.toml");

/// The demo's column mapping.
pub fn mapping() -> Mapping {
    Mapping::from_toml(MAPPING).expect("the bundled mapping is valid")
}

/// The uncompressed catalog (CSV), streamed.
pub fn catalog() -> impl std::io::Read {
    GzDecoder::new(CATALOG_GZ)
}

/// Imports the demo store (blocking), with its zero-setup access: the
/// publishable key `pk_demo`, open to callers without a key, no secret key.
pub fn create(storage: &dyn Storage) -> anyhow::Result<ImportOutcome> {
    let outcome = catalogs::import(storage, STORE, &mapping(), &[], Format::Csv, catalog())?;
    storage.put_access(STORE, &super::access::demo_access())?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_catalog_decompresses_to_the_fashion_header() {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut catalog(), &mut text).unwrap();
        assert!(
            text.starts_with("id,gender,masterCategory"),
            "{}",
            &text[..40]
        );
        assert_eq!(text.lines().count(), 44_447);
    }
}

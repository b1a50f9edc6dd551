//! Shared fixtures: the real catalogs, imported once per test binary.

use std::fs::File;
use std::path::PathBuf;
use std::sync::OnceLock;

use morelike_core::import::{ImportReport, Importer, Lookup};
use morelike_core::{Catalog, Format, Mapping, Precision, Product};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn data(path: &str) -> PathBuf {
    let p = repo().join("../shared/data").join(path);
    assert!(
        p.exists(),
        "test data {} is missing: the tests need ../shared/data beside the repository",
        p.display()
    );
    p
}

pub fn mapping(name: &str) -> (Mapping, Vec<Lookup>) {
    let path = repo().join("examples").join(name);
    let mapping = Mapping::from_toml(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let lookups = mapping
        .lookups
        .iter()
        .map(|spec| {
            let file = path.parent().unwrap().join(&spec.file);
            Lookup::from_csv(spec, File::open(&file).unwrap()).unwrap()
        })
        .collect();
    (mapping, lookups)
}

pub fn import(catalog: &str, mapping_name: &str) -> (Mapping, Vec<Product>, ImportReport) {
    let (mapping, lookups) = mapping(mapping_name);
    let file = File::open(data(catalog)).unwrap();
    let (products, report) = Importer::new(&mapping, &lookups)
        .read_all(Format::Csv, file)
        .unwrap();
    (mapping, products, report)
}

pub struct Fashion {
    pub products: Vec<Product>,
    pub report: ImportReport,
    pub catalog: Catalog,
}

pub fn fashion() -> &'static Fashion {
    static FASHION: OnceLock<Fashion> = OnceLock::new();
    FASHION.get_or_init(|| {
        let (mapping, products, report) = import("fashion/styles.csv", "fashion.toml");
        let catalog = Catalog::build(mapping, products.clone(), Precision::I8);
        Fashion {
            products,
            report,
            catalog,
        }
    })
}

pub fn fashion_f32() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let f = fashion();
        Catalog::build(
            f.catalog.mapping().clone(),
            f.products.clone(),
            Precision::F32,
        )
    })
}

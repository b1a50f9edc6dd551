//! Loading the real catalogs for benchmarks.
#![allow(dead_code)]

use std::fs::File;
use std::path::PathBuf;

use morelike_core::import::{Importer, Lookup};
use morelike_core::{Format, Mapping, Product};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fashion_path() -> PathBuf {
    repo().join("../shared/data/fashion/styles.csv")
}

pub fn fashion_mapping() -> Mapping {
    let text = std::fs::read_to_string(repo().join("examples/fashion.toml")).unwrap();
    Mapping::from_toml(&text).unwrap()
}

pub fn fashion() -> (Mapping, Vec<Product>) {
    let mapping = fashion_mapping();
    let lookups: Vec<Lookup> = Vec::new();
    let (products, _) = Importer::new(&mapping, &lookups)
        .read_all(Format::Csv, File::open(fashion_path()).unwrap())
        .unwrap();
    (mapping, products)
}

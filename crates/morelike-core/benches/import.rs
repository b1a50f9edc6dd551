//! Import throughput: the fashion CSV (44k rows) to products, and products
//! to a ready index (views fitted, rows quantized).

mod common;

use std::fs::File;
use std::io::Read;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use morelike_core::import::Importer;
use morelike_core::{Catalog, Format, Precision};

fn import(c: &mut Criterion) {
    let mapping = common::fashion_mapping();
    let mut bytes = Vec::new();
    File::open(common::fashion_path())
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    let mut group = c.benchmark_group("import_fashion_44k");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("parse_csv", |b| {
        b.iter(|| {
            Importer::new(&mapping, &[])
                .read_all(Format::Csv, bytes.as_slice())
                .unwrap()
        })
    });
    let (_, products) = common::fashion();
    group.bench_function("build_index_i8", |b| {
        b.iter(|| Catalog::build(mapping.clone(), products.clone(), Precision::I8))
    });
    group.bench_function("csv_to_ready_index", |b| {
        b.iter(|| {
            let (products, _) = Importer::new(&mapping, &[])
                .read_all(Format::Csv, bytes.as_slice())
                .unwrap();
            Catalog::build(mapping.clone(), products, Precision::I8)
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = import
}
criterion_main!(benches);

//! Live catalog changes on the fashion catalog (44k products): what a
//! store's writer holds the catalog's write lock for — one product, and one
//! chunk of 64 (the server applies bigger uploads chunk by chunk), and 256.

mod common;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use morelike_core::{Catalog, Precision, Product};

/// `n` changed copies of catalog products (a name never seen before), as
/// an upload of updates would bring.
fn changed(products: &[Product], n: usize, season: usize) -> Vec<Product> {
    products
        .iter()
        .take(n)
        .map(|p| {
            let mut p = p.clone();
            p.name = format!("{} (season {season})", p.name);
            p
        })
        .collect()
}

fn upsert(c: &mut Criterion) {
    let (mapping, products) = common::fashion();
    let mut catalog = Catalog::build(mapping, products.clone(), Precision::I8);
    let mut group = c.benchmark_group("upsert_fashion_44k");
    for n in [1, 64, 256] {
        let mut season = 0;
        group.bench_function(format!("rows_{n}"), |b| {
            b.iter_batched(
                || {
                    season += 1;
                    changed(&products, n, season)
                },
                |batch| {
                    for p in batch {
                        catalog.upsert(p);
                    }
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = upsert
}
criterion_main!(benches);

//! One interaction on the fashion catalog (44k products): build the query
//! from the seed and the votes, scan every product, keep the top 8 — f32 and
//! quantized rows, every strategy.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use morelike_core::index::Filters;
use morelike_core::{strategy, Catalog, Precision, Session, Vote};

fn session_with_votes(catalog: &Catalog) -> Session {
    let s = strategy::by_name("rocchio").unwrap();
    let mut session = Session::start(catalog, "15970", 8, Filters::default()).unwrap();
    for round in 0..3 {
        let page = session.next_page(catalog, s.as_ref(), 42).unwrap();
        let (up, down) = (&page.items[round].0, &page.items[7 - round].0);
        session.vote(
            catalog,
            &[(up.clone(), Vote::Up), (down.clone(), Vote::Down)],
        );
    }
    session
}

fn interaction(c: &mut Criterion) {
    let (mapping, products) = common::fashion();
    let mut group = c.benchmark_group("interaction_fashion_44k");
    for precision in [Precision::I8, Precision::F32] {
        let catalog = Catalog::build(mapping.clone(), products.clone(), precision);
        let session = session_with_votes(&catalog);
        for s in strategy::all() {
            let id = BenchmarkId::new(s.name(), format!("{precision:?}").to_lowercase());
            group.bench_function(id, |b| {
                b.iter(|| {
                    let mut next = session.clone();
                    next.next_page(&catalog, s.as_ref(), 42).unwrap()
                })
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = interaction
}
criterion_main!(benches);

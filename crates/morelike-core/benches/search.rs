//! Name search: the shopper's search box on the 44k fashion catalog, or on
//! the catalog named by `MORELIKE_BENCH_CATALOG` (a CSV under
//! `examples/fashion.toml`, e.g. the 1M-row `/work/big/big.csv`). Queries
//! from narrow to broad, an id, a miss and hostile ones (the server's
//! longest query, 256 bytes, of many words or of one long word). Before
//! the runs it prints the bytes the index of name words holds (its
//! vectors' capacities, the tree's nodes estimated), the time to build it from the names, and the time to
//! write and read the catalog's snapshot (which holds it).

mod common;

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use morelike_core::{Card, Catalog};

/// The search before the word index (issue 11), kept verbatim to bench
/// against: every product's name lowercased and scanned per query.
fn scan<'a>(catalog: &'a Catalog, query: &str, limit: usize) -> Vec<Card<'a>> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let mut found: Vec<Card<'_>> = Vec::new();
    if let Some(p) = catalog.get(query.trim()) {
        found.push(p);
    }
    if words.is_empty() {
        return found;
    }
    let mut by_name: Vec<Card<'_>> = catalog
        .products()
        .filter(|p| p.id() != query.trim())
        .filter(|p| {
            let name = p.name().to_lowercase();
            words.iter().all(|w| name.contains(w.as_str()))
        })
        .collect();
    by_name.sort_by(|a, b| a.name().len().cmp(&b.name().len()).then(a.id().cmp(b.id())));
    found.extend(by_name);
    found.truncate(limit);
    found
}

fn search(c: &mut Criterion) {
    let (label, mut catalog) = common::chosen_catalog();
    catalog.drop_search();
    let started = Instant::now();
    catalog.rebuild_search();
    let built = started.elapsed();
    let bytes = catalog.search_bytes();
    let started = Instant::now();
    let snapshot = catalog.to_snapshot(1);
    let written = started.elapsed();
    let started = Instant::now();
    let read = Catalog::from_snapshot(catalog.mapping().clone(), &snapshot, 1).unwrap();
    let loaded = started.elapsed();
    drop(read);
    // The same snapshot without the name words, to see what they add.
    let mut bare = Catalog::from_snapshot(catalog.mapping().clone(), &snapshot, 1).unwrap();
    bare.drop_search();
    let bare_snapshot = bare.to_snapshot(1);
    drop(bare);
    let started = Instant::now();
    drop(Catalog::from_snapshot(catalog.mapping().clone(), &bare_snapshot, 1).unwrap());
    let bare_loaded = started.elapsed();
    eprintln!(
        "search {label}: without the name words the snapshot is {:.0} MB, read in {:.0} ms",
        bare_snapshot.len() as f64 / 1e6,
        bare_loaded.as_secs_f64() * 1e3
    );
    drop(bare_snapshot);
    eprintln!(
        "search {label}: the name words take {:.1} MB ({:.0} B per product), \
         built from the names in {:.0} ms; the snapshot ({:.0} MB) is written in {:.0} ms, read in {:.0} ms",
        bytes as f64 / 1e6,
        bytes as f64 / catalog.len() as f64,
        built.as_secs_f64() * 1e3,
        snapshot.len() as f64 / 1e6,
        written.as_secs_f64() * 1e3,
        loaded.as_secs_f64() * 1e3
    );
    drop(snapshot);
    let many_words = "a b c d e f g h i j k l m n o p q r s t u v w x y z ".repeat(5);
    let long_word = "x".repeat(256);
    let queries: Vec<(&str, String)> = vec![
        ("narrow", "navy blue turtle shirt".into()),
        ("two_words", "navy shirt".into()),
        ("one_word", "shirt".into()),
        ("broad_prefix", "s".into()),
        ("id", "15970".into()),
        ("miss", "zzzz".into()),
        ("punctuation", "!!! ??? ...".into()),
        ("non_ascii", "ÇAĞRI çanta größe".into()),
        ("many_words_256b", many_words[..256].to_owned()),
        ("long_word_256b", long_word),
    ];
    let mut group = c.benchmark_group(format!("search_fashion_{label}"));
    for (name, query) in &queries {
        let found = catalog.search(query, 20).len();
        let scanned = scan(&catalog, query, 20).len();
        eprintln!(
            "search {label} {name}: {found} results (the scan: {scanned}) for {:?}",
            &query[..query.len().min(40)]
        );
        group.bench_function(format!("{name}/index"), |b| {
            b.iter(|| catalog.search(query, 20))
        });
        if std::env::var("MORELIKE_BENCH_SCAN").as_deref() != Ok("0") {
            group.bench_function(format!("{name}/scan"), |b| {
                b.iter(|| scan(&catalog, query, 20))
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(300));
    targets = search
}
criterion_main!(benches);

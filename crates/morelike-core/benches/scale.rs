//! Pages at scale: the next page of every strategy that scans, from
//! session states simulated shoppers of the default strategy reach, on
//! the catalog named by `MORELIKE_BENCH_CATALOG` (a CSV under
//! `examples/fashion.toml`, e.g. the 1M-row `/work/big/big.csv`), or on
//! the 44k fashion catalog when unset. Per strategy it prints p50/p99 of
//! one page and its agreement with the exact scan: the share of page items
//! equal to the page the exact scan serves for the same session state (a
//! store of `CLUSTER_FROM` products or more scans only the clusters nearest
//! each query; `MORELIKE_BENCH_CLUSTER=1` clusters a smaller one too (and
//! times clustering a large one again), and
//! `MORELIKE_BENCH_REACH=ROWS/SHARE` sets how much a scan visits).
//! `MORELIKE_BENCH_WEIGHTS=shipped` keeps the mapping's weights (default:
//! uniform, every view 1). `MORELIKE_BENCH_PAGES=FILE` appends every
//! state's page (strategy, state, ids) to FILE, so two builds' pages can
//! be compared item by item (`scripts/page-agreement`).
//! `MORELIKE_BENCH_STATES=bench` times the states `morelike bench` plays
//! instead (20 pages of one upvote and one downvote each, a "more" every
//! third): its late pages, after a dozen downvotes, are its slowest.

mod common;

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use morelike_core::index::Reach;
use morelike_core::{strategy, Catalog};

/// The chosen catalog at uniform weights (every view 1) unless
/// `MORELIKE_BENCH_WEIGHTS=shipped`.
fn catalog() -> (String, Catalog) {
    let (label, mut catalog) = common::chosen_catalog();
    if std::env::var("MORELIKE_BENCH_WEIGHTS").as_deref() != Ok("shipped") {
        let uniform = catalog
            .weights_by_name()
            .into_keys()
            .map(|view| (view, 1.0))
            .collect();
        catalog.set_weights(&uniform).unwrap();
    }
    (label, catalog)
}

/// How much a clustered store's scans visit (`MORELIKE_BENCH_REACH=ROWS/SHARE`).
fn reach() -> Reach {
    let Ok(spec) = std::env::var("MORELIKE_BENCH_REACH") else {
        return Reach::default();
    };
    let (rows, share) = spec
        .split_once('/')
        .expect("MORELIKE_BENCH_REACH=ROWS/SHARE, e.g. 4096/0.0625");
    Reach {
        min_rows: rows.parse().unwrap(),
        share: share.parse().unwrap(),
    }
}

fn scale(c: &mut Criterion) {
    let (label, mut catalog) = catalog();
    if std::env::var("MORELIKE_BENCH_CLUSTER").is_ok() {
        let started = Instant::now();
        catalog.cluster();
        eprintln!("clustered in {:.1} s", started.elapsed().as_secs_f64());
    }
    let reach = reach();
    eprintln!(
        "{} clusters; scans visit at least {} rows",
        catalog.index().cluster_count(),
        reach.rows(catalog.len())
    );
    let started = Instant::now();
    let states = if std::env::var("MORELIKE_BENCH_STATES").as_deref() == Ok("bench") {
        common::bench_states(&catalog, 16)
    } else {
        common::states(&catalog, 6)
    };
    eprintln!(
        "{} session states in {:.1} s",
        states.len(),
        started.elapsed().as_secs_f64()
    );
    let names = std::env::var("MORELIKE_BENCH_STRATEGIES")
        .unwrap_or_else(|_| "steer,probe,rocchio,average_vector,best_score,sum_scores".into());
    let mut group = c.benchmark_group(format!("page_fashion_{label}"));
    for name in names.split(',') {
        let s = strategy::by_name(name).unwrap();
        catalog.set_scan(true, reach);
        let exact = common::pages(&catalog, s.as_ref(), &states);
        catalog.set_scan(false, reach);
        let agreed = common::agreement(&exact, &common::pages(&catalog, s.as_ref(), &states));
        let mut times: Vec<Duration> = Vec::with_capacity(states.len() * 3);
        for _ in 0..3 {
            for state in &states {
                let mut next = state.clone();
                let started = Instant::now();
                next.next_page(&catalog, s.as_ref(), 42).unwrap();
                times.push(started.elapsed());
            }
        }
        times.sort();
        if let Ok(path) = std::env::var("MORELIKE_BENCH_PAGES") {
            use std::io::Write;
            let mut out = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .unwrap();
            for (i, state) in states.iter().enumerate() {
                let page = state.clone().next_page(&catalog, s.as_ref(), 42).unwrap();
                let ids: Vec<&str> = page.items.iter().map(|(id, _)| id.as_str()).collect();
                writeln!(out, "{label}\t{name}\t{i}\t{}", ids.join(",")).unwrap();
            }
        }
        println!(
            "page {label} {name}: {} pages, p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms, agreement with the exact scan {agreed:.4}",
            times.len(),
            common::percentile(&times, 0.5),
            common::percentile(&times, 0.9),
            common::percentile(&times, 0.99),
            common::percentile(&times, 1.0)
        );
        group.bench_function(name, |b| {
            let mut i = 0;
            b.iter(|| {
                let mut next = states[i % states.len()].clone();
                i += 1;
                next.next_page(&catalog, s.as_ref(), 42).unwrap()
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    targets = scale
}
criterion_main!(benches);

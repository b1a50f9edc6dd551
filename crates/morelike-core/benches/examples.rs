//! What each example of a session costs the strategies that score every
//! example separately (best_score, sum_scores): a page for the seed alone
//! (1 example) against a page for the seed, 2 upvotes and 2 downvotes
//! (5 examples, 5 shown products excluded), on the fashion catalog (44k
//! products, shipped mapping), at i8 and at f32. The states start from 24
//! seeds spread over the catalog; the votes go to products of the seed's
//! nearest 8. Each page is computed two ways in the same process: `batched`
//! (the strategy as shipped: best_score scores every example in one pass,
//! sum_scores searches once for the examples' sum) and
//! `one_scan_per_example` (the code before: `Index::score` once per example
//! per row).
//!
//! Criterion reports the mean over the states. After each precision, the
//! per-state page time (each state's best of 7 passes, the two ways
//! interleaved, so both see the same load on a shared machine) is printed
//! as p50 / p99 over the states, with the 5-example / 1-example ratio.
//!
//! `scan_5_queries` times the scoring alone: every row of the catalog
//! against 5 prepared queries, in one batch or as 5 batches of one, with
//! each kernel set this CPU can run (portable, avx2, avx512).

mod common;

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use morelike_core::index::{available, Filters, Hit, Prepared, QueryBatch, RowSet};
use morelike_core::strategy::{self, Context, Strategy, VoteAt};
use morelike_core::{Catalog, Precision, Vote};

/// A session state: the seed row, the votes, the rows shown.
struct State {
    seed: u32,
    votes: Vec<VoteAt>,
    exclude: RowSet,
}

/// The 1-example and the 5-example state of each of 24 seeds.
fn states(catalog: &Catalog) -> (Vec<State>, Vec<State>) {
    let index = catalog.index();
    let mut one = Vec::new();
    let mut five = Vec::new();
    for i in 0..24 {
        let seed = (i * index.row_count() / 24) as u32;
        let near = catalog
            .similar(index.id(seed), 8, &Filters::default())
            .unwrap();
        let vote = |at: usize, vote: Vote| VoteAt {
            row: near[at].row,
            vote,
            round: 1,
        };
        let votes = vec![
            vote(0, Vote::Up),
            vote(2, Vote::Up),
            vote(5, Vote::Down),
            vote(7, Vote::Down),
        ];
        let exclude = std::iter::once(seed)
            .chain(votes.iter().map(|v| v.row))
            .collect();
        one.push(State {
            seed,
            votes: Vec::new(),
            exclude: std::iter::once(seed).collect(),
        });
        five.push(State {
            seed,
            votes,
            exclude,
        });
    }
    (one, five)
}

/// best_score and sum_scores as they were: one `score` call per example
/// per row.
fn one_scan_per_example(cx: &Context<'_>, name: &str) -> Vec<Hit> {
    let (up, down) = (cx.positives(), cx.negatives());
    let prepare = |rows: &[u32]| -> Vec<Prepared> {
        rows.iter()
            .map(|&r| cx.index.prepare(&cx.index.point(r), cx.weights))
            .collect()
    };
    let (up_q, down_q) = (prepare(&up), prepare(&down));
    let mut up_s = vec![0.0; up_q.len()];
    let mut down_s = vec![0.0; down_q.len()];
    let best = name == "best_score";
    cx.index.scan(cx.k, None, cx.exclude, cx.filter, |row| {
        for (s, q) in up_s.iter_mut().zip(&up_q) {
            *s = cx.index.score(q, row);
        }
        for (s, q) in down_s.iter_mut().zip(&down_q) {
            *s = cx.index.score(q, row);
        }
        if best {
            let sigmoid = |x: f32| 0.5 * (x / (1.0 + x.abs()) + 1.0);
            let pos = up_s.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let neg = down_s.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            if pos > neg {
                sigmoid(pos)
            } else {
                -sigmoid(neg)
            }
        } else {
            up_s.iter().sum::<f32>() - down_s.iter().sum::<f32>()
        }
    })
}

/// A page for a state, the batched way or the old one.
fn page(catalog: &Catalog, state: &State, s: &dyn Strategy, batched: bool) -> Vec<Hit> {
    let filter = catalog.filter(&Filters::default()).unwrap();
    let cx = Context {
        index: catalog.index(),
        weights: catalog.weights(),
        seed: Some(state.seed),
        votes: &state.votes,
        exclude: &state.exclude,
        filter: &filter,
        k: 8,
        round: 1,
        rng_seed: 42,
    };
    if batched {
        s.page(&cx)
    } else {
        one_scan_per_example(&cx, s.name())
    }
}

const WAYS: [(&str, bool); 2] = [("batched", true), ("one_scan_per_example", false)];

fn examples(c: &mut Criterion) {
    let (mapping, products) = common::fashion();
    for precision in [Precision::I8, Precision::F32] {
        let catalog = Catalog::build(mapping.clone(), products.clone(), precision);
        let (one, five) = states(&catalog);
        let mut group = c.benchmark_group(format!("examples_fashion_44k_{precision:?}"));
        for name in ["best_score", "sum_scores"] {
            let s = strategy::by_name(name).unwrap();
            for (way, batched) in WAYS {
                let rows = |hits: Vec<Hit>| hits.iter().map(|h| h.row).collect::<Vec<_>>();
                assert_eq!(
                    rows(page(&catalog, &five[3], s.as_ref(), batched)),
                    rows(page(&catalog, &five[3], s.as_ref(), !batched)),
                    "both ways serve the same page"
                );
                for (label, states) in [("1_example", &one), ("5_examples", &five)] {
                    let id = BenchmarkId::new(format!("{name}/{way}"), label);
                    group.bench_function(id, |b| {
                        let mut i = 0;
                        b.iter(|| {
                            i += 1;
                            page(&catalog, &states[i % states.len()], s.as_ref(), batched)
                        })
                    });
                }
            }
        }
        group.finish();
        report(&catalog, &one, &five, precision);
    }
}

/// Each state's best of 7 passes, both ways interleaved; p50, p99 and the
/// 5 / 1 ratio of the p50s.
fn report(catalog: &Catalog, one: &[State], five: &[State], precision: Precision) {
    for name in ["best_score", "sum_scores"] {
        let s = strategy::by_name(name).unwrap();
        // best[way][size][state]
        let mut best = vec![vec![vec![Duration::MAX; one.len()]; 2]; 2];
        for _ in 0..7 {
            for (size, states) in [one, five].into_iter().enumerate() {
                for (i, state) in states.iter().enumerate() {
                    for (way, (_, batched)) in WAYS.into_iter().enumerate() {
                        let started = Instant::now();
                        std::hint::black_box(page(catalog, state, s.as_ref(), batched));
                        let took = started.elapsed();
                        best[way][size][i] = best[way][size][i].min(took);
                    }
                }
            }
        }
        for (way, (label, _)) in WAYS.into_iter().enumerate() {
            let mut p50 = [0.0; 2];
            for (size, examples) in ["1 example", "5 examples"].into_iter().enumerate() {
                let times = &mut best[way][size];
                times.sort();
                p50[size] = common::percentile(times, 0.5);
                println!(
                    "page {name} {precision:?} {label}, {examples}: each state's best of 7: p50 {:.3} ms, p99 {:.3} ms",
                    p50[size],
                    common::percentile(times, 0.99)
                );
            }
            println!(
                "page {name} {precision:?} {label}: 5 examples / 1 example (p50) = {:.2}",
                p50[1] / p50[0]
            );
        }
    }
}

fn scan_5_queries(c: &mut Criterion) {
    let (mapping, products) = common::fashion();
    for precision in [Precision::I8, Precision::F32] {
        let catalog = Catalog::build(mapping.clone(), products.clone(), precision);
        let index = catalog.index();
        let queries: Vec<_> = (0..5)
            .map(|i| {
                let row = (i * index.row_count() / 5) as u32;
                index.prepare(&index.point(row), catalog.weights())
            })
            .collect();
        let refs: Vec<_> = queries.iter().collect();
        let five = QueryBatch::new(&refs);
        let ones: Vec<QueryBatch> = refs.chunks(1).map(QueryBatch::new).collect();
        let rows = index.row_count() as u32;
        let mut group = c.benchmark_group(format!("scan_5_queries_44k_{precision:?}"));
        for set in available() {
            group.bench_function(BenchmarkId::new("one_batch_of_5", set.name), |b| {
                let mut out = [0.0f32; QueryBatch::MAX];
                b.iter(|| {
                    let mut total = 0.0;
                    for row in 0..rows {
                        index.score_batch_with(&set, &five, row, &mut out);
                        total += out[0] + out[4];
                    }
                    total
                })
            });
            group.bench_function(BenchmarkId::new("5_batches_of_1", set.name), |b| {
                let mut out = [0.0f32; QueryBatch::MAX];
                b.iter(|| {
                    let mut total = 0.0;
                    for row in 0..rows {
                        for one in &ones {
                            index.score_batch_with(&set, one, row, &mut out);
                            total += out[0];
                        }
                    }
                    total
                })
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(2));
    targets = examples, scan_5_queries
}
criterion_main!(benches);

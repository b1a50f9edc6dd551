//! Several examples scored in one pass over the rows give what one scan
//! per example gives: the same scores, to the bit, and the same pages
//! (best_score); sum_scores, one search for the examples' sum, gives the
//! same pages with the same scores but for float rounding.

use morelike_core::index::{available, kernels, Hit, Index, Prepared, QueryBatch, RowSet};
use morelike_core::strategy::{BestScore, Context, Strategy, SumScores, VoteAt};
use morelike_core::{Catalog, Filters, Vote};

use crate::helpers::{fashion, fashion_f32};

/// Example rows spread over the catalog.
fn examples(index: &Index, n: usize) -> Vec<u32> {
    (0..n)
        .map(|i| ((i * 7919 + 13) % index.row_count()) as u32)
        .filter(|&r| index.is_live(r))
        .collect()
}

fn prepared(catalog: &Catalog, rows: &[u32]) -> Vec<Prepared> {
    let index = catalog.index();
    rows.iter()
        .map(|&r| index.prepare(&index.point(r), catalog.weights()))
        .collect()
}

fn batch_scores_equal_one_query_scores(catalog: &Catalog) {
    let index = catalog.index();
    let queries = prepared(catalog, &examples(index, 8));
    let chosen = kernels().name;
    for n in 1..=QueryBatch::MAX {
        let batch = QueryBatch::new(&queries[..n].iter().collect::<Vec<_>>());
        assert_eq!(batch.len(), n);
        let mut out = [0.0f32; QueryBatch::MAX];
        for row in (0..index.row_count() as u32).step_by(5) {
            for set in available() {
                index.score_batch_with(&set, &batch, row, &mut out);
                for (q, &got) in queries[..n].iter().zip(&out) {
                    let one = index.score(q, row);
                    if set.name == chosen {
                        assert_eq!(got.to_bits(), one.to_bits(), "{} row {row}", set.name);
                    } else {
                        let tolerance = 1e-4 * one.abs().max(1.0);
                        assert!((got - one).abs() <= tolerance, "{} row {row}", set.name);
                    }
                }
            }
        }
    }
}

#[test]
fn a_batch_scores_each_row_as_score_does_for_each_query_at_i8() {
    batch_scores_equal_one_query_scores(&fashion().catalog);
}

#[test]
fn a_batch_scores_each_row_as_score_does_for_each_query_at_f32() {
    batch_scores_equal_one_query_scores(fashion_f32());
}

/// What best_score and sum_scores did before batches: one `score` call
/// per example per row.
fn one_scan_per_example(cx: &Context<'_>, combine: impl Fn(&[f32], &[f32]) -> f32) -> Vec<Hit> {
    let (up, down) = (cx.positives(), cx.negatives());
    let prepare = |rows: &[u32]| -> Vec<Prepared> {
        rows.iter()
            .map(|&r| cx.index.prepare(&cx.index.point(r), cx.weights))
            .collect()
    };
    let (up_q, down_q) = (prepare(&up), prepare(&down));
    cx.index.scan(cx.k, None, cx.exclude, cx.filter, |row| {
        let up_s: Vec<f32> = up_q.iter().map(|q| cx.index.score(q, row)).collect();
        let down_s: Vec<f32> = down_q.iter().map(|q| cx.index.score(q, row)).collect();
        combine(&up_s, &down_s)
    })
}

/// How a strategy combines a row's scores to the upvotes and downvotes.
type Combine = fn(&[f32], &[f32]) -> f32;

fn best(up: &[f32], down: &[f32]) -> f32 {
    let sigmoid = |x: f32| 0.5 * (x / (1.0 + x.abs()) + 1.0);
    let pos = up.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let neg = down.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if pos > neg {
        sigmoid(pos)
    } else {
        -sigmoid(neg)
    }
}

fn sum(up: &[f32], down: &[f32]) -> f32 {
    up.iter().sum::<f32>() - down.iter().sum::<f32>()
}

fn pages_equal_one_scan_per_example(catalog: &Catalog) {
    let index = catalog.index();
    let filter = catalog.filter(&Filters::default()).unwrap();
    let rows = examples(index, 40);
    // A seed alone; 2 up + 2 down; 6 up + 5 down (two batches).
    for (seed, ups, downs) in [(0, 0, 0), (1, 2, 2), (2, 6, 5), (3, 0, 3)] {
        let seed_row = rows[seed];
        let votes: Vec<VoteAt> = rows[10..10 + ups]
            .iter()
            .map(|&row| (row, Vote::Up))
            .chain(rows[20..20 + downs].iter().map(|&row| (row, Vote::Down)))
            .map(|(row, vote)| VoteAt {
                row,
                vote,
                round: 1,
            })
            .collect();
        let exclude: RowSet = std::iter::once(seed_row)
            .chain(votes.iter().map(|v| v.row))
            .collect();
        let cx = Context {
            index,
            weights: catalog.weights(),
            seed: Some(seed_row),
            votes: &votes,
            exclude: &exclude,
            filter: &filter,
            k: 8,
            round: 2,
            rng_seed: 7,
        };
        let pairs: [(&dyn Strategy, Combine); 2] = [(&BestScore, best), (&SumScores, sum)];
        for (strategy, combine) in pairs {
            let served = strategy.page(&cx);
            let reference = one_scan_per_example(&cx, combine);
            let what = format!("{} with {ups} up, {downs} down", strategy.name());
            assert_eq!(served.len(), 8, "{what}");
            let rows = |hits: &[Hit]| -> Vec<u32> { hits.iter().map(|h| h.row).collect() };
            assert_eq!(rows(&served), rows(&reference), "{what}");
            for (a, b) in served.iter().zip(&reference) {
                if strategy.name() == "best_score" {
                    assert_eq!(a.score.to_bits(), b.score.to_bits(), "{what}");
                } else {
                    let tolerance = 1e-5 * b.score.abs().max(1.0);
                    assert!(
                        (a.score - b.score).abs() <= tolerance,
                        "{what}: {a:?} {b:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn best_score_and_sum_scores_serve_the_pages_of_one_scan_per_example_at_i8() {
    pages_equal_one_scan_per_example(&fashion().catalog);
}

#[test]
fn best_score_and_sum_scores_serve_the_pages_of_one_scan_per_example_at_f32() {
    pages_equal_one_scan_per_example(fashion_f32());
}

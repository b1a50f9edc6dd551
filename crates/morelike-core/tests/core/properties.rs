//! Properties of scoring and sessions, checked on generated catalogs and on
//! the real fashion catalog.

use std::collections::{BTreeMap, HashSet};

use morelike_core::index::{CompiledFilter, Filters, Point, RowSet};
use morelike_core::strategy::{self, BestScore, Context, Strategy as _, VoteAt};
use morelike_core::{Catalog, Mapping, Precision, Product, Session, Vote};
use proptest::prelude::*;

use crate::helpers::{fashion, fashion_f32};

fn mapping() -> Mapping {
    Mapping::from_toml(
        r#"
        [fields]
        id = "id"
        name = "name"
        categorical = ["colour"]
        vectors = ["emb"]
        [[views]]
        name = "shape"
        kind = "vector"
        fields = ["emb"]
        [[views]]
        name = "colour"
        kind = "categorical"
        fields = ["colour"]
        "#,
    )
    .unwrap()
}

fn catalog_from(rows: &[(Vec<f32>, u8)], precision: Precision) -> Catalog {
    let products: Vec<Product> = rows
        .iter()
        .enumerate()
        .map(|(i, (emb, colour))| {
            let mut p = Product::new(i.to_string(), format!("p{i}"))
                .with_attribute("colour", &format!("c{colour}"));
            p.vectors.insert("emb".into(), emb.clone());
            p
        })
        .collect();
    Catalog::build(mapping(), products, precision)
}

fn rows(
    n: std::ops::Range<usize>,
) -> impl proptest::strategy::Strategy<Value = Vec<(Vec<f32>, u8)>> {
    prop::collection::vec(
        (
            prop::collection::vec(-1.0f32..1.0, 6)
                .prop_filter("non-zero", |v| v.iter().any(|x| x.abs() > 0.05)),
            0u8..3,
        ),
        n,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_page_never_repeats_a_shown_product(
        catalog_rows in rows(20..60),
        actions in prop::collection::vec((0usize..8, any::<bool>()), 0..6),
        which in 0usize..7,
    ) {
        let catalog = catalog_from(&catalog_rows, Precision::I8);
        let strategy = &strategy::all()[which];
        let mut session = Session::start(&catalog, "0", 4, Filters::default()).unwrap();
        let mut seen: HashSet<String> = HashSet::from(["0".to_owned()]);
        let mut last_page = Vec::new();
        for (pick, up) in actions {
            if let Some((id, _)) = last_page.get(pick % last_page.len().max(1)) {
                let vote = if up { Vote::Up } else { Vote::Down };
                session.vote(&catalog, &[(String::clone(id), vote)]);
            }
            let page = session.next_page(&catalog, strategy.as_ref(), 7).unwrap();
            for (id, _) in &page.items {
                prop_assert!(seen.insert(id.clone()), "{} showed {id} twice", strategy.name());
            }
            last_page = page.items;
        }
    }

    #[test]
    fn best_score_ranks_anything_closer_to_an_upvote_above_anything_closer_to_a_downvote(
        catalog_rows in rows(12..40),
        up in 1usize..6,
        down in 6usize..11,
    ) {
        let catalog = catalog_from(&catalog_rows, Precision::F32);
        let index = catalog.index();
        let votes = [
            VoteAt { row: index.row(&up.to_string()).unwrap(), vote: Vote::Up, round: 0 },
            VoteAt { row: index.row(&down.to_string()).unwrap(), vote: Vote::Down, round: 0 },
        ];
        let exclude: RowSet = [0, votes[0].row, votes[1].row].into_iter().collect();
        let filter = CompiledFilter::default();
        let cx = Context {
            index, weights: catalog.weights(), seed: index.row("0"), votes: &votes,
            exclude: &exclude, filter: &filter, k: catalog_rows.len(), round: 0, rng_seed: 1,
        };
        let page = BestScore.page(&cx);
        let sim = |a: u32, b: u32| index.point(a).dot(&index.point(b), index.layout(), catalog.weights());
        let closer_to_up: Vec<bool> = page
            .iter()
            .map(|h| sim(h.row, 0).max(sim(h.row, votes[0].row)) > sim(h.row, votes[1].row))
            .collect();
        // Once a product closer to the downvote appears, no product closer to an upvote follows.
        if let Some(first_down) = closer_to_up.iter().position(|c| !c) {
            prop_assert!(closer_to_up[first_down..].iter().all(|c| !c), "{closer_to_up:?}");
        }
    }

    #[test]
    fn a_zero_weight_removes_a_views_influence(
        catalog_rows in rows(10..30),
        recolour in prop::collection::vec(0u8..3, 30),
    ) {
        let mut catalog = catalog_from(&catalog_rows, Precision::F32);
        catalog.set_weights(&BTreeMap::from([("colour".to_owned(), 0.0)])).unwrap();
        let recoloured: Vec<(Vec<f32>, u8)> = catalog_rows
            .iter()
            .zip(&recolour)
            .map(|((e, _), c)| (e.clone(), *c))
            .collect();
        let mut other = catalog_from(&recoloured, Precision::F32);
        other.set_weights(&BTreeMap::from([("colour".to_owned(), 0.0)])).unwrap();
        let a = catalog.similar("0", 5, &Filters::default()).unwrap();
        let b = other.similar("0", 5, &Filters::default()).unwrap();
        for (x, y) in a.iter().zip(&b) {
            prop_assert!((x.score - y.score).abs() < 1e-5);
        }
        // And with the colour weighted, colour does move scores.
        let point: Point = catalog.index().point(0);
        prop_assert!(point.view_norm(catalog.index().layout(), 1) > 0.99);
    }
}

#[test]
fn quantized_top_10_agrees_with_f32_top_10_on_the_fashion_catalog() {
    let quantized = &fashion().catalog;
    let exact = fashion_f32();
    let (mut agree, mut total) = (0usize, 0usize);
    let ids: Vec<&str> = fashion()
        .products
        .iter()
        .step_by(223)
        .map(|p| p.id.as_str())
        .collect();
    assert!(ids.len() >= 190);
    let weights = exact.weights().to_vec();
    for id in ids {
        let truth = exact.similar(id, 10, &Filters::default()).unwrap();
        let got = quantized.similar(id, 10, &Filters::default()).unwrap();
        // Ties are common (identical attributes): an id agrees when its exact
        // score reaches the exact 10th score.
        let tenth = truth.last().unwrap().score;
        let seed = exact.index().point(exact.index().row(id).unwrap());
        for hit in &got {
            let row = exact.index().row(quantized.index().id(hit.row)).unwrap();
            let score = seed.dot(&exact.index().point(row), exact.index().layout(), &weights);
            total += 1;
            if score >= tenth - 1e-4 {
                agree += 1;
            }
        }
    }
    let rate = agree as f64 / total as f64;
    assert!(rate >= 0.95, "quantized top-10 agreement {rate:.3} < 0.95");
}

#[test]
fn the_pruned_search_finds_exactly_what_a_full_scan_finds_on_the_fashion_catalog() {
    for catalog in [&fashion().catalog, fashion_f32()] {
        let index = catalog.index();
        let filter = CompiledFilter::default();
        let exclude = RowSet::default();
        for row in (0..index.row_count() as u32).step_by(977) {
            let query = index.prepare(&index.point(row), catalog.weights());
            let pruned = index.search(&query, 10, &exclude, &filter);
            let full = index.scan(10, None, &exclude, &filter, |r| index.score(&query, r));
            let ids =
                |hits: &[morelike_core::index::Hit]| hits.iter().map(|h| h.row).collect::<Vec<_>>();
            assert_eq!(ids(&pruned), ids(&full), "row {row}");
        }
    }
}

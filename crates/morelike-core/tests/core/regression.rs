//! One test per fixed bug, named after it.

use morelike_core::index::Filters;
use morelike_core::strategy::{self, Probe};
use morelike_core::{Catalog, Mapping, Precision, Product, Session};

/// Issue 9: match counts per categorical view were `u8`, so a view of more
/// than 255 fields overflowed (a panic in debug builds, wrong similarities
/// in release: a product matching all 300 fields counted 44).
#[test]
fn a_categorical_view_of_more_than_255_fields_overflows_a_u8() {
    const FIELDS: usize = 300;
    let fields: Vec<String> = (0..FIELDS).map(|i| format!("f{i}")).collect();
    let list = fields
        .iter()
        .map(|f| format!("\"{f}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mapping = Mapping::from_toml(&format!(
        "[fields]\nid = \"id\"\nname = \"name\"\ncategorical = [{list}]\n\
         [[views]]\nname = \"facets\"\nkind = \"categorical\"\nfields = [{list}]\n"
    ))
    .unwrap();
    let product = |id: &str, name: &str, same: usize| {
        fields
            .iter()
            .enumerate()
            .fold(Product::new(id, name), |p, (i, f)| {
                p.with_attribute(f, if i < same { "a" } else { "b" })
            })
    };
    let catalog = Catalog::build(
        mapping,
        vec![
            product("seed", "seed", FIELDS),
            product("twin", "twin", FIELDS),
            product("most", "most", 250),
            product("none", "none", 0),
        ],
        Precision::F32,
    );
    for s in [
        Box::new(Probe::default()) as Box<dyn strategy::Strategy>,
        strategy::by_name("steer").unwrap(),
    ] {
        let mut session = Session::start(&catalog, "seed", 3, Filters::default()).unwrap();
        let page = session.next_page(&catalog, s.as_ref(), 1).unwrap();
        let twin = page.items.iter().find(|(id, _)| id == "twin");
        let score = twin.map(|(_, score)| *score);
        assert!(
            score.is_some_and(|x| (x - 1.0).abs() < 1e-4),
            "{}: the twin matches all {FIELDS} fields and scores 1, got {:?}",
            s.name(),
            page.items
        );
    }
}

/// Issue 9: `explain` scored every product with Rocchio, whatever strategy
/// served the page (page score 6.000, explanation 5.669). Each strategy now
/// explains its own score: the same number the page gave, split by view and
/// by example, both adding up.
#[test]
fn explain_scores_with_rocchio_whatever_strategy_served_the_page() {
    use morelike_core::Vote;

    let catalog = &crate::helpers::fashion().catalog;
    for name in [
        "steer",
        "rocchio",
        "seed_only",
        "average_vector",
        "sum_scores",
        "random",
    ] {
        let s = strategy::by_name(name).unwrap();
        let mut session = Session::start(catalog, "15970", 8, Filters::default()).unwrap();
        let first = session.next_page(catalog, s.as_ref(), 3).unwrap();
        let liked = first.items[1].0.clone();
        session.vote(
            catalog,
            &[
                (liked.clone(), Vote::Up),
                (first.items[6].0.clone(), Vote::Down),
            ],
        );
        let page = session.next_page(catalog, s.as_ref(), 3).unwrap();
        for (id, score) in &page.items {
            let e = session.explain(catalog, s.as_ref(), id).unwrap();
            let by_view: f32 = e.views.iter().map(|v| v.contribution).sum();
            let by_example: f32 = e.examples.iter().map(|x| x.contribution).sum();
            let close = |a: f32, b: f32| (a - b).abs() <= 1e-3 * (1.0 + b.abs());
            assert!(
                close(e.score, *score),
                "{name}: {id} was served at {score}, explained at {}",
                e.score
            );
            assert!(close(by_view, e.score), "{name}: views add to {by_view}");
            assert!(
                close(by_example, e.score),
                "{name}: examples add to {by_example}"
            );
            assert_eq!(e.strategy, name);
            assert_eq!(e.examples.len(), 3, "{name}: the seed and two votes");
        }
        if name == "steer" {
            let e = session
                .explain(catalog, s.as_ref(), &page.items[0].0)
                .unwrap();
            assert_eq!(e.anchor.as_deref(), Some(liked.as_str()));
        }
    }
}

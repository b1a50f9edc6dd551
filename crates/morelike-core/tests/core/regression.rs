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

//! Clustered stores: a store of [`CLUSTER_FROM`] products or more scans
//! only the clusters nearest each query. Its pages must agree with the exact
//! scan, survive a snapshot, and keep filters, shown products, upserts and
//! deletes true. The large path runs on a 222k-product store made from the
//! fashion catalog (five copies, each with its colours re-drawn).

use std::sync::OnceLock;

use morelike_core::index::{Filters, Reach, CLUSTER_FROM};
use morelike_core::{strategy, Catalog, Precision, Product, Session, Vote};

use crate::helpers::fashion;

/// The scanning strategies (steer works on kinds and never scans rows).
const SCANNING: [&str; 6] = [
    "probe",
    "rocchio",
    "average_vector",
    "best_score",
    "sum_scores",
    "seed_only",
];

/// The fashion catalog five times over, colours re-drawn per copy.
fn large() -> &'static Catalog {
    static LARGE: OnceLock<Catalog> = OnceLock::new();
    LARGE.get_or_init(|| {
        let base = fashion();
        let colours: Vec<String> = {
            let mut c: Vec<String> = base
                .products
                .iter()
                .filter_map(|p| p.attributes.get("baseColour").cloned())
                .collect();
            c.sort();
            c.dedup();
            c
        };
        let products = (0..5).flat_map(|copy| {
            let colours = &colours;
            base.products.iter().enumerate().map(move |(i, p)| {
                let mut p = p.clone();
                p.id = format!("{}-{copy}", p.id);
                if copy > 0 {
                    let colour = &colours[(i * 7 + copy * 13) % colours.len()];
                    p.attributes.insert("baseColour".into(), colour.clone());
                }
                p
            })
        });
        Catalog::build(base.catalog.mapping().clone(), products, Precision::I8)
    })
}

/// Sessions of a few rounds from seeds spread over the store: the seed
/// alone, then an upvote and a downvote from the pages served.
fn states(catalog: &Catalog, seeds: usize) -> Vec<Session> {
    let probe = strategy::by_name("probe").unwrap();
    let step = catalog.len() / seeds;
    let mut states = Vec::new();
    for i in 0..seeds {
        let seed = catalog.index().id((i * step) as u32).to_owned();
        let mut session = Session::start(catalog, &seed, 8, Filters::default()).unwrap();
        states.push(session.clone());
        let page = session.next_page(catalog, probe.as_ref(), 1).unwrap();
        let (up, down) = (page.items[0].0.clone(), page.items[1].0.clone());
        session.vote(catalog, &[(up, Vote::Up), (down, Vote::Down)]);
        states.push(session.clone());
    }
    states
}

/// The share of items equal between the pages the exact scan and the
/// clusters serve for the same states, and whether any page broke a rule.
fn agreement(catalog: &mut Catalog, name: &str, states: &[Session]) -> f64 {
    let s = strategy::by_name(name).unwrap();
    let pages = |catalog: &Catalog| -> Vec<Vec<String>> {
        states
            .iter()
            .map(|state| {
                let page = state.clone().next_page(catalog, s.as_ref(), 7).unwrap();
                page.items.into_iter().map(|(id, _)| id).collect()
            })
            .collect()
    };
    catalog.set_scan(true, Reach::default());
    let exact = pages(catalog);
    catalog.set_scan(false, Reach::default());
    let near = pages(catalog);
    let (mut same, mut total) = (0, 0);
    for (e, n) in exact.iter().zip(&near) {
        assert_eq!(e.len(), n.len(), "{name}: a page came back short");
        total += e.len();
        same += n.iter().filter(|id| e.contains(id)).count();
    }
    same as f64 / total as f64
}

/// Every live row is in exactly one cluster.
fn assert_every_row_in_one_cluster(catalog: &Catalog) {
    let index = catalog.index();
    let mut seen = vec![0u8; index.row_count()];
    for c in 0..index.cluster_count() {
        let rows = index.cluster_rows(c);
        assert!(rows.windows(2).all(|w| w[0] < w[1]), "rows sorted");
        for &r in rows {
            seen[r as usize] += 1;
        }
    }
    for (row, &n) in seen.iter().enumerate() {
        let live = index.is_live(row as u32);
        assert_eq!(
            n,
            u8::from(live),
            "row {row} (live: {live}) is in {n} clusters"
        );
    }
}

#[test]
fn a_large_store_is_clustered_when_built_with_every_row_in_one_cluster() {
    let catalog = large();
    assert!(catalog.len() >= CLUSTER_FROM, "{} products", catalog.len());
    let clusters = catalog.index().cluster_count();
    let expected = 2.0 * (catalog.len() as f64).sqrt();
    assert!(
        (0.5 * expected..=1.2 * expected).contains(&(clusters as f64)),
        "{clusters} clusters for {} products",
        catalog.len()
    );
    assert_every_row_in_one_cluster(catalog);
    assert_eq!(
        fashion().catalog.index().cluster_count(),
        0,
        "44k is scanned whole"
    );
}

#[test]
fn every_scanning_strategy_agrees_with_the_exact_scan_on_95_percent_of_items() {
    let mut catalog =
        Catalog::from_snapshot(large().mapping().clone(), &large().to_snapshot(1), 1).unwrap();
    let states = states(&catalog, 40);
    for name in SCANNING {
        let agreed = agreement(&mut catalog, name, &states);
        assert!(
            agreed >= 0.95,
            "{name}: {agreed:.3} of items agree with the exact scan"
        );
    }
}

#[test]
fn a_snapshot_keeps_the_clusters_and_their_pages() {
    let built = large();
    let read = Catalog::from_snapshot(built.mapping().clone(), &built.to_snapshot(9), 9).unwrap();
    assert_eq!(read.index().cluster_count(), built.index().cluster_count());
    for c in [0, built.index().cluster_count() / 2] {
        assert_eq!(read.index().cluster_rows(c), built.index().cluster_rows(c));
    }
    let s = strategy::by_name("average_vector").unwrap();
    for state in states(built, 10) {
        let a = state.clone().next_page(built, s.as_ref(), 3).unwrap();
        let b = state.clone().next_page(&read, s.as_ref(), 3).unwrap();
        assert_eq!(a.items, b.items);
    }
}

/// The 44k catalog clustered, scans visiting an eighth of it.
fn small_clustered() -> Catalog {
    let base = fashion();
    let mut catalog = Catalog::build(
        base.catalog.mapping().clone(),
        base.products.clone(),
        Precision::I8,
    );
    catalog.cluster();
    catalog.set_scan(
        false,
        Reach {
            min_rows: 0,
            share: 0.125,
        },
    );
    catalog
}

#[test]
fn upserts_and_deletes_keep_every_row_in_one_cluster_and_new_products_findable() {
    let mut catalog = small_clustered();
    let original: Product = fashion().products[100].clone();
    let mut copy = original.clone();
    copy.id = "copy-of-100".into();
    catalog.upsert(copy);
    let mut moved = fashion().products[200].clone();
    moved
        .attributes
        .insert("baseColour".into(), "Fluorescent Green".into());
    catalog.upsert(moved);
    for p in &fashion().products[300..340] {
        assert!(catalog.delete(&p.id));
    }
    assert_every_row_in_one_cluster(&catalog);
    let similar = catalog
        .similar(&original.id, 8, &Filters::default())
        .unwrap();
    let ids: Vec<&str> = similar.iter().map(|h| catalog.index().id(h.row)).collect();
    assert!(
        ids.contains(&"copy-of-100"),
        "a new copy is among its original's nearest: {ids:?}"
    );
    let deleted = &fashion().products[300].id;
    for state in states(&catalog, 20) {
        for name in SCANNING {
            let page = state
                .clone()
                .next_page(&catalog, strategy::by_name(name).unwrap().as_ref(), 1)
                .unwrap();
            assert!(
                page.items.iter().all(|(id, _)| id != deleted),
                "{name} showed a deleted product"
            );
        }
    }
}

#[test]
fn filters_and_shown_products_hold_in_a_clustered_store() {
    let catalog = small_clustered();
    // A rare colour: few clusters hold it, so the scan must look further.
    let rare = "Mauve";
    let n = fashion()
        .products
        .iter()
        .filter(|p| p.attributes.get("baseColour").map(String::as_str) == Some(rare))
        .count();
    assert!((16..400).contains(&n), "{n} mauve products");
    let filters = Filters {
        attributes: [("baseColour".to_owned(), vec![rare.to_owned()])].into(),
        ..Filters::default()
    };
    let seed = &fashion().products[0].id;
    for name in SCANNING {
        let s = strategy::by_name(name).unwrap();
        let mut session = Session::start(&catalog, seed, 8, filters.clone()).unwrap();
        let mut shown = std::collections::HashSet::new();
        for _ in 0..2 {
            let page = session.next_page(&catalog, s.as_ref(), 1).unwrap();
            assert_eq!(page.items.len(), 8, "{name}: a filtered page still fills");
            for (id, _) in &page.items {
                let card = catalog.get(id).unwrap();
                assert_eq!(
                    card.attribute("baseColour"),
                    Some(rare),
                    "{name} broke the filter"
                );
                assert!(shown.insert(id.clone()), "{name} showed {id} twice");
            }
        }
    }
}

//! A store at f32 reads the i8 copy of each row a scan visits first and
//! its f32 row only when it could still enter the page: its pages are the
//! exact f32 pages (same products, same f32 scores), after upserts,
//! clustering and a snapshot too; a store at i8 has no copy.

use morelike_core::index::{Filters, Reach};
use morelike_core::{strategy, Catalog, Mapping, Precision, Product, Session, Vote};

const STRATEGIES: [&str; 4] = ["average_vector", "best_score", "sum_scores", "rocchio"];

fn mapping() -> Mapping {
    Mapping::from_toml(
        r#"
        [fields]
        id = "id"
        name = "name"
        categorical = ["colour"]
        vectors = ["emb"]
        [[views]]
        name = "emb"
        kind = "vector"
        fields = ["emb"]
        [[views]]
        name = "colour"
        kind = "categorical"
        fields = ["colour"]
        weight = 0.3
        "#,
    )
    .unwrap()
}

/// Products around 40 centres in 32 dimensions, one of 5 colours each.
fn products(n: usize, seed: u64) -> Vec<Product> {
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let centres: Vec<Vec<f32>> = (0..40).map(|_| (0..32).map(|_| next()).collect()).collect();
    (0..n)
        .map(|i| {
            let emb: Vec<f32> = centres[i % 40].iter().map(|c| c + 0.4 * next()).collect();
            let mut p = Product::new(format!("p{i}"), format!("product {i}"))
                .with_attribute("colour", &format!("c{}", i % 5));
            p.vectors.insert("emb".into(), emb);
            p
        })
        .collect()
}

/// Sessions from spread seeds: two pages of seed_only, then an upvote and
/// a downvote of the second page.
fn states(catalog: &Catalog, n: usize) -> Vec<Session> {
    let seed_only = strategy::by_name("seed_only").unwrap();
    (0..n)
        .map(|i| {
            let seed = catalog
                .index()
                .id((i * 37 % catalog.len()) as u32)
                .to_owned();
            let mut s = Session::start(catalog, &seed, 8, Filters::default()).unwrap();
            s.next_page(catalog, seed_only.as_ref(), 1).unwrap();
            let page = s.next_page(catalog, seed_only.as_ref(), 1).unwrap();
            s.vote(
                catalog,
                &[
                    (page.items[1].0.clone(), Vote::Up),
                    (page.items[5].0.clone(), Vote::Down),
                ],
            );
            s
        })
        .collect()
}

/// Every state's next page, ranked on the i8 copy (`exact` false) or by
/// the f32 rows alone.
fn pages(
    catalog: &mut Catalog,
    name: &str,
    states: &[Session],
    exact: bool,
) -> Vec<Vec<(String, f32)>> {
    catalog.set_scan(exact, Reach::default());
    let s = strategy::by_name(name).unwrap();
    let out = states
        .iter()
        .map(|state| {
            state
                .clone()
                .next_page(catalog, s.as_ref(), 3)
                .unwrap()
                .items
        })
        .collect();
    catalog.set_scan(false, Reach::default());
    out
}

/// The share of page items equal in both, and whether every shared item
/// has the same score to the bit.
fn compare(a: &[Vec<(String, f32)>], b: &[Vec<(String, f32)>]) -> (f64, bool) {
    let (mut same, mut total, mut scores_equal) = (0, 0, true);
    for (x, y) in a.iter().zip(b) {
        total += x.len().max(y.len());
        for (id, score) in x {
            if let Some((_, other)) = y.iter().find(|(o, _)| o == id) {
                same += 1;
                scores_equal &= score.to_bits() == other.to_bits();
            }
        }
    }
    (same as f64 / total.max(1) as f64, scores_equal)
}

fn assert_pages_are_the_exact_ones(catalog: &mut Catalog, when: &str) {
    let states = states(catalog, 60);
    for name in STRATEGIES {
        let exact = pages(catalog, name, &states, true);
        let ranked = pages(catalog, name, &states, false);
        let (agreement, scores_equal) = compare(&ranked, &exact);
        assert!(agreement >= 0.99, "{when}: {name} agrees on {agreement:.4}");
        assert!(scores_equal, "{when}: {name}'s scores are not the f32 ones");
    }
}

#[test]
fn a_store_at_f32_ranks_on_i8_and_serves_the_exact_f32_pages() {
    let mut catalog = Catalog::build(mapping(), products(4000, 7), Precision::F32);
    assert!(catalog.index().ranks_coarse());
    catalog.set_scan(true, Reach::default());
    assert!(
        !catalog.index().ranks_coarse(),
        "an exact scan ranks at f32"
    );
    catalog.set_scan(false, Reach::default());
    assert_pages_are_the_exact_ones(&mut catalog, "built");

    let i8s = Catalog::build(mapping(), products(50, 7), Precision::I8);
    assert!(!i8s.index().ranks_coarse(), "a store at i8 has no copy");
}

#[test]
fn upserts_clusters_and_snapshots_keep_the_i8_copy_in_step() {
    let mut catalog = Catalog::build(mapping(), products(3000, 11), Precision::F32);
    // New products and replaced ones: each a copy of another's vector.
    for (i, p) in products(3000, 11).into_iter().take(200).enumerate() {
        let id = if i % 2 == 0 {
            format!("new{i}")
        } else {
            format!("p{}", 2999 - i)
        };
        let mut copy = Product::new(id.clone(), format!("copy {i}"))
            .with_attribute("colour", &format!("c{}", i % 5));
        copy.vectors = p.vectors.clone();
        catalog.upsert(copy);
        let similar = catalog
            .similar(&format!("p{i}"), 3, &Filters::default())
            .unwrap();
        let found = similar.iter().any(|h| catalog.index().id(h.row) == id);
        assert!(found, "the copy {id} of p{i} is among its 3 most similar");
    }
    catalog.delete("p3");
    assert_pages_are_the_exact_ones(&mut catalog, "after upserts");

    catalog.cluster();
    assert!(catalog.index().cluster_count() > 0);
    let states = states(&catalog, 30);
    let clustered = pages(&mut catalog, "average_vector", &states, false);
    let mut read =
        Catalog::from_snapshot(catalog.mapping().clone(), &catalog.to_snapshot(5), 5).unwrap();
    assert!(
        read.index().ranks_coarse(),
        "the snapshot keeps the i8 copy"
    );
    assert_eq!(
        pages(&mut read, "average_vector", &states, false),
        clustered,
        "a snapshot serves the same pages"
    );
    // Clustered (rows moved), a scan of this small store still visits
    // every row: the pages are the exact ones.
    let exact = pages(&mut catalog, "average_vector", &states, true);
    let (agreement, scores_equal) = compare(&clustered, &exact);
    assert!(agreement >= 0.99, "clustered pages agree on {agreement:.4}");
    assert!(scores_equal, "clustered pages hold the f32 scores");
}

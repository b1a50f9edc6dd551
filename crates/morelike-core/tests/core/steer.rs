//! The default strategy as a shopper meets it, on the real fashion catalog
//! at the shipped (uniform) weights: page one is "more like this", a
//! downvote is obeyed, an upvote of the wanted kind fills the next pages,
//! and no page shows two products of one name.

use std::collections::HashMap;

use morelike_core::index::Filters;
use morelike_core::product::normalized_name;
use morelike_core::{strategy, Catalog, Session, Vote};

use crate::helpers::fashion;

fn class(catalog: &Catalog, id: &str) -> (String, String, String) {
    let p = catalog.get(id).unwrap();
    let a = |f: &str| p.attribute(f).unwrap_or_default().to_owned();
    (a("gender"), a("articleType"), a("baseColour"))
}

#[test]
fn page_one_from_a_mens_navy_shirt_is_mens_shirts() {
    let catalog = &fashion().catalog;
    let steer = strategy::by_name(strategy::DEFAULT).unwrap();
    let mut session = Session::start(catalog, "15970", 8, Filters::default()).unwrap();
    let page = session.next_page(catalog, steer.as_ref(), 1).unwrap();
    let shirts = page
        .items
        .iter()
        .filter(|(id, _)| {
            let (g, t, _) = class(catalog, id);
            g == "Men" && t == "Shirts"
        })
        .count();
    assert!(
        shirts >= 6,
        "{shirts} of 8 are men's shirts: {:?}",
        page.items
    );
    let navy = page
        .items
        .iter()
        .filter(|(id, _)| class(catalog, id) == class(catalog, "15970"))
        .count();
    assert!(navy >= 5, "{navy} of 8 are men's navy shirts");
}

#[test]
fn a_small_page_shows_the_nearest_products_a_page_of_eight_shows_first() {
    // A tester's finding: with k = 1 the seed 15970 got 23667 (5.521)
    // while a page of eight led with 21121 (5.539): the small page sampled
    // fewer of the seed's kind. Now every k up to 8 samples as 8 does.
    let catalog = &fashion().catalog;
    let steer = strategy::by_name(strategy::DEFAULT).unwrap();
    let first = |seed: &str, k: usize| {
        let mut session = Session::start(catalog, seed, k, Filters::default()).unwrap();
        let page = session.next_page(catalog, steer.as_ref(), 1).unwrap();
        page.items.into_iter().map(|(id, _)| id).collect::<Vec<_>>()
    };
    for seed in ["15970", "20000", "39386", "59263", "21379", "2779", "1163"] {
        let eight = first(seed, 8);
        for k in 1..8 {
            let small = first(seed, k);
            assert_eq!(small.len(), k, "{seed} k={k}");
            assert_eq!(
                small[0], eight[0],
                "{seed}: the best of a page of {k} is the best of a page of 8: {small:?} vs {eight:?}"
            );
        }
    }
}

#[test]
fn a_kind_downvoted_twice_never_comes_back() {
    // The issue's walk: from seed 2779, Not My Style on the first product
    // of every page.
    let catalog = &fashion().catalog;
    let steer = strategy::by_name(strategy::DEFAULT).unwrap();
    let mut session = Session::start(catalog, "2779", 8, Filters::default()).unwrap();
    let mut downvoted: HashMap<(String, String, String), u32> = HashMap::new();
    for round in 1..=11 {
        let page = session.next_page(catalog, steer.as_ref(), 1).unwrap();
        assert_eq!(page.items.len(), 8, "round {round}");
        for (id, _) in &page.items {
            let c = class(catalog, id);
            assert!(
                downvoted.get(&c).copied().unwrap_or(0) < 2,
                "round {round}: {c:?} was downvoted twice and is back"
            );
        }
        let first = page.items[0].0.clone();
        *downvoted.entry(class(catalog, &first)).or_default() += 1;
        session.vote(catalog, &[(first, Vote::Down)]);
    }
}

#[test]
fn upvoting_the_wanted_kind_fills_the_next_pages_with_it() {
    let catalog = &fashion().catalog;
    let steer = strategy::by_name(strategy::DEFAULT).unwrap();
    let mut session = Session::start(catalog, "15970", 8, Filters::default()).unwrap();
    let mut page = session.next_page(catalog, steer.as_ref(), 1).unwrap();
    // The shopper wants men's shirts of another colour than navy: down on
    // navy until one is shown, then up on it, twice.
    let mut wanted = None;
    for _ in 0..6 {
        let other = page.items.iter().find(|(id, _)| {
            let (g, t, c) = class(catalog, id);
            g == "Men" && t == "Shirts" && c != "Navy Blue"
        });
        match (wanted.clone(), other) {
            (None, Some((id, _))) => wanted = Some(class(catalog, id)),
            (None, None) => {
                let first = page.items[0].0.clone();
                session.vote(catalog, &[(first, Vote::Down)]);
                page = session.next_page(catalog, steer.as_ref(), 1).unwrap();
                continue;
            }
            _ => {}
        }
        let want = wanted.clone().unwrap();
        let up = page
            .items
            .iter()
            .find(|(id, _)| class(catalog, id) == want)
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| page.items[0].0.clone());
        session.vote(catalog, &[(up, Vote::Up)]);
        page = session.next_page(catalog, steer.as_ref(), 1).unwrap();
        let share = page
            .items
            .iter()
            .filter(|(id, _)| class(catalog, id) == want)
            .count();
        if share >= 5 {
            return;
        }
    }
    panic!("upvotes of {wanted:?} never filled a page with it");
}

#[test]
fn no_page_shows_two_products_of_one_name_nor_a_name_already_shown() {
    let catalog = &fashion().catalog;
    let steer = strategy::by_name(strategy::DEFAULT).unwrap();
    for seed in ["15970", "2779", "39386", "1855", "21379"] {
        let mut session = Session::start(catalog, seed, 8, Filters::default()).unwrap();
        let mut seen = vec![normalized_name(catalog.get(seed).unwrap().name())];
        for round in 0..8 {
            let page = session.next_page(catalog, steer.as_ref(), 1).unwrap();
            for (id, _) in &page.items {
                let name = normalized_name(catalog.get(id).unwrap().name());
                assert!(
                    !seen.contains(&name),
                    "seed {seed}, round {round}: '{name}' again"
                );
                seen.push(name);
            }
            let (up, down) = (page.items[round % 8].0.clone(), page.items[7].0.clone());
            session.vote(catalog, &[(up, Vote::Up), (down, Vote::Down)]);
        }
    }
}

/// A store of one vector view and nothing categorical: every product is of
/// one kind, so a kind rule must not ban them all.
fn vectors_only(n: usize) -> Catalog {
    let mapping = morelike_core::Mapping::from_toml(
        r#"
        [fields]
        id = "id"
        name = "name"
        vectors = ["emb"]
        [[views]]
        name = "emb"
        kind = "vector"
        fields = ["emb"]
        "#,
    )
    .unwrap();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let centres: Vec<Vec<f32>> = (0..30).map(|_| (0..16).map(|_| next()).collect()).collect();
    let products: Vec<morelike_core::Product> = (0..n)
        .map(|i| {
            let mut p = morelike_core::Product::new(i.to_string(), format!("product {i}"));
            let emb: Vec<f32> = centres[i % centres.len()]
                .iter()
                .map(|c| c + 0.3 * next())
                .collect();
            p.vectors.insert("emb".into(), emb);
            p
        })
        .collect();
    Catalog::build(mapping, products, morelike_core::Precision::I8)
}

#[test]
fn downvotes_in_a_store_without_kinds_leave_every_page_full() {
    let catalog = vectors_only(3000);
    for s in strategy::all() {
        let mut session = Session::start(&catalog, "7", 8, Filters::default()).unwrap();
        let first = session.next_page(&catalog, s.as_ref(), 1).unwrap();
        assert_eq!(first.items.len(), 8, "{}: page one", s.name());
        let votes: Vec<(String, Vote)> = first
            .items
            .iter()
            .take(4)
            .zip([Vote::Up, Vote::Down, Vote::Up, Vote::Down])
            .map(|((id, _), v)| (id.clone(), v))
            .collect();
        session.vote(&catalog, &votes);
        for round in 2..=6 {
            let page = session.next_page(&catalog, s.as_ref(), 1).unwrap();
            assert_eq!(page.items.len(), 8, "{}: round {round}", s.name());
            if round == 3 {
                let (id, _) = &page.items[0];
                session.vote(&catalog, &[(id.clone(), Vote::Down)]);
            }
        }
    }
}

/// A shopper who keeps voting (up, then down, on a different item each
/// round) bans more and more of the catalog by kind; the page still fills
/// while unshown products remain, for every strategy. (Found by
/// `tests/faults/kill_9.rs`: after ~115 such rounds steer served pages of
/// 2–5 items out of 44k products.)
#[test]
fn a_long_session_of_alternating_votes_keeps_every_page_full() {
    let catalog = &fashion().catalog;
    for s in strategy::all() {
        let mut session = Session::start(catalog, "15970", 6, Filters::default()).unwrap();
        let mut page = session.next_page(catalog, s.as_ref(), 1).unwrap();
        // best_score scores every upvote against every product: 80 rounds
        // (40 upvotes) keep this test's time in bounds.
        let rounds = if s.name() == "best_score" { 80 } else { 200 };
        for round in 0..rounds {
            assert_eq!(page.items.len(), 6, "{}: round {round}", s.name());
            let (id, _) = &page.items[(3 + round) % 6];
            let vote = if round % 2 == 0 { Vote::Up } else { Vote::Down };
            session.vote(catalog, &[(id.clone(), vote)]);
            page = session.next_page(catalog, s.as_ref(), 1).unwrap();
        }
    }
}

#[test]
fn a_colour_liked_then_downvoted_again_and_again_leaves_the_page() {
    // A tester's walk: from a navy shirt, like two navy shirts, then Not My
    // Style on four navy products (a shirt, an ethnic shirt, jeans, shorts),
    // then More three times. Navy came back on 3, 7 and 8 of 8 products: a
    // value once upvoted was never rejected, whatever came after.
    let catalog = &fashion().catalog;
    let steer = strategy::by_name(strategy::DEFAULT).unwrap();
    let navy = |id: &str| class(catalog, id).2 == "Navy Blue";
    let mut session = Session::start(catalog, "29797", 8, Filters::default()).unwrap();
    let page = session.next_page(catalog, steer.as_ref(), 1).unwrap();
    let liked: Vec<String> = page
        .items
        .iter()
        .map(|(id, _)| id.clone())
        .filter(|id| class(catalog, id) == class(catalog, "29797"))
        .take(2)
        .collect();
    assert_eq!(liked.len(), 2, "page one has navy shirts: {:?}", page.items);
    for id in liked {
        session.vote(catalog, &[(id, Vote::Up)]);
        session.next_page(catalog, steer.as_ref(), 1).unwrap();
    }
    for id in ["43030", "30800", "28825", "51381"] {
        assert!(navy(id));
        session.vote(catalog, &[(id.to_owned(), Vote::Down)]);
        session.next_page(catalog, steer.as_ref(), 1).unwrap();
    }
    let mut counts = Vec::new();
    for _ in 0..3 {
        let page = session.next_page(catalog, steer.as_ref(), 1).unwrap();
        assert_eq!(page.items.len(), 8);
        counts.push(page.items.iter().filter(|(id, _)| navy(id)).count());
    }
    assert!(
        counts.iter().all(|&n| n <= 2),
        "navy products on the three pages after four navy downvotes: {counts:?}"
    );
}

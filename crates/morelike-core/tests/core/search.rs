//! The search box on the real fashion catalog: the index of name words
//! against a plain scan of every name, through upserts, deletes, renames,
//! snapshots and hostile queries.

use morelike_core::{Card, Catalog, Precision, Product};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::helpers::fashion;

/// The search as specified, by a scan of every name: a product whose id is
/// the query first, then every product whose name has, for each query
/// word, a word starting with it (words: runs of letters and digits,
/// lowercased), shortest names first, then by id.
fn reference(catalog: &Catalog, query: &str, limit: usize) -> Vec<String> {
    let split = |s: &str| -> Vec<String> {
        s.to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let asked = split(query);
    let id = query.trim();
    let mut found: Vec<String> = catalog
        .get(id)
        .map(|p| p.id().to_owned())
        .into_iter()
        .collect();
    let mut by_name: Vec<Card<'_>> = catalog
        .products()
        .filter(|p| p.id() != id && !asked.is_empty())
        .filter(|p| {
            let words = split(p.name());
            asked
                .iter()
                .all(|a| words.iter().any(|w| w.starts_with(a.as_str())))
        })
        .collect();
    by_name.sort_by(|a, b| a.name().len().cmp(&b.name().len()).then(a.id().cmp(b.id())));
    found.extend(by_name.iter().map(|p| p.id().to_owned()));
    found.truncate(limit);
    found
}

/// The search before the index: every query word a substring of the name.
fn substring_scan(catalog: &Catalog, query: &str) -> Vec<String> {
    let asked: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    catalog
        .products()
        .filter(|p| {
            let name = p.name().to_lowercase();
            !asked.is_empty() && asked.iter().all(|w| name.contains(w.as_str()))
        })
        .map(|p| p.id().to_owned())
        .collect()
}

fn ids(found: &[Card<'_>]) -> Vec<String> {
    found.iter().map(|p| p.id().to_owned()).collect()
}

/// Queries a shopper types, drawn from the catalog's own names: whole
/// words, their beginnings, two and three words, other cases, ids.
fn queries(catalog: &Catalog, n: usize, seed: u64) -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(seed);
    let names: Vec<(String, String)> = catalog
        .products()
        .map(|p| (p.id().to_owned(), p.name().to_owned()))
        .collect();
    let mut queries = Vec::new();
    while queries.len() < n {
        let (id, name) = &names[rng.random_range(0..names.len())];
        let words: Vec<&str> = name.split_whitespace().collect();
        if words.is_empty() {
            continue;
        }
        let mut word = || {
            let w = words[rng.random_range(0..words.len())];
            let cut = w.char_indices().map(|(i, _)| i).skip(1).collect::<Vec<_>>();
            if cut.is_empty() || rng.random_bool(0.5) {
                w.to_owned()
            } else {
                w[..cut[rng.random_range(0..cut.len())]].to_owned()
            }
        };
        let query = match queries.len() % 6 {
            0 => word(),
            1 => format!("{} {}", word(), word()),
            2 => format!("{} {} {}", word(), word(), word()),
            3 => word().to_uppercase(),
            4 => id.clone(),
            _ => format!("  {}   {}  ", word().to_lowercase(), word()),
        };
        queries.push(query);
    }
    queries
}

#[test]
fn search_equals_a_scan_of_every_name_on_the_fashion_catalog() {
    let catalog = &fashion().catalog;
    for query in queries(catalog, 80, 7) {
        let all = catalog.search(&query, usize::MAX);
        let expected = reference(catalog, &query, usize::MAX);
        assert_eq!(ids(&all), expected, "{query:?}");
        assert_eq!(
            ids(&catalog.search(&query, 20)),
            expected[..expected.len().min(20)],
            "{query:?}"
        );
        assert!(
            !all.is_empty(),
            "{query:?} is drawn from a name and finds it"
        );
    }
}

#[test]
fn search_finds_a_subset_of_the_old_substring_scan_and_all_of_it_for_whole_words() {
    let catalog = &fashion().catalog;
    for query in ["shirt", "navy blue", "Jeans", "men watch", "puma"] {
        let found = ids(&catalog.search(query, usize::MAX));
        let old = substring_scan(catalog, query);
        assert!(found.iter().all(|id| old.contains(id)), "{query}");
        // Everything the old scan found whose name has each word whole.
        let whole: Vec<&String> = old
            .iter()
            .filter(|id| {
                let name = catalog.get(id).unwrap().name().to_lowercase();
                let words: Vec<&str> = name.split(|c: char| !c.is_alphanumeric()).collect();
                query
                    .to_lowercase()
                    .split_whitespace()
                    .all(|q| words.contains(&q))
            })
            .collect();
        assert!(whole.iter().all(|id| found.contains(id)), "{query}");
        assert!(!whole.is_empty(), "{query}");
    }
    // Within a word the old scan matched; a search box matches beginnings.
    assert!(!substring_scan(catalog, "hirt").is_empty());
    assert!(catalog.search("hirt", 10).is_empty());
}

/// The first 3,000 fashion products as a catalog of their own.
fn small() -> Catalog {
    let f = fashion();
    Catalog::build(
        f.catalog.mapping().clone(),
        f.products.iter().take(3000).cloned(),
        Precision::I8,
    )
}

#[test]
fn upserts_deletes_and_renames_keep_search_true() {
    let mut catalog = small();
    let first = catalog.products().next().unwrap().to_product();
    // A rename: the old words no longer find it, the new ones do.
    let mut renamed = first.clone();
    renamed.name = "Zanzibar Émeraude Raincoat".into();
    catalog.upsert(renamed.clone());
    assert_eq!(ids(&catalog.search("zanz émer", 5)), vec![first.id.clone()]);
    assert_eq!(ids(&catalog.search("ÉMERAUDE", 5)), vec![first.id.clone()]);
    for query in [first.name.as_str(), "zanzibar raincoat", "rain"] {
        assert_eq!(
            ids(&catalog.search(query, usize::MAX)),
            reference(&catalog, query, usize::MAX),
            "{query:?}"
        );
    }
    // A delete, then the same id back (in the freed row).
    assert!(catalog.delete(&first.id));
    assert!(catalog.search("zanzibar", 5).is_empty());
    let mut back = renamed.clone();
    back.name = "Zanzibar Boots".into();
    catalog.upsert(back);
    assert_eq!(ids(&catalog.search("zanzibar", 5)), vec![first.id.clone()]);
    assert!(catalog.search("raincoat", 5).is_empty());

    // Many random changes, then every query equals the scan.
    let mut rng = StdRng::seed_from_u64(11);
    let mut products: Vec<Product> = catalog.products().map(|p| p.to_product()).collect();
    let words = [
        "Navy", "Blue", "Shirt", "Zanzibar", "Çanta", "Kurta", "T-Shirt",
    ];
    for step in 0..400 {
        let at = rng.random_range(0..products.len());
        match step % 4 {
            0 => {
                assert!(catalog.delete(&products[at].id));
                products.swap_remove(at);
            }
            1 => {
                let mut p = products[at].clone();
                p.id = format!("new-{step}");
                p.name = format!("{} {}", words[step % words.len()], p.name);
                catalog.upsert(p.clone());
                products.push(p);
            }
            _ => {
                let p = &mut products[at];
                p.name = format!("{} {}", p.name, words[rng.random_range(0..words.len())]);
                catalog.upsert(p.clone());
            }
        }
    }
    // A product whose id is also a word of its own (short) name: first, once.
    catalog.upsert(Product::new("kurta", "Kurta"));
    assert_eq!(ids(&catalog.search("kurta", 1)), vec!["kurta".to_owned()]);
    for limit in [1, 2, 3] {
        assert_eq!(
            ids(&catalog.search(" kurta ", limit)),
            reference(&catalog, " kurta ", limit)
        );
    }
    for query in queries(&catalog, 100, 3)
        .into_iter()
        .chain(words.iter().map(|w| w.to_string()))
        .chain(["zanzibar navy", "new", "ç", "t shirt", "kurta"].map(String::from))
    {
        assert_eq!(
            ids(&catalog.search(&query, usize::MAX)),
            reference(&catalog, &query, usize::MAX),
            "{query:?}"
        );
    }
}

#[test]
fn a_catalog_read_from_its_snapshot_searches_like_the_one_built() {
    let mut built = small();
    let some: Vec<Product> = built.products().take(5).map(|p| p.to_product()).collect();
    built.delete(&some[0].id);
    let mut renamed = some[1].clone();
    renamed.name = "Quetzal Parka".into();
    built.upsert(renamed);
    let read = Catalog::from_snapshot(built.mapping().clone(), &built.to_snapshot(9), 9).unwrap();
    for query in queries(&built, 100, 5)
        .into_iter()
        .chain(["quetzal", some[0].name.as_str(), "s"].map(String::from))
    {
        assert_eq!(
            ids(&read.search(&query, usize::MAX)),
            ids(&built.search(&query, usize::MAX)),
            "{query:?}"
        );
    }
    assert!(read.search_bytes() > 0);
}

#[test]
fn hostile_queries_answer_correctly() {
    let catalog = &fashion().catalog;
    let many_words = "a b c d e f g h i j k l m n o p q r s t u v w x y z ".repeat(400);
    let many_distinct: String = (0..2000).map(|i| format!("w{i} ")).collect();
    let hostile = [
        String::new(),
        "   \t\n ".into(),
        "!!! ??? ... --- ***".into(),
        "x".repeat(10_000),
        "shirt".repeat(2_000),
        many_words,
        many_distinct,
        "ÇAĞRI çanta größe ΟΔΟΣ 鞋子 👟".into(),
        "shirt\0\u{202e}navy".into(),
        "%s%n' OR 1=1 --".into(),
        "s".into(),
        "a".into(),
        "15970".into(),
        " 15970 ".into(),
        "15970 navy".into(),
        // A rare word and a broad one, two broad ones, two common words:
        // each way of checking a second word (names, bitmap, row lists).
        "turtle s".into(),
        "s m".into(),
        "navy shirt".into(),
    ];
    for query in &hostile {
        for limit in [0, 1, 20] {
            assert_eq!(
                ids(&catalog.search(query, limit)),
                reference(catalog, query, limit),
                "{:?}",
                &query[..query.len().min(60)]
            );
        }
    }
    assert!(catalog.search("!!! ??? ... --- ***", 20).is_empty());
    assert_eq!(catalog.search(" 15970 ", 20)[0].id(), "15970");
    assert_eq!(catalog.search("s", 20).len(), 20);
}

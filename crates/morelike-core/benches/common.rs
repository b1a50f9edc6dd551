//! Loading the real catalogs for benchmarks, and the session states and
//! percentiles the page benches share.
#![allow(dead_code)]

use std::fs::File;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use morelike_core::eval::{Protocol, Scenario, Simulator};
use morelike_core::import::{Importer, Lookup};
use morelike_core::index::Filters;
use morelike_core::{strategy, Catalog, Format, Mapping, Precision, Product, Session, Vote};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fashion_path() -> PathBuf {
    repo().join("../shared/data/fashion/styles.csv")
}

pub fn fashion_mapping() -> Mapping {
    let text = std::fs::read_to_string(repo().join("examples/fashion.toml")).unwrap();
    Mapping::from_toml(&text).unwrap()
}

pub fn fashion() -> (Mapping, Vec<Product>) {
    let mapping = fashion_mapping();
    let lookups: Vec<Lookup> = Vec::new();
    let (products, _) = Importer::new(&mapping, &lookups)
        .read_all(Format::Csv, File::open(fashion_path()).unwrap())
        .unwrap();
    (mapping, products)
}

/// The catalog named by `MORELIKE_BENCH_CATALOG` (a CSV under
/// `examples/fashion.toml`, e.g. the 1M-row `/work/big/big.csv`), or the
/// 44k fashion catalog when unset (loudly when the file is missing, so CI
/// needs no 1M file), built at i8, with a label of its size ("1000k").
pub fn chosen_catalog() -> (String, Catalog) {
    let mapping = fashion_mapping();
    let path = match std::env::var("MORELIKE_BENCH_CATALOG") {
        Ok(p) if std::path::Path::new(&p).exists() => p.into(),
        Ok(p) => {
            eprintln!("\n!!! MORELIKE_BENCH_CATALOG={p} does not exist: benching the 44k fashion catalog instead !!!\n");
            fashion_path()
        }
        Err(_) => fashion_path(),
    };
    let started = Instant::now();
    let lookups: Vec<Lookup> = Vec::new();
    let (products, _) = Importer::new(&mapping, &lookups)
        .read_all(Format::Csv, File::open(&path).unwrap())
        .unwrap();
    let n = products.len();
    let catalog = Catalog::build(mapping, products, Precision::I8);
    eprintln!(
        "{n} products from {} read and built in {:.1} s",
        path.display(),
        started.elapsed().as_secs_f64()
    );
    (format!("{}k", n / 1000), catalog)
}

/// Session states reached by `shoppers` simulated shoppers per scenario of
/// the default strategy, every round.
pub fn states(catalog: &Catalog, shoppers: u64) -> Vec<Session> {
    let sim = Simulator::new(catalog, Protocol::default()).unwrap();
    let default = strategy::by_name(strategy::DEFAULT).unwrap();
    let mut states = Vec::new();
    for scenario in Scenario::ALL {
        for shopper in 0..shoppers {
            let (start, _, turns) = sim.transcript(default.as_ref(), scenario, shopper).unwrap();
            let seed = catalog.index().id(start.seed);
            let mut session = Session::start(catalog, seed, 8, Filters::default()).unwrap();
            for turn in &turns {
                states.push(session.clone());
                session.next_page(catalog, default.as_ref(), 1).unwrap();
                if !turn.votes.is_empty() {
                    session.vote(catalog, &turn.votes);
                }
            }
        }
    }
    states
}

/// Session states `morelike bench` plays: from each of `seeds` (spread over
/// the catalog), 20 pages of upvoting the first product and downvoting the
/// last, asking for more every third page. Its late pages, after a dozen
/// downvotes, are the server bench's slowest.
pub fn bench_states(catalog: &Catalog, seeds: usize) -> Vec<Session> {
    let default = strategy::by_name(strategy::DEFAULT).unwrap();
    let mut states = Vec::new();
    let step = (catalog.len() / seeds.max(1)).max(1);
    for n in 0..seeds {
        let seed = catalog.index().id((n * step) as u32);
        let mut session = Session::start(catalog, seed, 8, Filters::default()).unwrap();
        for round in 0..20 {
            states.push(session.clone());
            let page = session.next_page(catalog, default.as_ref(), 1).unwrap();
            let (Some(first), Some(last)) = (page.items.first(), page.items.last()) else {
                break;
            };
            if round % 3 != 2 {
                session.vote(
                    catalog,
                    &[(first.0.clone(), Vote::Up), (last.0.clone(), Vote::Down)],
                );
            }
        }
    }
    states
}

/// The `q` quantile of sorted times, in milliseconds.
pub fn percentile(sorted: &[Duration], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3
}

/// Every state's next page under `s`, as product ids.
pub fn pages(
    catalog: &Catalog,
    s: &dyn strategy::Strategy,
    states: &[Session],
) -> Vec<Vec<String>> {
    states
        .iter()
        .map(|state| {
            let page = state.clone().next_page(catalog, s, 42).unwrap();
            page.items.into_iter().map(|(id, _)| id).collect()
        })
        .collect()
}

/// The share of page items equal in two runs over the same states.
pub fn agreement(a: &[Vec<String>], b: &[Vec<String>]) -> f64 {
    let (mut same, mut total) = (0, 0);
    for (x, y) in a.iter().zip(b) {
        total += x.len().max(y.len());
        same += x.iter().filter(|id| y.contains(id)).count();
    }
    same as f64 / total.max(1) as f64
}

//! Pages on a store of one vector view, the shape of `scripts/compare-qdrant`:
//! session states of a seed, its first 5 `seed_only` pages (41 products
//! shown) and 2 upvotes and 2 downvotes among them; per strategy and
//! precision, p50/p99 of the page that answers them and its agreement with
//! the exact f32 scan (the share of items equal). The vectors come from
//! `MORELIKE_BENCH_VECTORS=DIR` (a `compare-qdrant --workdir DIR`: its
//! `mapping.toml` and `vectors.csv`), else 105,000 made here (256-d, unit
//! length, around 600 random centres).

mod common;

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use morelike_core::import::{Importer, Lookup};
use morelike_core::index::{Filters, Reach};
use morelike_core::{
    strategy, Catalog, Format, Mapping, Precision, Product, ProductId, Session, Vote,
};

const SYNTHETIC_MAPPING: &str = r#"
format = "csv"
[fields]
id = "id"
name = "name"
vectors = ["vec"]
[[views]]
name = "vec"
kind = "vector"
fields = ["vec"]
dim = 256
weight = 1.0
"#;

/// A small, fixed random generator (xorshift) so runs compare.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// About normal (sum of 4 uniforms, centred).
    fn normal(&mut self) -> f32 {
        (0..4)
            .map(|_| (self.next() >> 40) as f32 / (1u64 << 24) as f32)
            .sum::<f32>()
            - 2.0
    }
}

fn synthetic_csv() -> String {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let centres: Vec<Vec<f32>> = (0..600)
        .map(|_| (0..256).map(|_| rng.normal()).collect())
        .collect();
    let mut csv = String::from("id,name,vec\n");
    for i in 0..105_000 {
        let c = &centres[rng.below(centres.len())];
        let v: Vec<f32> = c.iter().map(|x| x + 0.8 * rng.normal()).collect();
        let len = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        let text: Vec<String> = v.iter().map(|x| format!("{:.6}", x / len)).collect();
        csv.push_str(&format!("p{i},product {i},{}\n", text.join(" ")));
    }
    csv
}

fn products() -> (Mapping, Vec<Product>) {
    let (mapping, csv) = match std::env::var("MORELIKE_BENCH_VECTORS") {
        Ok(dir) => (
            std::fs::read_to_string(format!("{dir}/mapping.toml")).unwrap(),
            std::fs::read_to_string(format!("{dir}/vectors.csv")).unwrap(),
        ),
        Err(_) => (SYNTHETIC_MAPPING.to_owned(), synthetic_csv()),
    };
    let mapping = Mapping::from_toml(&mapping).unwrap();
    let lookups: Vec<Lookup> = Vec::new();
    let (products, _) = Importer::new(&mapping, &lookups)
        .read_all(Format::Csv, csv.as_bytes())
        .unwrap();
    (mapping, products)
}

/// compare-qdrant's session states: seed, 5 seed_only pages, 2 up 2 down.
fn states(catalog: &Catalog, n: usize) -> Vec<Session> {
    let mut rng = Rng(11);
    let seed_only = strategy::by_name("seed_only").unwrap();
    (0..n)
        .map(|_| {
            let seed = catalog
                .index()
                .id(rng.below(catalog.len()) as u32)
                .to_owned();
            let mut s = Session::start(catalog, &seed, 8, Filters::default()).unwrap();
            for _ in 0..5 {
                s.next_page(catalog, seed_only.as_ref(), 1).unwrap();
            }
            let mut picked: Vec<ProductId> = Vec::new();
            while picked.len() < 4 {
                let id = &s.shown[1 + rng.below(s.shown.len() - 1)];
                if !picked.iter().any(|p| p == id) {
                    picked.push(id.to_owned());
                }
            }
            let votes: Vec<(ProductId, Vote)> = picked
                .into_iter()
                .zip([Vote::Up, Vote::Up, Vote::Down, Vote::Down])
                .collect();
            s.vote(catalog, &votes);
            s
        })
        .collect()
}

fn vectors(c: &mut Criterion) {
    let started = Instant::now();
    let (mapping, products) = products();
    let n = products.len();
    let mut f32s = Catalog::build(mapping.clone(), products.clone(), Precision::F32);
    let mut i8s = Catalog::build(mapping, products, Precision::I8);
    for catalog in [&mut f32s, &mut i8s] {
        if catalog.index().cluster_count() == 0 {
            catalog.cluster();
        }
    }
    eprintln!(
        "{n} products built at f32 and i8 in {:.1} s, {} clusters",
        started.elapsed().as_secs_f64(),
        f32s.index().cluster_count()
    );
    let states = states(&f32s, 200);
    let names = std::env::var("MORELIKE_BENCH_STRATEGIES")
        .unwrap_or_else(|_| "average_vector,best_score,sum_scores,steer".into());
    let mut group = c.benchmark_group(format!("page_vectors_{}k", n / 1000));
    for name in names.split(',') {
        let s = strategy::by_name(name).unwrap();
        // MORELIKE_BENCH_TIMES_ONLY=1 skips the agreement (e.g. to profile the pages).
        let measure = std::env::var("MORELIKE_BENCH_TIMES_ONLY").is_err();
        f32s.set_scan(true, Reach::default());
        let exact = if measure {
            common::pages(&f32s, s.as_ref(), &states)
        } else {
            Vec::new()
        };
        f32s.set_scan(false, Reach::default());
        for (precision, catalog) in [("f32", &mut f32s), ("i8", &mut i8s)] {
            catalog.set_scan(true, Reach::default());
            let own_exact = if measure {
                common::agreement(&exact, &common::pages(catalog, s.as_ref(), &states))
            } else {
                f64::NAN
            };
            catalog.set_scan(false, Reach::default());
            let agreed = if measure {
                common::agreement(&exact, &common::pages(catalog, s.as_ref(), &states))
            } else {
                f64::NAN
            };
            let mut times: Vec<Duration> = Vec::with_capacity(states.len() * 3);
            for _ in 0..3 {
                for state in &states {
                    let mut next = state.clone();
                    let started = Instant::now();
                    next.next_page(catalog, s.as_ref(), 42).unwrap();
                    times.push(started.elapsed());
                }
            }
            times.sort();
            println!(
                "page vectors {}k {name} {precision}: p50 {:.0} µs, p99 {:.0} µs, agreement with the exact f32 scan {agreed:.4} (its own exact scan: {own_exact:.4})",
                n / 1000,
                common::percentile(&times, 0.5) * 1e3,
                common::percentile(&times, 0.99) * 1e3,
            );
            let catalog = &*catalog;
            group.bench_function(format!("{name}_{precision}"), |b| {
                let mut i = 0;
                b.iter(|| {
                    let mut next = states[i % states.len()].clone();
                    i += 1;
                    next.next_page(catalog, s.as_ref(), 42).unwrap()
                })
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(1)).warm_up_time(Duration::from_millis(300));
    targets = vectors
}
criterion_main!(benches);

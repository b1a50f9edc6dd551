//! `morelike similar`: the nearest products to one product.

use morelike_core::index::Filters;
use serde::Serialize;

use super::DataDir;
use crate::catalogs;

/// Arguments of `morelike similar`.
#[derive(Debug, clap::Args)]
pub struct SimilarArgs {
    /// The product id.
    pub id: String,
    /// The store.
    #[arg(long)]
    pub store: String,
    /// How many products.
    #[arg(long, default_value_t = 8)]
    pub k: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    data: DataDir,
}

#[derive(Serialize)]
struct Row<'a> {
    id: &'a str,
    name: &'a str,
    score: f32,
}

/// Runs `morelike similar`.
pub fn run(args: SimilarArgs) -> anyhow::Result<()> {
    let storage = args.data.open()?;
    let catalog = catalogs::load(&storage, &args.store)?;
    let hits = catalog.similar(&args.id, args.k, &Filters::default())?;
    let rows: Vec<Row> = hits
        .iter()
        .map(|h| {
            let p = catalog.at(h.row);
            Row {
                id: p.id(),
                name: p.name(),
                score: h.score,
            }
        })
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        let seed = catalog.get(&args.id).map_or("", |p| p.name());
        println!("like {} — {seed}", args.id);
        for (i, r) in rows.iter().enumerate() {
            println!("{:>3}. {:>8.4}  {:<10} {}", i + 1, r.score, r.id, r.name);
        }
    }
    Ok(())
}

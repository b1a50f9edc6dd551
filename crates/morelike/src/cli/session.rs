//! `morelike session`: a shopper's session in the terminal.

use std::io::{BufRead, Write};

use anyhow::Context;
use morelike_core::index::Filters;
use morelike_core::{strategy, Catalog, Page, Session, Vote};

use super::DataDir;
use crate::catalogs;

/// Arguments of `morelike session`.
#[derive(Debug, clap::Args)]
pub struct SessionArgs {
    /// The store.
    #[arg(long)]
    pub store: String,
    /// The starting product (the first product of the store when absent).
    #[arg(long)]
    pub seed: Option<String>,
    /// Products per page.
    #[arg(long, default_value_t = 8)]
    pub k: usize,
    /// The strategy.
    #[arg(long, default_value = strategy::DEFAULT)]
    pub strategy: String,
    #[command(flatten)]
    data: DataDir,
}

const HELP: &str =
    "+N: More Like This on item N   -N: Not My Style on item N   (several at once: +1 -4)\n\
                    more: next page without votes   undo   explain N   quit";

fn show(catalog: &Catalog, page: &Page, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "— round {} —", page.round)?;
    for (i, (id, score)) in page.items.iter().enumerate() {
        let p = catalog.get(id).expect("pages hold catalog products");
        let attrs: Vec<&str> = p.attributes.values().map(String::as_str).collect();
        writeln!(
            out,
            "{:>3}. {:>7.3}  {}  [{}]",
            i + 1,
            score,
            p.name,
            attrs.join(", ")
        )?;
    }
    Ok(())
}

/// Runs `morelike session` on stdin/stdout.
pub fn run(args: SessionArgs) -> anyhow::Result<()> {
    let storage = args.data.open()?;
    let catalog = catalogs::load(&storage, &args.store)?;
    let strategy = strategy::by_name(&args.strategy).with_context(|| {
        format!(
            "no strategy '{}'; choose one of {:?}",
            args.strategy,
            strategy::names()
        )
    })?;
    let seed = match args.seed {
        Some(s) => s,
        None => catalog
            .products()
            .map(|p| p.id.clone())
            .min()
            .context("the store is empty")?,
    };
    let mut session = Session::start(&catalog, &seed, args.k, Filters::default())?;
    let mut out = std::io::stdout();
    writeln!(
        out,
        "starting from {seed}: {}\n{HELP}",
        catalog.get(&seed).map_or("", |p| &p.name)
    )?;
    let mut page = session.next_page(&catalog, strategy.as_ref(), 1)?;
    show(&catalog, &page, &mut out)?;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let words: Vec<&str> = line.split_whitespace().collect();
        let pick = |token: &str| -> Option<String> {
            let n: usize = token.parse().ok()?;
            page.items.get(n.checked_sub(1)?).map(|(id, _)| id.clone())
        };
        match words.as_slice() {
            [] => continue,
            ["quit" | "q" | "exit"] => break,
            ["help" | "?"] => writeln!(out, "{HELP}")?,
            ["undo"] => match session.undo() {
                Ok(undone) => writeln!(out, "took back {} vote(s)", undone.len())?,
                Err(e) => writeln!(out, "{e}")?,
            },
            ["explain", n] => match pick(n) {
                Some(id) => writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&session.explain(
                        &catalog,
                        strategy.as_ref(),
                        &id
                    )?)?
                )?,
                None => writeln!(out, "no item {n} on this page")?,
            },
            ["more"] => {
                page = session.next_page(&catalog, strategy.as_ref(), 1)?;
                show(&catalog, &page, &mut out)?;
            }
            tokens => {
                let mut votes = Vec::new();
                for t in tokens {
                    let parsed = match t.split_at_checked(1) {
                        Some(("+", n)) => pick(n).map(|id| (id, Vote::Up)),
                        Some(("-", n)) => pick(n).map(|id| (id, Vote::Down)),
                        _ => None,
                    };
                    match parsed {
                        Some(vote) => votes.push(vote),
                        None => writeln!(
                            out,
                            "'{t}' is not a vote: use +N or -N with N from 1 to {}",
                            page.items.len()
                        )?,
                    }
                }
                if votes.is_empty() {
                    continue;
                }
                session.vote(&catalog, &votes);
                page = session.next_page(&catalog, strategy.as_ref(), 1)?;
                show(&catalog, &page, &mut out)?;
            }
        }
    }
    Ok(())
}

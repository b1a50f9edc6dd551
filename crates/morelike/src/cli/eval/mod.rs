//! `morelike eval`: simulated shoppers on a catalog file, every strategy side
//! by side in every scenario (browse, refine, explore, reject), over one or
//! more seeds. Prints a table, writes JSON and a success-by-round plot, and
//! can tune the view weights of the default strategy.

mod plot;
mod report;
mod run;
mod timed;
mod tune;

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Context};
use morelike_core::eval::{Protocol, Scenario, Simulator, Truth};
use morelike_core::{strategy, Catalog};
use serde::Serialize;

use crate::catalogs;

/// Arguments of `morelike eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// The catalog file (CSV, JSON Lines or JSON).
    #[arg(long)]
    pub catalog: PathBuf,
    /// The mapping (with `[eval] truth`).
    #[arg(long)]
    pub mapping: PathBuf,
    /// Simulated shoppers per scenario and seed.
    #[arg(long, default_value_t = 500)]
    pub shoppers: u64,
    /// Rounds (pages) per session at most.
    #[arg(long, default_value_t = 10)]
    pub rounds: u32,
    /// Products per page.
    #[arg(long, default_value_t = 8)]
    pub k: usize,
    /// Protocol seeds (repeat for several: the table shows mean ± spread).
    #[arg(long, default_values_t = [42])]
    pub seed: Vec<u64>,
    /// Only these strategies (comma-separated names; default: all). A
    /// variant of the default with some knobs changed is named
    /// `steer:knob=value/knob=value`.
    #[arg(long, value_delimiter = ',')]
    pub strategies: Vec<String>,
    /// Override view weights: `name=1.5,colour=2`; `uniform` sets every
    /// mapped view to 1 first (`uniform,name=2` is allowed).
    #[arg(long, value_delimiter = ',')]
    pub weights: Vec<String>,
    /// The three truth attributes, coarse to fine, instead of the mapping's
    /// `[eval] truth` (`FIELD` or `last_word:FIELD`), to score on attributes
    /// that tuning never saw.
    #[arg(long, value_delimiter = ',')]
    pub truth: Vec<String>,
    /// Only these scenarios (comma-separated; default: all of browse,
    /// refine, explore, reject).
    #[arg(long, value_delimiter = ',')]
    pub scenarios: Vec<String>,
    /// Write every run and the table's rows as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Draw success rate by round per strategy (SVG).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Tune the view weights for the default strategy first (coordinate search).
    #[arg(long)]
    pub tune_weights: bool,
    /// The seed tuning runs on (keep it apart from the reporting seeds).
    #[arg(long, default_value_t = 7)]
    pub tune_seed: u64,
    /// Shoppers per scenario while tuning.
    #[arg(long, default_value_t = 300)]
    pub tune_shoppers: u64,
    /// Coordinate-search passes.
    #[arg(long, default_value_t = 2)]
    pub tune_passes: usize,
}

#[derive(Serialize)]
struct Report<'a> {
    catalog: String,
    products: usize,
    shoppers: u64,
    rounds: u32,
    k: usize,
    seeds: &'a [u64],
    truth: Vec<String>,
    weights: BTreeMap<String, f32>,
    rows: &'a [report::Row],
    runs: &'a [run::Run],
}

/// The weights `--weights` asks for, by view name (`uniform`: every view 1).
fn parse_weights(catalog: &Catalog, specs: &[String]) -> anyhow::Result<BTreeMap<String, f32>> {
    let mut weights = BTreeMap::new();
    for s in specs {
        if s.trim() == "uniform" {
            for view in catalog.weights_by_name().into_keys() {
                weights.insert(view, 1.0);
            }
            continue;
        }
        let (name, w) = s
            .split_once('=')
            .with_context(|| format!("weight '{s}' is not NAME=NUMBER or 'uniform'"))?;
        let w: f32 = w
            .parse()
            .with_context(|| format!("weight '{s}' is not NAME=NUMBER or 'uniform'"))?;
        weights.insert(name.trim().to_owned(), w);
    }
    Ok(weights)
}

fn scenarios(names: &[String]) -> anyhow::Result<Vec<Scenario>> {
    if names.is_empty() {
        return Ok(Scenario::ALL.to_vec());
    }
    names
        .iter()
        .map(|n| {
            Scenario::by_name(n.trim()).with_context(|| {
                let all: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
                format!("no scenario '{n}'; choose from {all:?}")
            })
        })
        .collect()
}

/// Runs `morelike eval`.
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let mut catalog = catalogs::from_file(&args.catalog, &args.mapping)?;
    let weights = parse_weights(&catalog, &args.weights)?;
    catalog.set_weights(&weights)?;
    let truth = if args.truth.is_empty() {
        Truth::of_catalog(&catalog)?
    } else {
        Truth::with_spec(&catalog, &args.truth)?
    };
    let scenarios = scenarios(&args.scenarios)?;
    let strategies: Vec<Box<dyn strategy::Strategy>> = if args.strategies.is_empty() {
        strategy::all()
    } else {
        args.strategies
            .iter()
            .map(|spec| strategy::parse(spec).map_err(anyhow::Error::msg))
            .collect::<anyhow::Result<_>>()?
    };
    if args.shoppers == 0 || args.rounds == 0 {
        bail!("--shoppers and --rounds must be at least 1");
    }
    let protocol = |seed| Protocol {
        rounds: args.rounds,
        k: args.k,
        seed,
    };
    if args.tune_weights {
        let default = strategy::by_name(strategy::DEFAULT).expect("the default exists");
        let best = tune::tune(
            &mut catalog,
            &truth,
            protocol(args.tune_seed),
            default.as_ref(),
            args.tune_shoppers,
            args.tune_passes,
        )?;
        println!("tuned weights (seed {}):", args.tune_seed);
        for (view, w) in &best {
            println!("  {view} = {w}");
        }
    }
    let mut runs = Vec::new();
    for &seed in &args.seed {
        let sim = Simulator::with_truth(&catalog, truth.clone(), protocol(seed));
        for s in &strategies {
            for &scenario in &scenarios {
                let r = run::run(&sim, s.as_ref(), scenario, args.shoppers)?;
                let m = &r.summary;
                let extra = match (m.p_first, m.p_after_hit, m.downvoted_share) {
                    (Some(p), _, _) => format!(" p_first {p:.3}"),
                    (_, Some(p), _) => format!(" p_after_hit {p:.3}"),
                    (_, _, Some(d)) => format!(" downvoted_share {d:.3}"),
                    _ => String::new(),
                };
                eprintln!(
                    "seed {seed} {:<16} {:<8} SR@10 {:.3} AT {:.2}{extra} dup {:.1} {:.3} ms/round",
                    r.strategy,
                    scenario.name(),
                    m.sr10,
                    m.at,
                    m.dup_names,
                    r.compute_ms
                );
                runs.push(r);
            }
        }
    }
    let rows = report::rows(&runs);
    println!(
        "{} products, {} shoppers per scenario, seeds {:?}, k = {}, {} rounds; truth {:?}; weights {:?}",
        catalog.len(),
        args.shoppers,
        args.seed,
        args.k,
        args.rounds,
        truth.spec(),
        catalog.weights_by_name()
    );
    print!("{}", report::table(&rows));
    if let Some(path) = &args.json {
        let report = Report {
            catalog: args.catalog.display().to_string(),
            products: catalog.len(),
            shoppers: args.shoppers,
            rounds: args.rounds,
            k: args.k,
            seeds: &args.seed,
            truth: truth.spec(),
            weights: catalog.weights_by_name(),
            rows: &rows,
            runs: &runs,
        };
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.plot {
        let name = args
            .catalog
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let title = format!(
            "{name}: success rate by round ({} shoppers, seeds {:?})",
            args.shoppers, args.seed
        );
        plot::draw(&rows, &title, path)?;
    }
    Ok(())
}

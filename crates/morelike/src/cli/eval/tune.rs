//! `--tune-weights`: coordinate search over the view weights for the
//! default strategy on a tuning seed kept apart from the reporting seeds.
//! The objective is the mean AT over refine and explore (lower is better).
//! No view is ever tried at 0: a view the merchant mapped is never switched
//! off by tuning.

use std::collections::BTreeMap;

use morelike_core::eval::{Protocol, Scenario, Simulator, Truth};
use morelike_core::strategy::Strategy;
use morelike_core::Catalog;

use super::run::run;

/// The weights each view is tried at.
pub const GRID: [f32; 6] = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0];

/// The scenarios tuning scores.
const TUNED: [Scenario; 2] = [Scenario::Refine, Scenario::Explore];

/// Mean AT over both scenarios with the catalog's current weights.
fn objective(
    catalog: &Catalog,
    truth: &Truth,
    protocol: Protocol,
    strategy: &dyn Strategy,
    shoppers: u64,
) -> anyhow::Result<f64> {
    let sim = Simulator::with_truth(catalog, truth.clone(), protocol);
    let mut total = 0.0;
    for scenario in TUNED {
        total += run(&sim, strategy, scenario, shoppers)?.summary.at;
    }
    Ok(total / TUNED.len() as f64)
}

/// Tunes the catalog's weights in place; returns the best weights by view name.
pub fn tune(
    catalog: &mut Catalog,
    truth: &Truth,
    protocol: Protocol,
    strategy: &dyn Strategy,
    shoppers: u64,
    passes: usize,
) -> anyhow::Result<BTreeMap<String, f32>> {
    let mut best = catalog.weights_by_name();
    let mut best_at = objective(catalog, truth, protocol, strategy, shoppers)?;
    eprintln!("tune: start {best:?} → mean AT {best_at:.3}");
    for pass in 1..=passes {
        let mut improved = false;
        for view in best.keys().cloned().collect::<Vec<_>>() {
            for &w in &GRID {
                if w == best[&view] {
                    continue;
                }
                let mut trial = best.clone();
                trial.insert(view.clone(), w);
                catalog.set_weights(&trial)?;
                let at = objective(catalog, truth, protocol, strategy, shoppers)?;
                if at < best_at - 1e-9 {
                    eprintln!(
                        "tune: pass {pass} {view} = {w} → mean AT {at:.3} (was {best_at:.3})"
                    );
                    best_at = at;
                    best = trial;
                    improved = true;
                }
            }
        }
        if !improved {
            break;
        }
    }
    catalog.set_weights(&best)?;
    eprintln!("tune: best {best:?} → mean AT {best_at:.3}");
    Ok(best)
}

//! The evaluation's table: every strategy side by side per scenario, each
//! metric as the mean over seeds ± the spread (max − min) across them.

use std::fmt::Write;

use morelike_core::eval::Scenario;
use serde::Serialize;

use super::run::Run;

/// A metric over seeds.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Spread {
    /// Mean over seeds.
    pub mean: f64,
    /// Max − min over seeds.
    pub spread: f64,
}

impl Spread {
    fn of(values: impl Iterator<Item = f64>) -> Self {
        let v: Vec<f64> = values.collect();
        let n = v.len().max(1) as f64;
        let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        Spread {
            mean: v.iter().sum::<f64>() / n,
            spread: if v.is_empty() { 0.0 } else { max - min },
        }
    }
}

/// One strategy in one scenario, over every seed.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// The strategy.
    pub strategy: String,
    /// The scenario.
    pub scenario: Scenario,
    /// SR@5.
    pub sr5: Spread,
    /// SR@10.
    pub sr10: Spread,
    /// Mean rounds to success (failures = rounds + 1).
    pub at: Spread,
    /// Last-round precision.
    pub last_precision: Spread,
    /// Vote rate.
    pub vote_rate: Spread,
    /// Mean compute time per page, ms.
    pub compute_ms: Spread,
    /// Success rate by round, mean over seeds.
    pub success_by_round: Vec<f64>,
}

/// Groups runs by strategy and scenario (in first-seen order).
pub fn rows(runs: &[Run]) -> Vec<Row> {
    let mut keys: Vec<(String, Scenario)> = Vec::new();
    for r in runs {
        let key = (r.strategy.clone(), r.scenario);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.into_iter()
        .map(|(strategy, scenario)| {
            let group: Vec<&Run> = runs
                .iter()
                .filter(|r| r.strategy == strategy && r.scenario == scenario)
                .collect();
            let spread = |f: &dyn Fn(&Run) -> f64| Spread::of(group.iter().map(|r| f(r)));
            let rounds = group[0].summary.success_by_round.len();
            let success_by_round = (0..rounds)
                .map(|i| {
                    group
                        .iter()
                        .map(|r| r.summary.success_by_round[i])
                        .sum::<f64>()
                        / group.len() as f64
                })
                .collect();
            Row {
                sr5: spread(&|r| r.summary.sr5),
                sr10: spread(&|r| r.summary.sr10),
                at: spread(&|r| r.summary.at),
                last_precision: spread(&|r| r.summary.last_precision),
                vote_rate: spread(&|r| r.summary.vote_rate),
                compute_ms: spread(&|r| r.compute_ms),
                success_by_round,
                strategy,
                scenario,
            }
        })
        .collect()
}

fn cell(s: Spread, digits: usize) -> String {
    format!("{:.*} ± {:.*}", digits, s.mean, digits, s.spread)
}

/// The table as Markdown, one section per scenario.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    for scenario in Scenario::ALL {
        let _ = writeln!(out, "\n{}\n", scenario.name());
        let _ = writeln!(
            out,
            "| strategy | SR@5 | SR@10 | AT | last-round precision | vote rate | ms/round |"
        );
        let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- | --- |");
        for r in rows.iter().filter(|r| r.scenario == scenario) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                r.strategy,
                cell(r.sr5, 3),
                cell(r.sr10, 3),
                cell(r.at, 2),
                cell(r.last_precision, 3),
                cell(r.vote_rate, 3),
                cell(r.compute_ms, 3),
            );
        }
    }
    out
}

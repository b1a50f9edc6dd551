//! The evaluation's table: every strategy side by side per scenario, each
//! metric as the mean over seeds ± the spread (max − min) across them; each
//! scenario shows the metrics that speak for it.

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
    /// Browse: page one's share of the target class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_first: Option<Spread>,
    /// Refine, explore: the target class's share of the second page after the first hit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_after_hit: Option<Spread>,
    /// Refine, explore: sessions that hit (and count in `p_after_hit`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hits: Option<Spread>,
    /// Reject: later pages' share of classes downvoted twice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub downvoted_share: Option<Spread>,
    /// Pages with two products of the same normalized name, per 100 pages.
    pub dup_names: Spread,
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
            let some = |f: &dyn Fn(&Run) -> Option<f64>| {
                let values: Option<Vec<f64>> = group.iter().map(|r| f(r)).collect();
                values.map(|v| Spread::of(v.into_iter()))
            };
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
                p_first: some(&|r| r.summary.p_first),
                p_after_hit: some(&|r| r.summary.p_after_hit),
                hits: some(&|r| r.summary.hits.map(|h| h as f64)),
                downvoted_share: some(&|r| r.summary.downvoted_share),
                dup_names: spread(&|r| r.summary.dup_names),
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

fn maybe(s: Option<Spread>, digits: usize) -> String {
    s.map_or_else(|| "–".to_owned(), |s| cell(s, digits))
}

/// The columns a scenario's table shows: (header, cell of a row).
type Column = (&'static str, fn(&Row) -> String);

fn columns(scenario: Scenario) -> Vec<Column> {
    let mut columns: Vec<Column> = Vec::new();
    if scenario == Scenario::Browse {
        columns.push(("p_first", |r| maybe(r.p_first, 3)));
    }
    columns.extend::<[Column; 3]>([
        ("SR@5", |r| cell(r.sr5, 3)),
        ("SR@10", |r| cell(r.sr10, 3)),
        ("AT", |r| cell(r.at, 2)),
    ]);
    match scenario {
        Scenario::Refine | Scenario::Explore => {
            columns.push(("p_after_hit", |r| maybe(r.p_after_hit, 3)));
            columns.push(("sessions that hit", |r| maybe(r.hits, 0)));
            columns.push(("last-round precision", |r| cell(r.last_precision, 3)));
        }
        Scenario::Reject => {
            columns.push(("downvoted_share", |r| maybe(r.downvoted_share, 3)));
        }
        Scenario::Browse => {}
    }
    if scenario != Scenario::Browse {
        columns.push(("vote rate", |r| cell(r.vote_rate, 3)));
    }
    columns.push(("dup_names", |r| cell(r.dup_names, 1)));
    columns.push(("ms/round", |r| cell(r.compute_ms, 3)));
    columns
}

/// The table as Markdown, one section per scenario that was run.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    for scenario in Scenario::ALL {
        let scenario_rows: Vec<&Row> = rows.iter().filter(|r| r.scenario == scenario).collect();
        if scenario_rows.is_empty() {
            continue;
        }
        let columns = columns(scenario);
        let _ = writeln!(out, "\n{}\n", scenario.name());
        let headers: Vec<&str> = columns.iter().map(|(h, _)| *h).collect();
        let _ = writeln!(out, "| strategy | {} |", headers.join(" | "));
        let _ = writeln!(out, "|{}", " --- |".repeat(columns.len() + 1));
        for r in scenario_rows {
            let cells: Vec<String> = columns.iter().map(|(_, f)| f(r)).collect();
            let _ = writeln!(out, "| {} | {} |", r.strategy, cells.join(" | "));
        }
    }
    out
}

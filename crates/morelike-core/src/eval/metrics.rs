//! What one simulated session came to, and the summary over many: success
//! rate by round (SR@5, SR@10), mean rounds to success (AT, failures counted
//! as rounds + 1), last-round precision, vote rate, and what a real shopper
//! feels: page one's share of the target class (`p_first`), the share after
//! the first hit (`p_after_hit`), rejected classes coming back
//! (`downvoted_share`) and near-copies on one page (`dup_names`).

use serde::Serialize;

use super::scenario::Scenario;

/// One simulated session's outcome.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Outcome {
    /// The round (1-based) in which a target-class product was shown, if any.
    pub success: Option<u32>,
    /// Pages shown up to success (or up to the last round).
    pub rounds: u32,
    /// Pages before success after which the shopper voted.
    pub voted: u32,
    /// Pages before success (the shopper could have voted after them).
    pub could_vote: u32,
    /// Share of the last page counted in `rounds` that is of the target class.
    pub last_precision: f64,
    /// Share of page one that is of the target class.
    pub first_precision: f64,
    /// Share of the second page after the first hit that is of the target
    /// class (sessions that go on after the hit, and hit).
    pub after_hit: Option<f64>,
    /// Products on pages after round 3 whose (first, second) class the
    /// shopper had downvoted at least twice by then.
    pub downvoted_shown: u32,
    /// Products on pages after round 3.
    pub late_shown: u32,
    /// Every page served, the pages after the hit included.
    pub pages: u32,
    /// Pages holding two products with the same normalized name.
    pub dup_pages: u32,
}

/// The summary of many sessions of one strategy in one scenario.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Sessions.
    pub sessions: usize,
    /// Rounds per session at most.
    pub max_rounds: u32,
    /// `success_by_round[r]`: share of sessions that succeeded within r + 1 rounds.
    pub success_by_round: Vec<f64>,
    /// Share of sessions that succeed within 5 rounds.
    pub sr5: f64,
    /// Share of sessions that succeed within 10 rounds.
    pub sr10: f64,
    /// Mean rounds to success, failures counted as `max_rounds + 1`.
    pub at: f64,
    /// Mean share of the last page shown that is of the target class.
    pub last_precision: f64,
    /// Share of pages without success on which the shopper voted.
    pub vote_rate: f64,
    /// Browse: mean share of page one in the target class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_first: Option<f64>,
    /// Refine, explore: mean share of the target class on the second page
    /// after the first hit, over the sessions that hit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_after_hit: Option<f64>,
    /// Refine, explore: sessions counted in `p_after_hit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hits: Option<usize>,
    /// Reject: on pages after round 3, the share of products whose (first,
    /// second) class the shopper had downvoted at least twice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub downvoted_share: Option<f64>,
    /// Pages holding two products with the same normalized name, per 100 pages.
    pub dup_names: f64,
    /// Pages served.
    pub pages: u64,
}

fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

impl Summary {
    /// Summarizes outcomes of sessions of a scenario that ran at most
    /// `max_rounds` rounds.
    pub fn of(outcomes: &[Outcome], max_rounds: u32, scenario: Scenario) -> Self {
        let n = outcomes.len().max(1) as f64;
        let success_by_round: Vec<f64> = (1..=max_rounds)
            .map(|r| {
                outcomes
                    .iter()
                    .filter(|o| o.success.is_some_and(|s| s <= r))
                    .count() as f64
                    / n
            })
            .collect();
        let within = |r: u32| {
            let r = r.min(max_rounds) as usize;
            if r == 0 {
                0.0
            } else {
                success_by_round[r - 1]
            }
        };
        let at = outcomes
            .iter()
            .map(|o| f64::from(o.success.unwrap_or(max_rounds + 1)))
            .sum::<f64>()
            / n;
        let sum = |f: &dyn Fn(&Outcome) -> f64| outcomes.iter().map(f).sum::<f64>();
        let after: Vec<f64> = outcomes.iter().filter_map(|o| o.after_hit).collect();
        let pages = sum(&|o| f64::from(o.pages));
        Summary {
            sessions: outcomes.len(),
            max_rounds,
            sr5: within(5),
            sr10: within(10),
            success_by_round,
            at,
            last_precision: sum(&|o| o.last_precision) / n,
            vote_rate: ratio(
                sum(&|o| f64::from(o.voted)),
                sum(&|o| f64::from(o.could_vote)),
            ),
            p_first: (scenario == Scenario::Browse).then(|| sum(&|o| o.first_precision) / n),
            p_after_hit: scenario
                .goes_on_after_hit()
                .then(|| ratio(after.iter().sum(), after.len() as f64)),
            hits: scenario.goes_on_after_hit().then_some(after.len()),
            downvoted_share: (scenario == Scenario::Reject).then(|| {
                ratio(
                    sum(&|o| f64::from(o.downvoted_shown)),
                    sum(&|o| f64::from(o.late_shown)),
                )
            }),
            dup_names: 100.0 * ratio(sum(&|o| f64::from(o.dup_pages)), pages),
            pages: pages as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(success: Option<u32>, rounds: u32, voted: u32) -> Outcome {
        Outcome {
            success,
            rounds,
            voted,
            could_vote: rounds - u32::from(success.is_some()),
            last_precision: if success.is_some() { 0.25 } else { 0.0 },
            pages: rounds,
            ..Outcome::default()
        }
    }

    #[test]
    fn failures_count_as_one_round_past_the_last() {
        let s = Summary::of(
            &[
                outcome(Some(2), 2, 1),
                outcome(None, 10, 4),
                outcome(Some(7), 7, 6),
            ],
            10,
            Scenario::Refine,
        );
        assert!((s.at - (2.0 + 11.0 + 7.0) / 3.0).abs() < 1e-12);
        assert!((s.sr5 - 1.0 / 3.0).abs() < 1e-12);
        assert!((s.sr10 - 2.0 / 3.0).abs() < 1e-12);
        assert!((s.vote_rate - 11.0 / 17.0).abs() < 1e-12);
        assert!((s.last_precision - 0.5 / 3.0).abs() < 1e-12);
        assert_eq!(s.success_by_round.len(), 10);
        assert!((s.success_by_round[1] - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn each_scenario_reports_its_own_measures_and_pools_pages() {
        let mut a = outcome(Some(1), 1, 0);
        a.first_precision = 0.5;
        a.after_hit = Some(0.75);
        a.downvoted_shown = 2;
        a.late_shown = 8;
        a.dup_pages = 1;
        let mut b = outcome(None, 10, 3);
        b.downvoted_shown = 0;
        b.late_shown = 8;
        let browse = Summary::of(&[a.clone(), b.clone()], 10, Scenario::Browse);
        assert_eq!(browse.p_first, Some(0.25));
        assert_eq!((browse.p_after_hit, browse.downvoted_share), (None, None));
        assert!((browse.dup_names - 100.0 / 11.0).abs() < 1e-12);
        let refine = Summary::of(&[a.clone(), b.clone()], 10, Scenario::Refine);
        assert_eq!((refine.p_after_hit, refine.hits), (Some(0.75), Some(1)));
        let reject = Summary::of(&[a, b], 10, Scenario::Reject);
        assert_eq!(reject.downvoted_share, Some(2.0 / 16.0));
        assert_eq!(reject.p_first, None);
    }
}

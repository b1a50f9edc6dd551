//! What one simulated session came to, and the summary over many: success
//! rate by round (SR@5, SR@10), mean rounds to success (AT, failures counted
//! as rounds + 1), last-round precision and vote rate.

use serde::Serialize;

/// One simulated session's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    /// The round (1-based) in which a target-class product was shown, if any.
    pub success: Option<u32>,
    /// Pages shown.
    pub rounds: u32,
    /// Pages after which the shopper voted.
    pub voted: u32,
    /// Pages after which the shopper could have voted (pages without success).
    pub could_vote: u32,
    /// Share of the last page shown that is of the target class.
    pub last_precision: f64,
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
}

impl Summary {
    /// Summarizes outcomes of sessions that ran at most `max_rounds` rounds.
    pub fn of(outcomes: &[Outcome], max_rounds: u32) -> Self {
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
        let (voted, could): (u32, u32) = outcomes
            .iter()
            .fold((0, 0), |(v, c), o| (v + o.voted, c + o.could_vote));
        Summary {
            sessions: outcomes.len(),
            max_rounds,
            sr5: within(5),
            sr10: within(10),
            success_by_round,
            at,
            last_precision: outcomes.iter().map(|o| o.last_precision).sum::<f64>() / n,
            vote_rate: if could == 0 {
                0.0
            } else {
                f64::from(voted) / f64::from(could)
            },
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
        );
        assert!((s.at - (2.0 + 11.0 + 7.0) / 3.0).abs() < 1e-12);
        assert!((s.sr5 - 1.0 / 3.0).abs() < 1e-12);
        assert!((s.sr10 - 2.0 / 3.0).abs() < 1e-12);
        assert!((s.vote_rate - 11.0 / 17.0).abs() < 1e-12);
        assert!((s.last_precision - 0.5 / 3.0).abs() < 1e-12);
        assert_eq!(s.success_by_round.len(), 10);
        assert!((s.success_by_round[1] - 1.0 / 3.0).abs() < 1e-12);
    }
}

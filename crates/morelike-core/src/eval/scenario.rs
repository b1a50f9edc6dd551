//! The scenarios and how a shopper's target and seed are drawn: the target
//! class is the class of a uniformly random product. In *browse* that
//! product is the seed; otherwise the seed is a uniformly random product
//! that shares the target's first two attributes but not the third (refine)
//! or the first but not the second (explore, reject). A target for which no
//! such seed exists (in browse: a class of one product) is drawn again.
//! Draws index the truth's rows in product-id order, so they do not depend
//! on the order the catalog was loaded in.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::truth::{Class, Truth};

/// What the shopper starts from, relative to what they want.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    /// The shopper likes the seed's kind: the target is the seed's own class.
    Browse,
    /// The seed shares the target's first and second attributes, not the third.
    Refine,
    /// The seed shares the target's first attribute, not the second.
    Explore,
    /// Drawn as explore; the shopper never upvotes, only downvotes.
    Reject,
}

impl Scenario {
    /// Every scenario, in report order.
    pub const ALL: [Scenario; 4] = [
        Scenario::Browse,
        Scenario::Refine,
        Scenario::Explore,
        Scenario::Reject,
    ];

    /// The scenario's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Browse => "browse",
            Scenario::Refine => "refine",
            Scenario::Explore => "explore",
            Scenario::Reject => "reject",
        }
    }

    /// A scenario by name.
    pub fn by_name(name: &str) -> Option<Self> {
        Scenario::ALL.into_iter().find(|s| s.name() == name)
    }

    /// A small number that keeps each scenario's random draws apart.
    pub(super) fn tag(self) -> u64 {
        match self {
            Scenario::Browse => 0x4252,
            Scenario::Refine => 0x5246,
            Scenario::Explore => 0x4558,
            Scenario::Reject => 0x524a,
        }
    }

    /// Whether the session goes on after the first hit (to measure
    /// `p_after_hit`); browse and reject sessions end there.
    pub fn goes_on_after_hit(self) -> bool {
        matches!(self, Scenario::Refine | Scenario::Explore)
    }
}

/// One simulated shopper's start: what they want and where they begin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Start {
    /// The row whose class is the target.
    pub target_row: u32,
    /// The target class.
    pub target: Class,
    /// The seed's row.
    pub seed: u32,
    /// How many targets were drawn before one had a valid seed (≥ 1).
    pub draws: u32,
}

/// No target with a valid seed could be drawn.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("no {scenario:?} seed found after {draws} target draws: the catalog's truth attributes are too uniform")]
pub struct NoSeed {
    /// The scenario.
    pub scenario: Scenario,
    /// Targets drawn.
    pub draws: u32,
}

/// The most targets drawn for one shopper before giving up.
pub const MAX_DRAWS: u32 = 10_000;

/// Complete rows grouped by their first attribute and by their first two,
/// with class counts, for drawing seeds quickly.
pub struct Sampler {
    rows: Vec<u32>,
    by_first: HashMap<u32, Vec<u32>>,
    by_two: HashMap<(u32, u32), Vec<u32>>,
    class_count: HashMap<Class, usize>,
    classes: Vec<Class>,
}

impl Sampler {
    /// Groups the complete rows of a truth table (in product-id order).
    pub fn new(truth: &Truth) -> Self {
        let rows: Vec<u32> = truth.complete_rows().collect();
        let mut by_first: HashMap<u32, Vec<u32>> = HashMap::new();
        let mut by_two: HashMap<(u32, u32), Vec<u32>> = HashMap::new();
        let mut class_count: HashMap<Class, usize> = HashMap::new();
        let max = rows.iter().max().map_or(0, |&r| r as usize + 1);
        let mut classes = vec![[0; 3]; max];
        for &row in &rows {
            let c = truth.class(row);
            classes[row as usize] = c;
            by_first.entry(c[0]).or_default().push(row);
            by_two.entry((c[0], c[1])).or_default().push(row);
            *class_count.entry(c).or_default() += 1;
        }
        Sampler {
            rows,
            by_first,
            by_two,
            class_count,
            classes,
        }
    }

    /// Draws a target and a seed for a scenario.
    pub fn draw(&self, scenario: Scenario, rng: &mut StdRng) -> Result<Start, NoSeed> {
        for draws in 1..=MAX_DRAWS {
            let target_row = self.rows[rng.random_range(0..self.rows.len())];
            let target = self.classes[target_row as usize];
            if scenario == Scenario::Browse {
                if self.class_count[&target] < 2 {
                    continue;
                }
                return Ok(Start {
                    target_row,
                    target,
                    seed: target_row,
                    draws,
                });
            }
            let (group, differs): (&[u32], usize) = match scenario {
                Scenario::Refine => (&self.by_two[&(target[0], target[1])], 2),
                _ => (&self.by_first[&target[0]], 1),
            };
            let same = match scenario {
                Scenario::Refine => self.class_count[&target],
                _ => self.by_two[&(target[0], target[1])].len(),
            };
            if group.len() == same {
                continue;
            }
            let seed = loop {
                let row = group[rng.random_range(0..group.len())];
                if self.classes[row as usize][differs] != target[differs] {
                    break row;
                }
            };
            return Ok(Start {
                target_row,
                target,
                seed,
                draws,
            });
        }
        Err(NoSeed {
            scenario,
            draws: MAX_DRAWS,
        })
    }
}

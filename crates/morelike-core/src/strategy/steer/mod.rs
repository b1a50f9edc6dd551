//! The default strategy: "more like this" that the shopper steers. Page one
//! leads with the seed's nearest products of its kind and spends what is
//! left on informative variety: products that vary one view of the anchor
//! (the seed, then the latest upvote), the most common values first, and
//! keep the rest of its kind. Votes move the balance: an upvote that
//! changes the kind earns a mix of its neighbours and variations around it;
//! an upvote that confirms the kind fills the page with its neighbours;
//! pages without an upvote jump to the most common other kinds; a downvote
//! is obeyed at once (no product making the same change, or of the same
//! kind when it changed nothing, comes back; values downvoted twice leave)
//! and its view is varied less, then kept. No two products of one name.

mod bars;
mod evidence;
mod gather;
mod page;

pub use evidence::Evidence;

use super::{Context, Strategy};
use crate::explain::{self, Explanation};
use crate::index::Hit;
use crate::views::ViewKind;

/// Steers between the anchor's neighbours and variations of it.
#[derive(Clone, Debug)]
pub struct Steer {
    /// The name in reports: `steer`, or `steer:` and the knobs changed.
    pub label: String,
    /// Candidates kept per varied view from the scan.
    pub pool: usize,
    /// Near candidates kept per slot that may take one.
    pub near_pool: usize,
    /// A dense view "changed" when its similarity to the anchor is below this.
    pub dense_gap: f32,
    /// Two products show "the same" dense value above this similarity.
    pub dense_same: f32,
    /// Each downvote that changed a view multiplies its share of slots by this.
    pub rejected_factor: f32,
    /// Near slots on page one.
    pub first_near: usize,
    /// Near slots on later pages while nothing was upvoted.
    pub searching_near: usize,
    /// Near slots after an upvote that changed the kind.
    pub changed_near: usize,
    /// Near slots after an upvote that confirmed the kind.
    pub confirmed_near: usize,
    /// Near slots lost per page without a new upvote.
    pub quiet_loss: usize,
    /// Share of the other slots that jump to other kinds once the shopper
    /// rejected the anchor's own kind.
    pub jump_share: f32,
    /// Whether a downvote blames only the coarsest view it changed.
    pub blame_coarsest: bool,
    /// A dense view's share of varying slots against a categorical view's.
    pub dense_share: f32,
    /// Whether a varied product must bring a kind not yet on the page.
    pub novel_kind: bool,
    /// Pages without an upvote after which some slots jump to other kinds.
    pub jump_after: u32,
    /// Near slots given back to variety per confirmation after the first.
    pub confirm_decay: usize,
    /// Share of the other slots that jump while nothing was ever upvoted.
    pub searching_jump_share: f32,
    /// A jump keeps a rejected view when at least this share of the shown
    /// products that changed it were downvoted.
    pub keep_ratio: f32,
    /// Whether a jump keeps the coarsest view when no view is kept.
    pub keep_coarsest: bool,
    /// A variation keeps the views whose changes were rejected this often.
    pub keep_after: u32,
    /// Near slots lost per this many products of the anchor's kind shown
    /// (0: none): the shopper has seen plenty of it and kept going.
    pub fatigue: usize,
    /// A product leaves the page when values the shopper downvoted twice
    /// (since they last upvoted them) make up this share of its kind (rarer values
    /// weigh more; above 1: never).
    pub rejected_share: f32,
}

impl Default for Steer {
    fn default() -> Self {
        Steer {
            label: "steer".to_owned(),
            pool: 16,
            near_pool: 4,
            dense_gap: 0.6,
            dense_same: 0.5,
            rejected_factor: 0.3,
            first_near: 7,
            searching_near: 1,
            changed_near: 3,
            confirmed_near: 6,
            quiet_loss: 2,
            jump_share: 0.5,
            blame_coarsest: true,
            dense_share: 0.25,
            novel_kind: true,
            jump_after: 2,
            confirm_decay: 2,
            searching_jump_share: 1.0,
            keep_ratio: 0.34,
            keep_coarsest: true,
            keep_after: 2,
            fatigue: 4,
            rejected_share: 0.35,
        }
    }
}

impl Steer {
    /// The default with some knobs changed: `name=value` pairs separated
    /// by `/` (`first_near=6/pool=64`); booleans are 0 or 1.
    pub fn with_knobs(knobs: &str) -> Result<Self, String> {
        let mut s = Steer::default();
        for kv in knobs.split('/').filter(|s| !s.trim().is_empty()) {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| format!("steer knob '{kv}' is not NAME=NUMBER"))?;
            let f: f32 = v
                .trim()
                .parse()
                .map_err(|_| format!("steer knob '{kv}' is not NAME=NUMBER"))?;
            let k = k.trim();
            match k {
                "pool" => s.pool = f as usize,
                "near_pool" => s.near_pool = f as usize,
                "dense_gap" => s.dense_gap = f,
                "dense_same" => s.dense_same = f,
                "rejected_factor" => s.rejected_factor = f,
                "first_near" => s.first_near = f as usize,
                "searching_near" => s.searching_near = f as usize,
                "changed_near" => s.changed_near = f as usize,
                "confirmed_near" => s.confirmed_near = f as usize,
                "confirm_decay" => s.confirm_decay = f as usize,
                "quiet_loss" => s.quiet_loss = f as usize,
                "jump_share" => s.jump_share = f,
                "jump_after" => s.jump_after = f as u32,
                "blame_coarsest" => s.blame_coarsest = f > 0.0,
                "dense_share" => s.dense_share = f,
                "novel_kind" => s.novel_kind = f > 0.0,
                "searching_jump_share" => s.searching_jump_share = f,
                "keep_ratio" => s.keep_ratio = f,
                "keep_coarsest" => s.keep_coarsest = f > 0.0,
                "keep_after" => s.keep_after = f as u32,
                "fatigue" => s.fatigue = f as usize,
                "rejected_share" => s.rejected_share = f,
                _ => return Err(format!("steer has no knob '{k}'")),
            }
        }
        s.label = format!("steer:{knobs}");
        Ok(s)
    }

    /// Below which similarity each view counts as changed.
    pub fn gaps(&self, cx: &Context<'_>) -> Vec<f32> {
        per_view(cx, 0.999, self.dense_gap)
    }

    /// At or above which similarity two products show the same value of a view.
    pub fn sames(&self, cx: &Context<'_>) -> Vec<f32> {
        per_view(cx, 0.999, self.dense_same)
    }

    /// Each view's share of the varying slots: every weighted view alike,
    /// less for each downvote that changed it.
    pub fn shares(&self, cx: &Context<'_>, e: &Evidence) -> Vec<f32> {
        let layout = cx.index.layout();
        let any_categorical = layout
            .views
            .iter()
            .zip(cx.weights)
            .any(|(v, &w)| w > 0.0 && v.kind == ViewKind::Categorical);
        cx.weights
            .iter()
            .zip(&e.rejected)
            .zip(&layout.views)
            .map(|((&w, &r), view)| {
                if w <= 0.0 {
                    return 0.0;
                }
                let prior = if any_categorical && view.kind != ViewKind::Categorical {
                    self.dense_share
                } else {
                    1.0
                };
                prior * self.rejected_factor.powi(r as i32)
            })
            .collect()
    }

    /// How many of the page's products are the anchor's nearest.
    pub fn near_slots(&self, e: &Evidence, seen_of_kind: usize) -> usize {
        // Once the shopper rejected the anchor's kind, none of it.
        let floor = if e.anchor_rejected {
            0
        } else {
            self.searching_near
        };
        let fresh = if !e.upvoted {
            if e.quiet == 0 {
                self.first_near
            } else {
                floor
            }
        } else {
            let fresh = if e.confirmed > 0 {
                self.confirmed_near
                    .saturating_sub(self.confirm_decay * (e.confirmed as usize - 1))
            } else if e.kind_changed {
                self.changed_near
            } else {
                self.searching_near
            };
            fresh.saturating_sub(self.quiet_loss * e.quiet as usize)
        };
        let tired = seen_of_kind.checked_div(self.fatigue).unwrap_or(0);
        fresh.saturating_sub(tired).max(floor)
    }

    /// How many of `free` slots jump to other kinds.
    pub fn jump_slots(&self, e: &Evidence, free: usize) -> usize {
        let stuck = e.quiet >= self.jump_after && self.jump_after > 0;
        if (e.anchor_rejected || stuck) && e.confirmed == 0 {
            let share = if e.upvoted {
                self.jump_share
            } else {
                self.searching_jump_share
            };
            (share * free as f32).round() as usize
        } else {
            0
        }
    }
}

/// One threshold per view: `categorical` for categorical views (where any
/// difference counts), `dense` for the others.
fn per_view(cx: &Context<'_>, categorical: f32, dense: f32) -> Vec<f32> {
    cx.index
        .layout()
        .views
        .iter()
        .map(|v| match v.kind {
            ViewKind::Categorical => categorical,
            _ => dense,
        })
        .collect()
}

impl Strategy for Steer {
    fn name(&self) -> &str {
        &self.label
    }

    fn page(&self, cx: &Context<'_>) -> Vec<Hit> {
        let gaps = self.gaps(cx);
        let evidence = Evidence::read(cx, &gaps, self.blame_coarsest);
        match evidence.anchor {
            Some(anchor) => page::build(self, cx, anchor, &evidence, &gaps),
            None => super::Random.page(cx),
        }
    }

    /// A page is ordered by likeness to its anchor (the seed, then the
    /// latest upvote), every view weighted: that is each product's score.
    fn explain(&self, cx: &Context<'_>, row: u32) -> Explanation {
        let gaps = self.gaps(cx);
        let evidence = Evidence::read(cx, &gaps, self.blame_coarsest);
        let mut e = match evidence.anchor {
            Some(anchor) => {
                let taker = explain::anchor_example(cx.seed, cx.votes, anchor);
                let mut e =
                    explain::likeness(cx.index, cx.weights, cx.seed, cx.votes, anchor, taker, row);
                // Exactly the score the page reports.
                let query = cx.index.prepare(&cx.index.point(anchor), cx.weights);
                e.score = cx.index.score(&query, row);
                e
            }
            None => explain::nothing(cx.index, cx.weights, cx.seed, cx.votes, row),
        };
        e.strategy = self.label.clone();
        e
    }
}

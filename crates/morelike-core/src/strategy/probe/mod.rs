//! The default strategy: make each page informative. Around an anchor (the
//! seed, then the latest upvote) every slot but the last varies one view
//! while keeping the others close, never repeating a value already tried
//! around that anchor; views whose changes were downvoted are varied less.
//! Optionally the last slot is the anchor's nearest neighbour, a control that
//! lets the shopper say "none of these changes is better" (off by default:
//! the evaluation showed the slot is worth more as one more probe).

mod evidence;
mod page;

pub use evidence::Evidence;

use super::{Context, Strategy};
use crate::index::Hit;
use crate::views::ViewKind;

/// Varies one view at a time around the anchor.
#[derive(Clone, Debug)]
pub struct Probe {
    /// Candidates kept per view from the scan.
    pub pool: usize,
    /// A dense view "changed" when its similarity to the anchor is below this.
    pub dense_gap: f32,
    /// Two products show "the same" dense value above this similarity.
    pub dense_same: f32,
    /// Each downvote that changed a view multiplies its share of slots by this.
    pub rejected_factor: f32,
    /// Each upvote that changed a view multiplies its share of slots by this.
    pub accepted_factor: f32,
    /// Whether the last slot is the anchor's nearest neighbour (a control).
    pub control: bool,
    /// A view's prior share of slots is its weight to this power (0: every
    /// view with a weight above zero gets the same share).
    pub share_power: f32,
}

impl Default for Probe {
    fn default() -> Self {
        Probe {
            pool: 96,
            dense_gap: 0.6,
            dense_same: 0.5,
            rejected_factor: 0.3,
            accepted_factor: 1.0,
            control: false,
            share_power: 0.0,
        }
    }
}

impl Probe {
    /// Below which similarity each view counts as changed.
    pub fn gaps(&self, cx: &Context<'_>) -> Vec<f32> {
        per_view(cx, 0.999, self.dense_gap)
    }

    /// At or above which similarity two products show the same value of a view.
    pub fn sames(&self, cx: &Context<'_>) -> Vec<f32> {
        per_view(cx, 0.999, self.dense_same)
    }

    /// Each view's share of the varying slots.
    pub fn shares(&self, cx: &Context<'_>, e: &Evidence) -> Vec<f32> {
        cx.weights
            .iter()
            .zip(e.rejected.iter().zip(&e.accepted))
            .map(|(&w, (&r, &a))| {
                let w = if w > 0.0 {
                    w.powf(self.share_power)
                } else {
                    0.0
                };
                w * self.rejected_factor.powi(r as i32) * self.accepted_factor.powi(a as i32)
            })
            .collect()
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

impl Strategy for Probe {
    fn name(&self) -> &str {
        "probe"
    }

    fn page(&self, cx: &Context<'_>) -> Vec<Hit> {
        let gaps = self.gaps(cx);
        let evidence = Evidence::read(cx, &gaps);
        match evidence.anchor {
            Some(anchor) => page::build(self, cx, anchor, &evidence, &gaps),
            None => super::Random.page(cx),
        }
    }
}

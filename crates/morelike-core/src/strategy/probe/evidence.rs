//! What the votes so far say about each view: replaying the session, every
//! vote is read against the anchor of its round (the seed, then the latest
//! upvote). A downvoted product rejects what it changed from the anchor, so
//! those views are worth keeping; an upvoted product accepts its changes and
//! becomes the next anchor.

use super::super::Context;
use crate::index::Index;
use crate::session::Vote;

/// Evidence per view, and the anchor the next page varies around.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    /// The row pages vary around (None when the seed is gone and nobody upvoted).
    pub anchor: Option<u32>,
    /// Per view: how many downvoted products changed it.
    pub rejected: Vec<u32>,
    /// Per view: how many upvoted products changed it.
    pub accepted: Vec<u32>,
}

/// Whether a view changed between two products (per-view similarity below `gap`).
pub fn changed<'a>(sims: &'a [f32], gaps: &'a [f32]) -> impl Iterator<Item = bool> + 'a {
    sims.iter().zip(gaps).map(|(s, g)| s < g)
}

impl Evidence {
    /// Replays the votes of a session.
    pub fn read(cx: &Context<'_>, gaps: &[f32]) -> Self {
        let views = cx.index.layout().views.len();
        let mut e = Evidence {
            anchor: cx.seed,
            rejected: vec![0; views],
            accepted: vec![0; views],
        };
        let mut sims = vec![0.0; views];
        let mut i = 0;
        while i < cx.votes.len() {
            let round = cx.votes[i].round;
            let end = cx.votes[i..]
                .iter()
                .position(|v| v.round != round)
                .map_or(cx.votes.len(), |p| i + p);
            let anchor = e.anchor;
            for v in &cx.votes[i..end] {
                if let Some(a) = anchor {
                    view_sims(cx.index, a, v.row, &mut sims);
                    let tally = match v.vote {
                        Vote::Up => &mut e.accepted,
                        Vote::Down => &mut e.rejected,
                    };
                    for (t, c) in tally.iter_mut().zip(changed(&sims, gaps)) {
                        *t += u32::from(c);
                    }
                }
                if v.vote == Vote::Up {
                    e.anchor = Some(v.row);
                }
            }
            i = end;
        }
        e
    }
}

/// Per-view similarities of two rows.
pub fn view_sims(index: &Index, a: u32, b: u32, out: &mut [f32]) {
    index.view_sims(&index.point(a), b, out);
}

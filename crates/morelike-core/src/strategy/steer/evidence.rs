//! What the votes so far say, replayed in order. Every vote is read against
//! the anchor of its round (the seed, then the latest upvote): a downvoted
//! product rejects what it changed from the anchor (or, if it changed
//! nothing, the anchor's kind itself); an upvoted product accepts its
//! changes and becomes the next anchor. An upvote that changed nothing, or
//! that lands close to the previous upvote, confirms the anchor: the shopper
//! has found their kind.

use super::super::Context;
use crate::session::Vote;
use crate::views::ViewKind;

/// One downvote, with what it changed from the anchor of its round.
#[derive(Clone, Debug, PartialEq)]
pub struct Rejection {
    /// The downvoted row.
    pub row: u32,
    /// Per view, whether it differs from the anchor of its round.
    pub changed: Vec<bool>,
}

/// The session's votes, read.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    /// The row pages are built around (None: the seed is gone and nobody upvoted).
    pub anchor: Option<u32>,
    /// Per view: how many downvoted products changed it.
    pub rejected: Vec<u32>,
    /// Per view: how many upvoted products changed it.
    pub accepted: Vec<u32>,
    /// Upvotes in a row, up to the latest, that kept the kind of an upvoted
    /// anchor (an upvote of the seed's kind is no confirmation: the seed
    /// is where the shopper started, not what they chose).
    pub confirmed: u32,
    /// Whether the latest upvote changed the kind of the anchor before it.
    pub kind_changed: bool,
    /// Whether a product of the anchor's kind was downvoted since the
    /// anchor became the anchor: the shopper does not want it.
    pub anchor_rejected: bool,
    /// Pages served since the latest upvote (since the start without one).
    pub quiet: u32,
    /// Whether the shopper upvoted anything.
    pub upvoted: bool,
    /// Every downvote, in order.
    pub rejections: Vec<Rejection>,
}

impl Evidence {
    /// Replays the votes of a session; a view changed where the per-view
    /// similarity to the anchor is below `gaps[v]`.
    pub fn read(cx: &Context<'_>, gaps: &[f32], coarsest: bool) -> Self {
        let index = cx.index;
        let views = index.layout().views.len();
        let mut e = Evidence {
            anchor: cx.seed,
            rejected: vec![0; views],
            accepted: vec![0; views],
            confirmed: 0,
            kind_changed: false,
            anchor_rejected: false,
            quiet: cx.round,
            upvoted: false,
            rejections: Vec::new(),
        };
        let mut sims = vec![0.0; views];
        // One buffer for every vote's changes (a downvote keeps a copy),
        // and the anchor's point read again only when the anchor changes.
        let mut changed = vec![true; views];
        let mut anchor_point = None;
        let mut i = 0;
        while i < cx.votes.len() {
            let round = cx.votes[i].round;
            let end = cx.votes[i..]
                .iter()
                .position(|v| v.round != round)
                .map_or(cx.votes.len(), |p| i + p);
            let anchor = e.anchor;
            if let Some(a) = anchor {
                if anchor_point.as_ref().is_none_or(|(row, _)| *row != a) {
                    anchor_point = Some((a, index.point(a)));
                }
            }
            for v in &cx.votes[i..end] {
                match &anchor_point {
                    Some((_, p)) => {
                        index.view_sims(p, v.row, &mut sims);
                        for ((c, s), g) in changed.iter_mut().zip(&sims).zip(gaps) {
                            *c = s < g;
                        }
                    }
                    None => changed.fill(true),
                }
                match v.vote {
                    Vote::Up => {
                        for (t, &c) in e.accepted.iter_mut().zip(&changed) {
                            *t += u32::from(c);
                        }
                        let changed_kind = kind_changed(cx, &changed);
                        e.confirmed = if changed_kind || !e.upvoted {
                            0
                        } else {
                            e.confirmed + 1
                        };
                        e.kind_changed = changed_kind;
                        e.anchor_rejected = false;
                        e.anchor = Some(v.row);
                        e.upvoted = true;
                        e.quiet = cx.round.saturating_sub(v.round);
                    }
                    Vote::Down => {
                        match blamed(cx, &changed) {
                            Some(v) if coarsest => e.rejected[v] += 1,
                            _ => {
                                for (t, &c) in e.rejected.iter_mut().zip(&changed) {
                                    *t += u32::from(c);
                                }
                            }
                        }

                        e.rejections.push(Rejection {
                            row: v.row,
                            changed: changed.clone(),
                        });
                    }
                }
            }
            if let Some(a) = e.anchor {
                let down_of_kind = cx.votes[i..end]
                    .iter()
                    .any(|v| v.vote == Vote::Down && same_kind(cx, a, v.row));
                e.anchor_rejected |= down_of_kind;
            }
            i = end;
        }
        e
    }
}

/// Whether a product changed the anchor's kind: a weighted categorical view
/// (or, in a store without any, a weighted view of any kind).
pub fn kind_changed(cx: &Context<'_>, changed: &[bool]) -> bool {
    let layout = cx.index.layout();
    let weighted = |v: usize| cx.weights[v] > 0.0;
    let categorical = |v: usize| weighted(v) && layout.views[v].kind == ViewKind::Categorical;
    if (0..changed.len()).any(categorical) {
        (0..changed.len()).any(|v| categorical(v) && changed[v])
    } else {
        (0..changed.len()).any(|v| weighted(v) && changed[v])
    }
}

/// Whether two rows are of one kind: equal on every weighted categorical view.
pub fn same_kind(cx: &Context<'_>, a: u32, b: u32) -> bool {
    let layout = cx.index.layout();
    layout.views.iter().enumerate().all(|(v, view)| {
        view.kind != ViewKind::Categorical
            || cx.weights[v] <= 0.0
            || view
                .fields
                .clone()
                .all(|f| cx.index.code(a, f) == cx.index.code(b, f))
    })
}

/// The view a downvote blames among those its product changed: the
/// coarsest weighted categorical view (the fewest distinct values; a change
/// of department changes the aisle too, and says nothing about aisles), or,
/// if no categorical view changed, None (every changed view is blamed).
pub fn blamed(cx: &Context<'_>, changed: &[bool]) -> Option<usize> {
    let index = cx.index;
    let layout = index.layout();
    (0..changed.len())
        .filter(|&v| {
            changed[v] && cx.weights[v] > 0.0 && layout.views[v].kind == ViewKind::Categorical
        })
        .min_by_key(|&v| {
            let values = layout.views[v]
                .fields
                .clone()
                .map(|f| index.dictionary(f).len())
                .max()
                .unwrap_or(0);
            (values, v)
        })
}

//! What the shopper's downvotes bar from a page. A downvoted product bars
//! the products that repeat the change it made from the anchor (or, when
//! it changed nothing, its kind); values in two downvoted products since
//! the last upvoted one that showed them bar the products mostly made of
//! them. Both read only
//! categorical values, which every product of a kind shares: a bar holds
//! for a whole kind, so the gathering leaves barred kinds out and the page
//! checks each kind once.

use super::evidence::{Evidence, Rejection};
use crate::index::Index;
use crate::session::Vote;
use crate::strategy::Context;
use crate::views::{ViewKind, MISSING};

/// The bars of one page (the default bars nothing).
#[derive(Default)]
pub struct Bars {
    /// Per downvote, the downvoted product's codes on the fields of the
    /// kind views it changed (every kind view when it changed none), as
    /// (field, code): a product with all of them repeats the change.
    rejections: Vec<Vec<(usize, u32)>>,
    /// (field, code) of the kind values in at least two downvoted products
    /// since the last upvoted one that showed them, sorted.
    rejected_values: Vec<(usize, u32)>,
    /// The fields of the kind views.
    kind_fields: Vec<usize>,
    /// A product is barred when the rejected values make up this share of
    /// its kind values (rarer values weigh more).
    rejected_share: f32,
    /// Per field, the codes a barred product may show there: each
    /// rejection's rarest value and every rejected value. A product with
    /// none of them is barred by nothing, which most products show at a
    /// glance.
    telltales: Vec<(usize, CodeSet)>,
    /// Per kind field, each value's weight and, if it is rejected, the
    /// same again (else 0), by code; only when values are rejected. Worked
    /// out once a page, not once a product.
    value_weights: Vec<Vec<(f32, f32)>>,
}

/// How much a value says about a product: more, the rarer it is.
fn value_weight(index: &Index, field: usize, code: u32) -> f32 {
    let products = index.len() as f32 + 1.0;
    (products / (index.value_count(field, code) as f32 + 1.0)).ln()
}

/// A set of one field's codes (MISSING included), a bit each.
#[derive(Default)]
struct CodeSet {
    bits: Vec<u64>,
    missing: bool,
}

impl CodeSet {
    fn insert(&mut self, code: u32) {
        if code == MISSING {
            self.missing = true;
            return;
        }
        let word = code as usize / 64;
        if self.bits.len() <= word {
            self.bits.resize(word + 1, 0);
        }
        self.bits[word] |= 1 << (code % 64);
    }

    fn contains(&self, code: u32) -> bool {
        if code == MISSING {
            return self.missing;
        }
        self.bits
            .get(code as usize / 64)
            .is_some_and(|w| w & (1 << (code % 64)) != 0)
    }
}

impl Bars {
    /// The bars the evidence sets; `rejected_share` as in [`super::Steer`].
    pub fn new(cx: &Context<'_>, evidence: &Evidence, rejected_share: f32) -> Self {
        let index = cx.index;
        let layout = index.layout();
        let kind_views: Vec<usize> = (0..layout.views.len())
            .filter(|&v| layout.views[v].kind == ViewKind::Categorical && cx.weights[v] > 0.0)
            .collect();
        // A store without weighted categorical views has no kinds: a
        // downvote there bans nothing by kind (it would ban every product).
        let rejections: Vec<Vec<(usize, u32)>> = evidence
            .rejections
            .iter()
            .filter(|_| !kind_views.is_empty())
            .map(|Rejection { row, changed }| {
                let mut views: Vec<usize> =
                    kind_views.iter().copied().filter(|&v| changed[v]).collect();
                if views.is_empty() {
                    views.clone_from(&kind_views);
                }
                views
                    .iter()
                    .flat_map(|&v| layout.views[v].fields.clone())
                    .map(|f| (f, index.code(*row, f)))
                    .collect()
            })
            .collect();
        let kind_fields: Vec<usize> = kind_views
            .iter()
            .flat_map(|&v| layout.views[v].fields.clone())
            .collect();
        // Per kind value, the downvoted products that showed it since the
        // last upvoted one that did: the shopper's latest word on a value
        // wins (a colour liked, then downvoted four times, is rejected).
        let mut down: std::collections::HashMap<(usize, u32), u32> =
            std::collections::HashMap::new();
        let votes = if evidence.rejections.is_empty() {
            &[][..]
        } else {
            cx.votes
        };
        for v in votes {
            for &f in &kind_fields {
                let code = index.code(v.row, f);
                if code == MISSING {
                    continue;
                }
                match v.vote {
                    Vote::Down => *down.entry((f, code)).or_default() += 1,
                    Vote::Up => {
                        down.remove(&(f, code));
                    }
                }
            }
        }
        let mut rejected_values: Vec<(usize, u32)> = down
            .into_iter()
            .filter(|&(_, n)| n >= 2)
            .map(|(value, _)| value)
            .collect();
        rejected_values.sort_unstable();
        let mut telltales: Vec<(usize, CodeSet)> = Vec::new();
        let rarest = rejections.iter().filter_map(|change| {
            change
                .iter()
                .min_by_key(|&&(f, code)| match code {
                    MISSING => u32::MAX,
                    _ => index.value_count(f, code),
                })
                .copied()
        });
        for (f, code) in rarest.chain(rejected_values.iter().copied()) {
            let at = match telltales.iter().position(|t| t.0 == f) {
                Some(at) => at,
                None => {
                    telltales.push((f, CodeSet::default()));
                    telltales.len() - 1
                }
            };
            telltales[at].1.insert(code);
        }
        let value_weights = if rejected_values.is_empty() {
            Vec::new()
        } else {
            kind_fields
                .iter()
                .map(|&f| {
                    (0..index.dictionary(f).len() as u32)
                        .map(|code| {
                            let weight = value_weight(index, f, code);
                            let rejected = rejected_values.binary_search(&(f, code)).is_ok();
                            (weight, if rejected { weight } else { 0.0 })
                        })
                        .collect()
                })
                .collect()
        };
        Bars {
            value_weights,
            rejections,
            rejected_values,
            kind_fields,
            rejected_share,
            telltales,
        }
    }

    /// Whether nothing is barred.
    pub fn is_empty(&self) -> bool {
        self.rejections.is_empty() && self.rejected_values.is_empty()
    }

    /// Whether the products with these categorical codes (a kind's, one
    /// per field) are barred.
    pub fn bar(&self, index: &Index, codes: &[u32]) -> bool {
        self.telltales
            .iter()
            .any(|(f, set)| set.contains(codes[*f]))
            && self.bar_all(index, codes)
    }

    /// Per kind of the index, whether it is barred: the kinds with a
    /// telltale value are found a column at a time and only they are
    /// checked in full (a million products have tens of thousands of kinds).
    /// `asked` says which kinds to check (the others stay unbarred).
    pub fn barred_kinds(
        &self,
        index: &Index,
        asked: impl Fn(usize) -> bool,
        barred: &mut Vec<bool>,
    ) {
        barred.clear();
        barred.resize(index.kind_count(), false);
        for (f, set) in &self.telltales {
            for (b, &code) in barred.iter_mut().zip(index.kind_column(*f)) {
                *b |= set.contains(code);
            }
        }
        for (kind, b) in barred.iter_mut().enumerate() {
            if *b {
                *b = asked(kind) && self.bar_all(index, index.kind_codes(kind as u32));
            }
        }
    }

    /// [`Bars::bar`] without the glance at the telltales.
    fn bar_all(&self, index: &Index, codes: &[u32]) -> bool {
        self.rejections
            .iter()
            .any(|change| change.iter().all(|&(f, code)| codes[f] == code))
            || self.made_of_rejected(index, codes)
    }

    /// Whether a product with these codes is mostly made of values the
    /// shopper downvoted repeatedly: the values' weight (rarer values weigh
    /// more) among all of its kind values reaches the threshold.
    fn made_of_rejected(&self, index: &Index, codes: &[u32]) -> bool {
        if self.rejected_values.is_empty() {
            return false;
        }
        let (mut down, mut all) = (0.0f32, 0.0f32);
        for (&f, weights) in self.kind_fields.iter().zip(&self.value_weights) {
            let code = codes[f];
            if code == MISSING {
                continue;
            }
            let (weight, rejected) = weights.get(code as usize).copied().unwrap_or_else(|| {
                let weight = value_weight(index, f, code);
                let rejected = self.rejected_values.binary_search(&(f, code)).is_ok();
                (weight, if rejected { weight } else { 0.0 })
            });
            all += weight;
            down += rejected;
        }
        down > 0.0 && down >= self.rejected_share * all
    }
}

//! How many fields of each categorical view every row shares with one
//! product, counted a field at a time over the index's columns of codes
//! (one vectorized pass per field; per-row comparisons with branches cost
//! more than the whole count). Counts are `u16`: a view may have more than
//! 255 fields (up to 65,535).

use crate::index::Index;
use crate::views::{ViewKind, MISSING};

/// One categorical view's match counts against a product.
pub struct ViewMatches {
    /// The view.
    pub view: usize,
    /// What one matching field adds to the view's similarity.
    pub share: f32,
    /// Per row, how many of the view's fields it shares with the product.
    pub counts: Vec<u16>,
}

/// Counts, for the categorical views among `views`, how many fields every
/// row shares with `row` (a field the product lacks never matches).
pub fn count(index: &Index, row: u32, views: &[usize]) -> Vec<ViewMatches> {
    let layout = index.layout();
    views
        .iter()
        .filter(|&&v| layout.views[v].kind == ViewKind::Categorical)
        .map(|&v| {
            let mut counts = vec![0u16; index.row_count()];
            for f in layout.views[v].fields.clone() {
                let code = index.code(row, f);
                if code == MISSING {
                    continue;
                }
                for (c, &x) in counts.iter_mut().zip(index.column(f)) {
                    *c += u16::from(x == code);
                }
            }
            ViewMatches {
                view: v,
                share: layout.field_share(v),
                counts,
            }
        })
        .collect()
}

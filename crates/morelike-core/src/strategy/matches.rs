//! How many fields of each categorical view every kind (products sharing
//! every categorical value) shares with one product, counted a field at a
//! time over the index's columns of kind codes (one vectorized pass per
//! field over the kinds, a few thousand, where a pass over the rows would
//! visit a million). Counts are `u16`: a view may have more than 255
//! fields (up to 65,535).

use crate::index::Index;
use crate::views::{ViewKind, MISSING};

/// One categorical view's match counts against a product.
pub struct ViewMatches {
    /// The view.
    pub view: usize,
    /// What one matching field adds to the view's similarity.
    pub share: f32,
    /// Per kind, how many of the view's fields it shares with the product
    /// (a row's count is its kind's: [`Index::kind_of`]).
    pub counts: Vec<u16>,
}

/// Counts, for the categorical views among `views`, how many fields every
/// kind shares with `row` (a field the product lacks never matches).
pub fn count(index: &Index, row: u32, views: &[usize]) -> Vec<ViewMatches> {
    let layout = index.layout();
    views
        .iter()
        .filter(|&&v| layout.views[v].kind == ViewKind::Categorical)
        .map(|&v| {
            let mut counts = vec![0u16; index.kind_count()];
            for f in layout.views[v].fields.clone() {
                let code = index.code(row, f);
                if code == MISSING {
                    continue;
                }
                for (c, &x) in counts.iter_mut().zip(index.kind_column(f)) {
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

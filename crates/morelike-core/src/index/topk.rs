//! Keeping the k best-scoring rows of a scan. Equal scores are ordered by a
//! stable key of the product (a hash of its id, see [`Index::key`]), never by
//! row number: which product wins a tie does not depend on the order the
//! catalog was loaded in.
//!
//! [`Index::key`]: super::Index::key

/// A scored index row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    /// The row.
    pub row: u32,
    /// Its score (higher is better).
    pub score: f32,
}

/// The k best hits seen so far, best first; on equal scores the smaller key wins.
pub struct TopK {
    k: usize,
    hits: Vec<(Hit, u64)>,
}

impl TopK {
    /// Keeps at most `k` hits.
    pub fn new(k: usize) -> Self {
        TopK {
            k,
            hits: Vec::with_capacity(k + 1),
        }
    }

    /// The lowest score that can still get in (with a small enough key);
    /// anything strictly below it cannot.
    #[inline]
    pub fn threshold(&self) -> f32 {
        if self.k == 0 {
            f32::INFINITY
        } else if self.hits.len() < self.k {
            f32::NEG_INFINITY
        } else {
            self.hits[self.k - 1].0.score
        }
    }

    /// Offers a hit with its tie-break key.
    #[inline]
    pub fn push(&mut self, row: u32, score: f32, key: u64) {
        if self.k == 0 || score < self.threshold() || score.is_nan() {
            return;
        }
        let at = self
            .hits
            .partition_point(|(h, k)| h.score > score || (h.score == score && *k < key));
        if at >= self.k {
            return;
        }
        self.hits.insert(at, (Hit { row, score }, key));
        self.hits.truncate(self.k);
    }

    /// How many hits are kept.
    pub fn len(&self) -> usize {
        self.hits.len()
    }

    /// Whether no hit is kept.
    pub fn is_empty(&self) -> bool {
        self.hits.is_empty()
    }

    /// The hits, best first.
    pub fn into_hits(self) -> Vec<Hit> {
        self.hits.into_iter().map(|(h, _)| h).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_best_in_order_and_breaks_ties_by_key_not_by_arrival() {
        let offers = [
            (0, 0.5, 9),
            (1, 0.9, 7),
            (2, 0.1, 1),
            (3, 0.9, 3),
            (4, 0.7, 2),
        ];
        let best = |offers: &mut dyn Iterator<Item = &(u32, f32, u64)>| {
            let mut top = TopK::new(3);
            for &(row, score, key) in offers {
                top.push(row, score, key);
            }
            top.into_hits().iter().map(|h| h.row).collect::<Vec<_>>()
        };
        assert_eq!(best(&mut offers.iter()), [3, 1, 4]);
        assert_eq!(best(&mut offers.iter().rev()), [3, 1, 4]);
    }

    #[test]
    fn nothing_gets_into_an_empty_top() {
        let mut top = TopK::new(0);
        assert_eq!(top.threshold(), f32::INFINITY);
        top.push(0, 1.0, 0);
        assert!(top.is_empty());
    }

    #[test]
    fn a_tie_at_the_threshold_goes_to_the_smaller_key() {
        let mut top = TopK::new(2);
        top.push(0, 1.0, 5);
        top.push(1, 0.5, 8);
        top.push(2, 0.5, 4);
        top.push(3, 0.5, 9);
        let rows: Vec<u32> = top.into_hits().iter().map(|h| h.row).collect();
        assert_eq!(rows, [0, 2]);
    }
}

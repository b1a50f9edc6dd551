//! Keeping the k best-scoring rows of a scan.

/// A scored index row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    /// The row.
    pub row: u32,
    /// Its score (higher is better).
    pub score: f32,
}

/// The k best hits seen so far, best first; on equal scores the earlier row wins.
pub struct TopK {
    k: usize,
    hits: Vec<Hit>,
}

impl TopK {
    /// Keeps at most `k` hits.
    pub fn new(k: usize) -> Self {
        TopK {
            k,
            hits: Vec::with_capacity(k + 1),
        }
    }

    /// The score a new hit must beat to get in.
    #[inline]
    pub fn threshold(&self) -> f32 {
        if self.hits.len() < self.k {
            f32::NEG_INFINITY
        } else {
            self.hits[self.k - 1].score
        }
    }

    /// Offers a hit.
    #[inline]
    pub fn push(&mut self, row: u32, score: f32) {
        if self.k == 0 || score <= self.threshold() || score.is_nan() {
            return;
        }
        let at = self.hits.partition_point(|h| h.score >= score);
        self.hits.insert(at, Hit { row, score });
        self.hits.truncate(self.k);
    }

    /// The hits, best first.
    pub fn into_hits(self) -> Vec<Hit> {
        self.hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_best_in_order_and_the_first_of_equals() {
        let mut top = TopK::new(3);
        for (row, score) in [(0, 0.5), (1, 0.9), (2, 0.1), (3, 0.9), (4, 0.7), (5, 0.2)] {
            top.push(row, score);
        }
        let rows: Vec<u32> = top.into_hits().iter().map(|h| h.row).collect();
        assert_eq!(rows, [1, 3, 4]);
    }
}

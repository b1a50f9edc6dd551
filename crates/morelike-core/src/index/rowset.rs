//! A set of index rows as a bitset: shown products, live rows, in-stock rows.

/// A growable bitset of row numbers.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RowSet {
    words: Vec<u64>,
}

impl RowSet {
    /// An empty set sized for `rows` rows.
    pub fn with_rows(rows: usize) -> Self {
        RowSet {
            words: vec![0; rows.div_ceil(64)],
        }
    }

    /// Adds a row.
    pub fn insert(&mut self, row: u32) {
        let w = row as usize / 64;
        if w >= self.words.len() {
            self.words.resize(w + 1, 0);
        }
        self.words[w] |= 1 << (row % 64);
    }

    /// Removes a row.
    pub fn remove(&mut self, row: u32) {
        if let Some(word) = self.words.get_mut(row as usize / 64) {
            *word &= !(1 << (row % 64));
        }
    }

    /// Whether a row is in the set.
    #[inline]
    pub fn contains(&self, row: u32) -> bool {
        self.words
            .get(row as usize / 64)
            .is_some_and(|w| w & (1 << (row % 64)) != 0)
    }

    /// How many rows are in the set.
    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The 64-row word `w` (rows `64·w .. 64·w + 64`); zero past the end.
    #[inline]
    pub fn word(&self, w: usize) -> u64 {
        self.words.get(w).copied().unwrap_or(0)
    }

    /// The rows in the set, smallest first (a word at a time: an empty
    /// word costs one test, whatever the store's size).
    pub fn rows(&self) -> impl Iterator<Item = u32> + '_ {
        self.words.iter().enumerate().flat_map(|(w, &word)| {
            let mut bits = word;
            std::iter::from_fn(move || {
                (bits != 0).then(|| {
                    let row = (w * 64) as u32 + bits.trailing_zeros();
                    bits &= bits - 1;
                    row
                })
            })
        })
    }

    /// How many 64-row words the set spans.
    pub fn words(&self) -> usize {
        self.words.len()
    }

    /// Gives back spare capacity.
    pub fn shrink(&mut self) {
        self.words.shrink_to_fit();
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        crate::heap::vec(&self.words)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|&w| w == 0)
    }
}

impl FromIterator<u32> for RowSet {
    fn from_iter<I: IntoIterator<Item = u32>>(iter: I) -> Self {
        let mut set = RowSet::default();
        for row in iter {
            set.insert(row);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::RowSet;

    #[test]
    fn rows_lists_every_row_in_the_set_smallest_first() {
        let rows = [0u32, 1, 63, 64, 130, 1000, 4095];
        let mut set: RowSet = rows.iter().rev().copied().collect();
        set.insert(5000);
        set.remove(5000);
        assert_eq!(set.rows().collect::<Vec<_>>(), rows);
        assert_eq!(set.rows().count(), set.len());
        assert_eq!(RowSet::with_rows(1000).rows().count(), 0);
    }
}

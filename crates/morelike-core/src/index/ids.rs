//! Product ids by row and rows by id, with no allocation per product: the
//! ids back to back in one arena ([`Texts`]) and a hash table of rows
//! looked up by the id they hold (about 25 bytes a product at 10,000
//! products, where a `Vec<String>` and a `HashMap<String, u32>` took 120).
//! A snapshot keeps the ids; the table is built again when read.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::catalog::strings::Texts;

/// Each row's product id (empty for a row without a product), and the row
/// of each id.
#[derive(Default)]
pub(crate) struct Ids {
    ids: Texts,
    /// The rows that hold a product, found by their id's hash.
    rows: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl Ids {
    /// How many rows hold a product.
    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    /// One past the highest row.
    pub(crate) fn row_count(&self) -> usize {
        self.ids.rows()
    }

    /// The product id of a row (empty for a row without one).
    pub(crate) fn id(&self, row: u32) -> &str {
        self.ids.get(row as usize)
    }

    /// The row of a product id.
    pub(crate) fn row(&self, id: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(id);
        self.rows
            .find(hash, |&r| self.ids.get(r as usize) == id)
            .copied()
    }

    /// Puts a product id at a row that holds none (rows past the end are
    /// added, empty). An id is never empty (imports refuse one): an empty
    /// id marks a row without a product.
    pub(crate) fn put(&mut self, row: u32, id: &str) {
        debug_assert!(!id.is_empty() && self.id(row).is_empty() && self.row(id).is_none());
        self.ids.set(row as usize, id);
        self.file(row);
    }

    /// Files a row under its id's hash.
    fn file(&mut self, row: u32) {
        let (ids, hasher) = (&self.ids, &self.hasher);
        let hash = hasher.hash_one(ids.get(row as usize));
        self.rows
            .insert_unique(hash, row, |&r| hasher.hash_one(ids.get(r as usize)));
    }

    /// Takes a product id out; answers the row it had.
    pub(crate) fn remove(&mut self, id: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(id);
        let ids = &self.ids;
        let (row, _) = self
            .rows
            .find_entry(hash, |&r| ids.get(r as usize) == id)
            .ok()?
            .remove();
        self.ids.set(row as usize, "");
        Some(row)
    }

    /// Moves every row's id to its new row: `order[new] = old`, and
    /// `new_of[old] = new`.
    pub(crate) fn permute(&mut self, order: &[u32], new_of: &[u32]) {
        self.ids.permute(order);
        self.rows
            .iter_mut()
            .for_each(|row| *row = new_of[*row as usize]);
    }

    /// Gives back spare capacity.
    pub(crate) fn shrink(&mut self) {
        self.ids.shrink();
        let (ids, hasher) = (&self.ids, &self.hasher);
        self.rows
            .shrink_to_fit(|&r| hasher.hash_one(ids.get(r as usize)));
    }

    /// Bytes held on the heap.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.ids.heap_bytes() + crate::heap::table(self.rows.capacity(), std::mem::size_of::<u32>())
    }
}

impl Serialize for Ids {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.ids.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Ids {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut ids = Ids {
            ids: Texts::deserialize(deserializer)?,
            ..Ids::default()
        };
        ids.rows.reserve(ids.row_count(), |_| 0);
        for row in 0..ids.row_count() as u32 {
            if !ids.id(row).is_empty() {
                ids.file(row);
            }
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_ids_find_each_other_through_removes_and_moves() {
        let mut ids = Ids::default();
        for (row, id) in ["a", "b", "c"].iter().enumerate() {
            ids.put(row as u32, id);
        }
        assert_eq!((ids.row("b"), ids.id(2), ids.len()), (Some(1), "c", 3));
        assert_eq!(ids.remove("b"), Some(1));
        assert_eq!((ids.row("b"), ids.id(1), ids.len()), (None, "", 2));
        assert_eq!(ids.remove("b"), None);
        ids.put(1, "d");
        ids.put(5, "e");
        assert_eq!((ids.row("e"), ids.row_count(), ids.id(4)), (Some(5), 6, ""));
        // order[new] = old
        let order = [5, 4, 3, 2, 1, 0];
        ids.permute(&order, &[5, 4, 3, 2, 1, 0]);
        assert_eq!(
            (ids.row("e"), ids.row("a"), ids.id(4)),
            (Some(0), Some(5), "d")
        );
        let bytes = postcard::to_stdvec(&ids).unwrap();
        let read: Ids = postcard::from_bytes(&bytes).unwrap();
        for id in ["a", "c", "d", "e"] {
            assert_eq!(read.row(id), ids.row(id), "{id}");
        }
        assert_eq!((read.len(), read.row("b")), (4, None));
    }
}

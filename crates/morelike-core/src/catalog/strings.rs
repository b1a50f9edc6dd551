//! Strings kept flat: one byte arena per column instead of one allocation
//! per value. [`Texts`] holds one string per row (names, images);
//! [`Interned`] holds each distinct value once and hands out codes
//! (attribute values, which repeat).

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

/// A span of an arena: start and length in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Span {
    start: u32,
    len: u32,
}

/// Bytes of many strings, back to back. Offsets are 32-bit: an arena holds
/// at most 4 GiB, far above a store's names. Kept as one `String`, so a
/// read is a slice (no UTF-8 check per read: every span was pushed whole
/// from a `&str`); a snapshot holds it byte for byte as it held a `Vec<u8>`.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Arena {
    bytes: String,
}

impl Arena {
    pub(crate) fn push(&mut self, s: &str) -> Span {
        let start = self.bytes.len() as u32;
        self.bytes.push_str(s);
        Span {
            start,
            len: s.len() as u32,
        }
    }

    pub(crate) fn get(&self, span: Span) -> &str {
        let (start, end) = (span.start as usize, (span.start + span.len) as usize);
        self.bytes.get(start..end).unwrap_or_default()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        crate::heap::block(self.bytes.capacity())
    }

    pub(crate) fn shrink(&mut self) {
        self.bytes.shrink_to_fit();
    }
}

/// One string per row; a replaced string leaves its old bytes behind until
/// the next rebuild (counted in [`Texts::garbage`]).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Texts {
    arena: Arena,
    spans: Vec<Span>,
    garbage: usize,
}

impl Texts {
    /// Sets row `row`'s string (rows past the end are added, empty).
    pub(crate) fn set(&mut self, row: usize, s: &str) {
        if row >= self.spans.len() {
            self.spans.resize(row + 1, Span::default());
        }
        let old = self.spans[row];
        if self.arena.get(old) == s {
            return;
        }
        self.garbage += old.len as usize;
        self.spans[row] = if s.is_empty() {
            Span::default()
        } else {
            self.arena.push(s)
        };
    }

    pub(crate) fn get(&self, row: usize) -> &str {
        self.spans.get(row).map_or("", |&span| self.arena.get(span))
    }

    /// One past the highest row.
    pub(crate) fn rows(&self) -> usize {
        self.spans.len()
    }

    /// Row `row`'s string's length in bytes (0 past the end).
    pub(crate) fn len_of(&self, row: usize) -> usize {
        self.spans.get(row).map_or(0, |span| span.len as usize)
    }

    pub(crate) fn garbage(&self) -> usize {
        self.garbage
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.arena.heap_bytes() + crate::heap::vec(&self.spans)
    }

    pub(crate) fn shrink(&mut self) {
        self.arena.shrink();
        self.spans.shrink_to_fit();
    }

    /// Moves every row's string to its new row: `order[new] = old`.
    pub(crate) fn permute(&mut self, order: &[u32]) {
        let spans = order
            .iter()
            .map(|&old| self.spans.get(old as usize).copied().unwrap_or_default())
            .collect();
        self.spans = spans;
    }
}

/// Distinct strings, each with a code (its position); looked up by value
/// through a hash table of codes, so each string is stored once.
#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(into = "InternedParts", from = "InternedParts")]
pub(crate) struct Interned {
    arena: Arena,
    spans: Vec<Span>,
    table: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl std::fmt::Debug for Interned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interned")
            .field("values", &self.spans.len())
            .finish()
    }
}

/// What a snapshot keeps of [`Interned`]: the strings; the hash table is
/// built again when read.
#[derive(serde::Serialize, serde::Deserialize)]
struct InternedParts {
    arena: Arena,
    spans: Vec<Span>,
}

impl From<Interned> for InternedParts {
    fn from(interned: Interned) -> Self {
        InternedParts {
            arena: interned.arena,
            spans: interned.spans,
        }
    }
}

impl From<InternedParts> for Interned {
    fn from(parts: InternedParts) -> Self {
        let mut interned = Interned {
            arena: parts.arena,
            spans: parts.spans,
            ..Interned::default()
        };
        let (arena, spans, hasher) = (&interned.arena, &interned.spans, &interned.hasher);
        for code in 0..spans.len() as u32 {
            let hash = hasher.hash_one(arena.get(spans[code as usize]));
            interned.table.insert_unique(hash, code, |&c| {
                hasher.hash_one(arena.get(spans[c as usize]))
            });
        }
        interned
    }
}

impl Interned {
    /// The code of a value, adding it when new.
    pub(crate) fn code_or_insert(&mut self, value: &str) -> u32 {
        let hash = self.hasher.hash_one(value);
        let (arena, spans) = (&self.arena, &self.spans);
        if let Some(&code) = self
            .table
            .find(hash, |&c| arena.get(spans[c as usize]) == value)
        {
            return code;
        }
        let code = self.spans.len() as u32;
        self.spans.push(self.arena.push(value));
        let (arena, spans, hasher) = (&self.arena, &self.spans, &self.hasher);
        self.table.insert_unique(hash, code, |&c| {
            hasher.hash_one(arena.get(spans[c as usize]))
        });
        code
    }

    /// The value of a code.
    pub(crate) fn get(&self, code: u32) -> &str {
        self.spans
            .get(code as usize)
            .map_or("", |&span| self.arena.get(span))
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.arena.heap_bytes()
            + crate::heap::vec(&self.spans)
            + crate::heap::table(self.table.capacity(), std::mem::size_of::<u32>())
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.arena.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_arena_is_written_to_a_snapshot_as_the_bytes_it_was_before() {
        // Snapshots of earlier builds held the arena as a `Vec<u8>`.
        let mut arena = Arena::default();
        for s in ["Blue Shirt", "", "Ünïcode ✓", "x"] {
            arena.push(s);
        }
        let before = postcard::to_allocvec(&arena.bytes.as_bytes().to_vec()).unwrap();
        assert_eq!(postcard::to_allocvec(&arena).unwrap(), before);
        let back: Arena = postcard::from_bytes(&before).unwrap();
        assert_eq!(back.bytes, arena.bytes);
        let broken = postcard::to_allocvec(&vec![0xffu8, 0xfe]).unwrap();
        assert!(postcard::from_bytes::<Arena>(&broken).is_err(), "not UTF-8");
    }

    #[test]
    fn interned_values_get_one_code_each_and_read_back() {
        let mut values = Interned::default();
        let red = values.code_or_insert("Red");
        let blue = values.code_or_insert("Blue");
        assert_eq!(values.code_or_insert("Red"), red);
        assert_ne!(red, blue);
        assert_eq!((values.get(red), values.get(blue)), ("Red", "Blue"));
        assert_eq!(values.len(), 2);
        assert_eq!(values.bytes(), 7, "each value stored once");
    }

    #[test]
    fn a_replaced_text_reads_new_and_counts_the_old_as_garbage() {
        let mut texts = Texts::default();
        texts.set(2, "Blue Shirt");
        assert_eq!((texts.get(0), texts.get(2)), ("", "Blue Shirt"));
        texts.set(2, "Red Shirt");
        assert_eq!(texts.get(2), "Red Shirt");
        assert_eq!(texts.garbage(), 10);
        texts.set(2, "Red Shirt");
        assert_eq!(texts.garbage(), 10, "an equal string is not written again");
    }
}

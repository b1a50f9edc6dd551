//! Product ids in order, kept in one buffer: a session's shown products
//! (hundreds of ids after a few pages) are copied on every session change,
//! and a copy costs two allocations instead of one per id. Serialized as a
//! plain list of strings, so what storage holds does not change.

use std::fmt;

use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A list of product ids, in order.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct IdList {
    /// Every id, back to back.
    text: String,
    /// Where each id ends in `text`.
    ends: Vec<u32>,
}

impl IdList {
    /// An empty list.
    pub fn new() -> Self {
        IdList::default()
    }

    /// How many ids.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The id at `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(&self.text[start..end])
    }

    /// Adds an id at the end.
    pub fn push(&mut self, id: &str) {
        self.text.push_str(id);
        let end = u32::try_from(self.text.len()).expect("an id list holds under 4 GiB");
        self.ends.push(end);
    }

    /// Keeps the first `len` ids.
    pub fn truncate(&mut self, len: usize) {
        if len < self.ends.len() {
            let end = if len == 0 { 0 } else { self.ends[len - 1] };
            self.ends.truncate(len);
            self.text.truncate(end as usize);
        }
    }

    /// Whether `id` is in the list.
    pub fn contains(&self, id: &str) -> bool {
        self.iter().any(|x| x == id)
    }

    /// The ids, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + DoubleEndedIterator + '_ {
        (0..self.ends.len()).map(|i| self.get(i).unwrap_or_default())
    }
}

impl std::ops::Index<usize> for IdList {
    type Output = str;

    fn index(&self, i: usize) -> &str {
        match self.get(i) {
            Some(id) => id,
            None => panic!("id {i} of a list of {}", self.len()),
        }
    }
}

impl fmt::Debug for IdList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<S: AsRef<str>> Extend<S> for IdList {
    fn extend<I: IntoIterator<Item = S>>(&mut self, ids: I) {
        for id in ids {
            self.push(id.as_ref());
        }
    }
}

impl<S: AsRef<str>> FromIterator<S> for IdList {
    fn from_iter<I: IntoIterator<Item = S>>(ids: I) -> Self {
        let mut list = IdList::new();
        list.extend(ids);
        list
    }
}

impl Serialize for IdList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for IdList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(Ids)
    }
}

/// Reads a list of strings straight into an [`IdList`].
struct Ids;

impl<'de> Visitor<'de> for Ids {
    type Value = IdList;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of product ids")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<IdList, A::Error> {
        let mut list = IdList::new();
        while seq.next_element_seed(Push(&mut list))?.is_some() {}
        Ok(list)
    }
}

/// Reads one string onto the end of a list.
struct Push<'a>(&'a mut IdList);

impl<'de> DeserializeSeed<'de> for Push<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Push<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a product id")
    }

    fn visit_str<E: serde::de::Error>(self, id: &str) -> Result<(), E> {
        self.0.push(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_back_in_order_and_truncate_keeps_the_first() {
        let mut ids: IdList = ["15970", "", "é-7"].into_iter().collect();
        ids.push("42");
        assert_eq!(ids.iter().collect::<Vec<_>>(), ["15970", "", "é-7", "42"]);
        assert_eq!((ids.len(), &ids[2], ids.get(4)), (4, "é-7", None));
        assert!(ids.contains("") && !ids.contains("4"));
        ids.truncate(1);
        assert_eq!(ids, ["15970"].into_iter().collect());
        ids.truncate(0);
        assert!(ids.is_empty());
    }

    #[test]
    fn a_list_is_stored_as_a_plain_list_of_strings() {
        let ids: IdList = ["a", "b\"c", "ü"].into_iter().collect();
        let json = serde_json::to_string(&ids).unwrap();
        assert_eq!(json, serde_json::to_string(&["a", "b\"c", "ü"]).unwrap());
        assert_eq!(serde_json::from_str::<IdList>(&json).unwrap(), ids);
        assert!(serde_json::from_str::<IdList>("[1]").is_err());
        assert_eq!(format!("{ids:?}"), r#"["a", "b\"c", "ü"]"#);
    }
}

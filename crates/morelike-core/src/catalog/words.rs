//! The name words behind the search box: every word of every product name
//! with the rows whose name holds it, in word order, so a query word finds
//! every word it begins in one range and a search costs what it finds, not
//! the size of the store. A word is a run of letters and digits of the name
//! lowercased (Unicode-aware); everything else separates words.

use std::collections::BTreeMap;
use std::ops::Bound;

use hashbrown::HashMap;
use serde::{Deserialize, Serialize};

/// A query word found in more name words than this is checked against the
/// candidates' names rather than through its rows.
const MANY_WORDS: usize = 8;

/// The words of a text, lowercased, as they appear (repeats included).
pub fn words_of(lowered: &str) -> impl Iterator<Item = &str> {
    lowered
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// The distinct words of a name, lowercased, sorted.
fn distinct_words(name: &str) -> Vec<String> {
    let lowered = name.to_lowercase();
    let mut words: Vec<String> = words_of(&lowered).map(str::to_owned).collect();
    words.sort_unstable();
    words.dedup();
    words
}

/// Whether some word of `lowered` starts with `prefix`.
fn has_word_starting(lowered: &str, prefix: &str) -> bool {
    words_of(lowered).any(|w| w.starts_with(prefix))
}

/// Each name word with the rows (ascending) whose name holds it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Words {
    rows: BTreeMap<Box<str>, Vec<u32>>,
}

impl Words {
    /// The words of `names` (row, name), rows given in ascending order.
    pub fn build<'a>(names: impl IntoIterator<Item = (u32, &'a str)>) -> Self {
        let mut rows: HashMap<Box<str>, Vec<u32>> = HashMap::new();
        for (row, name) in names {
            let lowered = name.to_lowercase();
            let mut seen: Vec<&str> = words_of(&lowered).collect();
            seen.sort_unstable();
            seen.dedup();
            for &word in &seen {
                match rows.get_mut(word) {
                    Some(list) => list.push(row),
                    None => {
                        rows.insert(word.into(), vec![row]);
                    }
                }
            }
        }
        let rows = rows
            .into_iter()
            .map(|(word, mut list)| {
                list.shrink_to_fit();
                (word, list)
            })
            .collect();
        Words { rows }
    }

    /// Adds a row's name.
    pub fn add(&mut self, row: u32, name: &str) {
        for word in distinct_words(name) {
            let list = self.rows.entry(word.into_boxed_str()).or_default();
            if let Err(at) = list.binary_search(&row) {
                list.insert(at, row);
            }
        }
    }

    /// Removes a row's name (the name it was added with).
    pub fn remove(&mut self, row: u32, name: &str) {
        for word in distinct_words(name) {
            if let Some(list) = self.rows.get_mut(word.as_str()) {
                if let Ok(at) = list.binary_search(&row) {
                    list.remove(at);
                }
                if list.is_empty() {
                    self.rows.remove(word.as_str());
                }
            }
        }
    }

    /// Bytes held on the heap: the words, their row lists and the tree's
    /// entries (estimated at one entry's size plus a half for the nodes).
    pub fn heap_bytes(&self) -> usize {
        let entry = std::mem::size_of::<(Box<str>, Vec<u32>)>();
        self.rows
            .iter()
            .map(|(w, rows)| w.len() + rows.capacity() * 4 + entry * 3 / 2)
            .sum()
    }

    /// The name words that start with `prefix`, with their rows.
    fn starting<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a [u32])> {
        self.rows
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(move |(w, _)| w.starts_with(prefix))
            .map(|(w, rows)| (&**w, rows.as_slice()))
    }

    /// The rows (ascending) whose name has, for every word of `query`, a
    /// word starting with it; none when the query has no word. `name`
    /// gives a row's name.
    pub fn matching<'n>(&self, query: &str, name: impl Fn(u32) -> &'n str) -> Vec<u32> {
        let lowered = query.to_lowercase();
        let mut asked: Vec<&str> = words_of(&lowered).collect();
        asked.sort_unstable();
        asked.dedup();
        // A word that begins the next one (sorted) is implied by it; what is
        // left are words none of which begins another, so their ranges of
        // name words are disjoint and counting them all costs at most one
        // pass over the words.
        let asked: Vec<&str> = (0..asked.len())
            .filter(|&i| {
                asked
                    .get(i + 1)
                    .is_none_or(|next| !next.starts_with(asked[i]))
            })
            .map(|i| asked[i])
            .collect();
        if asked.is_empty() {
            return Vec::new();
        }
        // Per query word: how many rows its name words hold (an upper bound
        // of its matches); the rarest word gives the candidates.
        let mut sized: Vec<(usize, &str)> = asked
            .iter()
            .map(|&w| (self.starting(w).map(|(_, rows)| rows.len()).sum(), w))
            .collect();
        sized.sort_unstable();
        if sized[0].0 == 0 {
            return Vec::new();
        }
        let mut found: Vec<u32> = Vec::with_capacity(sized[0].0);
        for (_, rows) in self.starting(sized[0].1) {
            found.extend_from_slice(rows);
        }
        found.sort_unstable();
        found.dedup();
        for &(_, word) in &sized[1..] {
            let lists: Vec<&[u32]> = self.starting(word).map(|(_, rows)| rows).collect();
            if lists.len() <= MANY_WORDS {
                found.retain(|row| lists.iter().any(|l| l.binary_search(row).is_ok()));
            } else {
                found.retain(|&row| has_word_starting(&name(row).to_lowercase(), word));
            }
            if found.is_empty() {
                break;
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<&'static str> {
        vec![
            "Navy Blue T-Shirt",
            "Blue Jeans",
            "Shirt",
            "ÉCOLE Sac à dos",
            "Blue blue BLUE",
            "Tshirt navy",
        ]
    }

    fn words() -> Words {
        Words::build(names().into_iter().enumerate().map(|(r, n)| (r as u32, n)))
    }

    fn matching(words: &Words, query: &str) -> Vec<u32> {
        let names = names();
        words.matching(query, |row| names[row as usize])
    }

    #[test]
    fn every_query_word_must_begin_a_word_of_the_name() {
        let w = words();
        assert_eq!(matching(&w, "blue"), vec![0, 1, 4]);
        assert_eq!(matching(&w, "BL sh"), vec![0]);
        assert_eq!(matching(&w, "shirt"), vec![0, 2]);
        assert_eq!(matching(&w, "t-shirt"), vec![0]);
        assert_eq!(matching(&w, "irt"), Vec::<u32>::new());
        assert_eq!(matching(&w, "tshirt"), vec![5]);
        assert_eq!(matching(&w, "école à"), vec![3]);
        assert_eq!(matching(&w, "ecole"), Vec::<u32>::new());
        assert_eq!(matching(&w, "!!! ..."), Vec::<u32>::new());
        assert_eq!(matching(&w, ""), Vec::<u32>::new());
    }

    #[test]
    fn a_word_repeated_in_a_name_is_kept_once() {
        let w = words();
        assert_eq!(w.rows["blue"], vec![0, 1, 4]);
    }

    #[test]
    fn adding_and_removing_keeps_the_rows_sorted_and_drops_empty_words() {
        let mut w = words();
        w.remove(3, "ÉCOLE Sac à dos");
        assert!(!w.rows.contains_key("école"));
        w.add(3, "Blue Sac");
        assert_eq!(w.rows["blue"], vec![0, 1, 3, 4]);
        w.remove(0, "Navy Blue T-Shirt");
        assert_eq!(w.rows["blue"], vec![1, 3, 4]);
        assert_eq!(w.rows["navy"], vec![5]);
    }
}

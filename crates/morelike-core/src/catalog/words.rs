//! The name words behind the search box: every word of every product name
//! with the rows whose name holds it, in word order, so a query word finds
//! every word it begins in one range and a search costs what it finds, not
//! the size of the store. A word is a run of letters and digits of the name
//! lowercased (Unicode-aware); everything else separates words.

use std::collections::BTreeMap;
use std::ops::Bound;

use hashbrown::HashMap;
use serde::{Deserialize, Serialize};

/// Rough costs, in steps, of checking one candidate row against a query
/// word: per row list searched (a binary search), or by reading its name.
const SEARCH_STEPS: usize = 20;
const NAME_STEPS: usize = 100;

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
            .map(|(w, rows)| crate::heap::string(w) + crate::heap::vec(rows) + entry * 3 / 2)
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
        let lists: Vec<&[u32]> = self.starting(sized[0].1).map(|(_, rows)| rows).collect();
        let mut found = union(&lists, sized[0].0);
        // Each other word keeps the candidates it matches, checked the
        // cheapest way: binary searches in its row lists, a bitmap of its
        // rows (a broad word), or the candidates' names (few candidates).
        for &(total, word) in &sized[1..] {
            let lists: Vec<&[u32]> = self.starting(word).map(|(_, rows)| rows).collect();
            let end = lists
                .iter()
                .filter_map(|l| l.last())
                .max()
                .map_or(0, |&r| r + 1);
            let by_search = found.len() * lists.len() * SEARCH_STEPS;
            let by_bitmap = total + end as usize / 64 + found.len();
            let by_name = found.len() * NAME_STEPS;
            if by_search <= by_bitmap && by_search <= by_name {
                found.retain(|row| lists.iter().any(|l| l.binary_search(row).is_ok()));
            } else if by_bitmap <= by_name {
                let bits = bitmap(&lists, end);
                found.retain(|&row| {
                    // Rows past this word's last are not in it.
                    bits.get(row as usize / 64)
                        .is_some_and(|w| w & (1 << (row % 64)) != 0)
                });
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

/// The rows of lists as a bitmap of rows `0..end`.
fn bitmap(lists: &[&[u32]], end: u32) -> Vec<u64> {
    let mut bits = vec![0u64; (end as usize).div_ceil(64)];
    for &row in lists.iter().copied().flatten() {
        bits[row as usize / 64] |= 1 << (row % 64);
    }
    bits
}

/// The rows of several ascending lists holding `total` rows in all, once
/// each, ascending: through a bitmap of the rows when they are many for
/// its size (a broad prefix), else sorted.
fn union(lists: &[&[u32]], total: usize) -> Vec<u32> {
    if let [only] = lists {
        return only.to_vec();
    }
    let end = lists
        .iter()
        .filter_map(|l| l.last())
        .max()
        .map_or(0, |&row| row as usize + 1);
    if total * 32 < end {
        let mut found: Vec<u32> = lists.concat();
        found.sort_unstable();
        found.dedup();
        return found;
    }
    let bits = bitmap(lists, end as u32);
    let mut found = Vec::with_capacity(total);
    for (at, &word) in bits.iter().enumerate() {
        let mut word = word;
        while word != 0 {
            found.push((at * 64) as u32 + word.trailing_zeros());
            word &= word - 1;
        }
    }
    found
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
    fn a_union_is_the_same_sorted_or_through_the_bitmap() {
        let a: Vec<u32> = (0..1000).step_by(3).collect();
        let b: Vec<u32> = (0..1000).step_by(5).collect();
        let c = vec![2, 999, 4000];
        let mut expected: Vec<u32> = [&a[..], &b, &c].concat();
        expected.sort_unstable();
        expected.dedup();
        let lists = [&a[..], &b, &c];
        // Many rows for the span: the bitmap; few: sorted.
        assert_eq!(union(&lists, a.len() + b.len() + c.len()), expected);
        assert_eq!(union(&[&[4000], &[7, 3999]], 3), vec![7, 3999, 4000]);
        assert_eq!(union(&[&c[..]], 3), c);
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

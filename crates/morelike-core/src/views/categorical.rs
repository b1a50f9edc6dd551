//! Category dictionaries: each distinct value of a field gets a small code.

use std::collections::HashMap;

/// The values of one categorical field, each with a code.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Dictionary {
    codes: HashMap<String, u32>,
    labels: Vec<String>,
}

impl Dictionary {
    /// Codes the values in order of frequency (ties by value), so codes do not
    /// depend on row order.
    pub fn fit(values: impl Iterator<Item = impl AsRef<str>>) -> Self {
        let mut counts = Counts::default();
        for v in values {
            counts.add(v.as_ref());
        }
        counts.into_dictionary()
    }

    /// The code of a value, adding it when new.
    pub fn code_or_insert(&mut self, value: &str) -> u32 {
        if let Some(&code) = self.codes.get(value) {
            return code;
        }
        let code = self.labels.len() as u32;
        self.labels.push(value.to_owned());
        self.codes.insert(value.to_owned(), code);
        code
    }

    /// The code of a known value.
    pub fn code(&self, value: &str) -> Option<u32> {
        self.codes.get(value).copied()
    }

    /// The value of a code.
    pub fn label(&self, code: u32) -> Option<&str> {
        self.labels.get(code as usize).map(String::as_str)
    }

    /// How many values the field has.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether no value was seen.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Bytes held on the heap: the table of codes and the labels, each
    /// value's string twice (a key and a label).
    pub fn heap_bytes(&self) -> usize {
        let strings: usize = self.labels.iter().map(|l| crate::heap::string(l)).sum();
        crate::heap::map(&self.codes) + crate::heap::vec(&self.labels) + 2 * strings
    }
}

/// How often each value of a field occurs, counted before coding them.
#[derive(Default)]
pub(crate) struct Counts(HashMap<String, usize>);

impl Counts {
    /// Counts one occurrence of a value.
    pub(crate) fn add(&mut self, value: &str) {
        match self.0.get_mut(value) {
            Some(n) => *n += 1,
            None => {
                self.0.insert(value.to_owned(), 1);
            }
        }
    }

    /// The dictionary: values in order of frequency (ties by value).
    pub(crate) fn into_dictionary(self) -> Dictionary {
        let mut ordered: Vec<(String, usize)> = self.0.into_iter().collect();
        ordered.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut dict = Dictionary::default();
        for (value, _) in ordered {
            dict.code_or_insert(&value);
        }
        dict
    }
}

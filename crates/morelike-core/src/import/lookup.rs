//! Side tables that turn a code into a label (`aisle_id` 61 → "cookies cakes").

use std::collections::HashMap;
use std::io::Read;

use super::ImportError;
use crate::mapping::LookupSpec;

/// A resolved side table: code → label; or, for a file already joined
/// (an HTTP upload, where the server has no side tables), the promise that
/// each row carries the label in the lookup's `into` column itself.
#[derive(Clone, Debug, Default)]
pub struct Lookup {
    labels: HashMap<String, String>,
    in_file: bool,
}

impl Lookup {
    /// Reads a side table from CSV with a header, using the spec's key and value columns.
    pub fn from_csv(spec: &LookupSpec, input: impl Read) -> Result<Lookup, ImportError> {
        let fail = |reason: String| ImportError::Lookup {
            field: spec.field.clone(),
            reason,
        };
        let mut reader = ::csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(input);
        let header = reader.headers().map_err(|e| fail(e.to_string()))?.clone();
        let column = |name: &str| {
            header.iter().position(|h| h.trim() == name).ok_or_else(|| {
                fail(format!(
                    "{} has no column '{name}' (it has: {})",
                    spec.file,
                    header.iter().collect::<Vec<_>>().join(", ")
                ))
            })
        };
        let (key, value) = (column(&spec.key)?, column(&spec.value)?);
        let mut labels = HashMap::new();
        for record in reader.records() {
            let record = record.map_err(|e| fail(e.to_string()))?;
            if let (Some(k), Some(v)) = (record.get(key), record.get(value)) {
                labels.insert(k.trim().to_owned(), v.trim().to_owned());
            }
        }
        Ok(Lookup {
            labels,
            in_file: false,
        })
    }

    /// No table: the file carries the joined column (the lookup's `into`)
    /// itself, which is read as it is; the code column is kept when the
    /// file has it, and may be left out.
    pub fn joined_in_file() -> Lookup {
        Lookup {
            labels: HashMap::new(),
            in_file: true,
        }
    }

    /// Whether the file carries the joined column itself
    /// ([`Lookup::joined_in_file`]).
    pub fn is_joined_in_file(&self) -> bool {
        self.in_file
    }

    /// A table from pairs.
    pub fn from_pairs<'s>(pairs: impl IntoIterator<Item = (&'s str, &'s str)>) -> Lookup {
        Lookup {
            labels: pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            in_file: false,
        }
    }

    /// The label for a code.
    pub fn label(&self, code: &str) -> Option<&str> {
        self.labels.get(code).map(String::as_str)
    }

    /// How many codes the table knows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

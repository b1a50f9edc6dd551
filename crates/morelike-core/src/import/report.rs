//! The per-row account of an import: what was imported, repaired, rejected.

use serde::{Deserialize, Serialize};

/// One thing wrong with one row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RowIssue {
    /// The line the row starts on (CSV, JSON Lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The row's position in a JSON array (1-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<u64>,
    /// The field at fault, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What is wrong and what to do about it.
    pub reason: String,
}

impl std::fmt::Display for RowIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.item) {
            (Some(line), _) => write!(f, "line {line}")?,
            (None, Some(item)) => write!(f, "item {item}")?,
            (None, None) => write!(f, "input")?,
        }
        if let Some(field) = &self.field {
            write!(f, ", field '{field}'")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// How many issues a report keeps in full; the counts stay exact.
pub const MAX_LISTED: usize = 1000;

/// The account of one import.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Rows read (imported + rejected).
    pub rows: u64,
    /// Rows that became products (repaired ones included).
    pub imported: u64,
    /// Rows that were broken but could be mended (also counted as imported).
    pub repaired: u64,
    /// Rows that were skipped.
    pub rejected: u64,
    /// Why rows were rejected (the first `MAX_LISTED`, 1000).
    pub errors: Vec<RowIssue>,
    /// What was mended or is worth a look (the first `MAX_LISTED`, 1000).
    pub warnings: Vec<RowIssue>,
}

impl ImportReport {
    pub(crate) fn reject(&mut self, issue: RowIssue) {
        self.rows += 1;
        self.rejected += 1;
        if self.errors.len() < MAX_LISTED {
            self.errors.push(issue);
        }
    }

    pub(crate) fn accept(&mut self, repaired: bool) {
        self.rows += 1;
        self.imported += 1;
        if repaired {
            self.repaired += 1;
        }
    }

    pub(crate) fn warn(&mut self, issue: RowIssue) {
        if self.warnings.len() < MAX_LISTED {
            self.warnings.push(issue);
        }
    }
}

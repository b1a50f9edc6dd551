//! Catalog import: CSV (with the column mapping), JSON Lines and JSON arrays
//! become [`Product`]s, with a per-row report. Bad rows are reported and
//! skipped; good rows are kept.

mod csv;
mod json;
mod lines;
mod lookup;
mod quotes;
mod record;
mod report;

use std::io::Read;

pub use lookup::Lookup;
pub(crate) use record::is_web_url;
pub use report::{ImportReport, RowIssue};

use crate::mapping::{Format, Mapping};
use crate::product::Product;
use record::RowBuilder;

/// An import that cannot start at all (the rows are not the problem).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The mapping names columns the file does not have.
    #[error("{}", missing_columns(columns, header))]
    MissingColumns {
        /// Every column missing, by name.
        columns: Vec<String>,
        /// The header as found.
        header: String,
    },
    /// The CSV file has no header row (it is empty, or blank lines only).
    #[error("the file is empty: a CSV catalog starts with a header row naming its columns")]
    Empty,
    /// The mapping joins lookup tables the importer does not have (an
    /// HTTP upload), and the file lacks the joined columns.
    #[error("this store's mapping joins lookup tables, which the server does not have: the file must carry the joined column(s) '{columns}' itself (join them in first), or import it with `morelike import` and the mapping file; the file's header has: {header}")]
    NotJoined {
        /// The joined columns missing, quoted and comma-separated.
        columns: String,
        /// The header as found.
        header: String,
    },
    /// The CSV header row cannot be read.
    #[error("cannot read the CSV header: {0}")]
    Header(String),
    /// A JSON array body that is not an array, or breaks off.
    #[error("{0}")]
    Json(String),
    /// A lookup table names a missing column.
    #[error("lookup table for '{field}': {reason}")]
    Lookup {
        /// The field.
        field: String,
        /// What is wrong.
        reason: String,
    },
}

fn missing_columns(columns: &[String], header: &str) -> String {
    let list = columns
        .iter()
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let (n, them) = match columns.len() {
        1 => ("column".to_owned(), "it"),
        n => (format!("{n} columns"), "them"),
    };
    format!(
        "the mapping reads {n} the file does not have: {list} (the file's header has: {header}); \
         add {them} to the file, or take {them} out of the mapping"
    )
}

/// The largest value each field may hold; a row over any of them is
/// rejected with the field and the limit named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldLimits {
    /// The product id, in bytes.
    pub id_bytes: usize,
    /// The name, in bytes.
    pub name_bytes: usize,
    /// Any other text or categorical value, in bytes.
    pub text_bytes: usize,
    /// The image URL, in bytes.
    pub image_url_bytes: usize,
    /// Numbers in a merchant vector.
    pub vector_dim: usize,
}

impl Default for FieldLimits {
    fn default() -> Self {
        FieldLimits {
            id_bytes: 256,
            name_bytes: 1_024,
            text_bytes: 16 * 1024,
            image_url_bytes: 2_048,
            vector_dim: crate::mapping::MAX_DIM,
        }
    }
}

/// Reads catalog rows into products, checking each against the mapping.
pub struct Importer<'a> {
    rows: RowBuilder<'a>,
}

impl<'a> Importer<'a> {
    /// An importer for a mapping and its resolved lookup tables (one per
    /// `[[lookups]]` entry, in order), with the default [`FieldLimits`].
    pub fn new(mapping: &'a Mapping, lookups: &'a [Lookup]) -> Self {
        Importer {
            rows: RowBuilder::new(mapping, lookups, FieldLimits::default()),
        }
    }

    /// The same importer with other field limits.
    pub fn with_limits(mut self, limits: FieldLimits) -> Self {
        self.rows.set_limits(limits);
        self
    }

    /// Reads every row of `input`, handing each good product to `accept`.
    /// The report accounts for every input row.
    pub fn read(
        &mut self,
        format: Format,
        input: impl Read,
        mut accept: impl FnMut(Product),
    ) -> Result<ImportReport, ImportError> {
        self.read_reusing(format, input, |product| {
            accept(product);
            None
        })
    }

    /// [`Importer::read`], where `accept` may hand back a product it has
    /// done with, to be written over by a later row (the same products as
    /// new ones, without their allocations: what a long import streams).
    pub fn read_reusing(
        &mut self,
        format: Format,
        input: impl Read,
        accept: impl FnMut(Product) -> Option<Product>,
    ) -> Result<ImportReport, ImportError> {
        let mut report = ImportReport::default();
        match format {
            Format::Csv => csv::read(&mut self.rows, input, &mut report, accept)?,
            Format::Jsonl => json::read_lines(&mut self.rows, input, &mut report, accept),
            Format::Json => json::read_array(&mut self.rows, input, &mut report, accept)?,
        }
        Ok(report)
    }

    /// Reads everything into a vector (for tests and small files).
    pub fn read_all(
        &mut self,
        format: Format,
        input: impl Read,
    ) -> Result<(Vec<Product>, ImportReport), ImportError> {
        let mut products = Vec::new();
        let report = self.read(format, input, |p| products.push(p))?;
        Ok((products, report))
    }
}

//! CSV rows: a header, one product per record, and the one repair we make —
//! unquoted commas in the last, free-text column. A quote left open that
//! swallowed rows is reported, and the rows it swallowed are read again.

use std::borrow::Cow;
use std::cell::RefCell;
use std::io::Read;
use std::rc::Rc;

use super::lines::{Lines, Tap};
use super::quotes::{ranges, swallowed, Swallowed};
use super::record::{At, Raw, RowBuilder};
use super::{ImportError, ImportReport, RowIssue};
use crate::product::Product;

/// How deep rows swallowed inside rows that were swallowed are read again;
/// past it they are reported as not imported.
const MAX_REREAD: usize = 4;

pub(super) fn read(
    rows: &mut RowBuilder<'_>,
    input: impl Read,
    report: &mut ImportReport,
    accept: impl FnMut(Product) -> Option<Product>,
) -> Result<(), ImportError> {
    let (lines, tap) = Lines::new(input, 1);
    let mut reader = reader(true, lines);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| ImportError::Header(e.to_string()))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
        .collect();
    if header.is_empty() {
        return Err(ImportError::Empty);
    }
    // (hashbrown's foldhash: looked up for every field of every row.)
    let columns: hashbrown::HashMap<&str, usize> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.as_str(), i))
        .collect();
    // Lookups joined before the upload: their labels' columns must be
    // there, their codes' columns may be left out.
    let joined = rows.joined_in_file();
    let unjoined: Vec<&str> = joined
        .iter()
        .map(|&(into, _)| into)
        .filter(|into| !columns.contains_key(into))
        .collect();
    if !unjoined.is_empty() {
        return Err(ImportError::NotJoined {
            columns: unjoined.join("', '"),
            header: header.join(", "),
        });
    }
    let missing: Vec<String> = rows
        .mapping()
        .input_fields()
        .into_iter()
        .filter(|field| {
            !columns.contains_key(field) && !joined.iter().any(|&(_, code)| code == *field)
        })
        .map(str::to_owned)
        .collect();
    if !missing.is_empty() {
        return Err(ImportError::MissingColumns {
            columns: missing,
            header: header.join(", "),
        });
    }
    let last_is_free_text = last_column_is_free_text(rows, &header);
    let mut records = Records {
        width: header.len(),
        header: &header,
        columns,
        last_is_free_text,
        rows,
        report,
        accept,
        warnings: Vec::new(),
        record: ::csv::StringRecord::new(),
    };
    records.read(&mut reader, &tap, 0);
    Ok(())
}

fn reader<R: Read>(has_headers: bool, lines: Lines<R>) -> ::csv::Reader<Lines<R>> {
    ::csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(has_headers)
        .from_reader(lines)
}

/// The rows of one CSV input (the file, or lines of it read again), turned
/// into products.
struct Records<'h, 'r, 'm, F> {
    header: &'h [String],
    columns: hashbrown::HashMap<&'h str, usize>,
    width: usize,
    last_is_free_text: bool,
    rows: &'r mut RowBuilder<'m>,
    report: &'r mut ImportReport,
    accept: F,
    warnings: Vec<RowIssue>,
    record: ::csv::StringRecord,
}

impl<F: FnMut(Product) -> Option<Product>> Records<'_, '_, '_, F> {
    /// Reads every row of `reader`; rows inside one that swallowed them are
    /// read again (`depth`: how many times over).
    fn read<R: Read>(
        &mut self,
        reader: &mut ::csv::Reader<Lines<R>>,
        tap: &Rc<RefCell<Tap>>,
        depth: usize,
    ) {
        loop {
            let from = reader.position().byte();
            let line = {
                let mut tap = tap.borrow_mut();
                tap.pass(from);
                tap.line_at(from)
            };
            match reader.read_record(&mut self.record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let line = e
                        .position()
                        .map_or(line, |p| tap.borrow_mut().line_at(p.byte()));
                    self.report
                        .reject(At::Line(line).issue(None, format!("unreadable CSV: {e}")));
                    continue;
                }
            }
            let start = self.record.position().map_or(from, |p| p.byte());
            let line = tap.borrow_mut().line_at(start);
            if self.record.as_slice().contains('\n') {
                let tapped = tap.borrow();
                let raw = tapped.bytes(start, reader.position().byte());
                if let Some(s) = swallowed(&self.record, raw, line, self.width) {
                    let rest = raw[s.rest..].to_vec();
                    drop(tapped);
                    self.swallowed(s, rest, depth);
                    continue;
                }
            }
            self.row(At::Line(line));
        }
    }

    /// Rejects a row whose quote swallowed rows, and reads the lines after
    /// the one it opened on again, as rows.
    fn swallowed(&mut self, s: Swallowed, rest: Vec<u8>, depth: usize) {
        let field = self
            .header
            .get(s.field)
            .or(self.header.last())
            .map(String::as_str);
        let reread = depth < MAX_REREAD;
        let lines = ranges(&s.rows);
        let over = if s.rows.len() == 1 {
            format!("line {lines}, which reads as a row of its own")
        } else {
            format!("lines {lines}, which read as rows of their own")
        };
        let after = if reread {
            format!(
                "this row was not imported, and the lines after line {} were read again as rows",
                s.opened
            )
        } else {
            format!("this row and lines {lines} were not imported")
        };
        self.report.reject(At::Line(s.opened).issue(
            field,
            format!(
                "a quote opened on line {} is never closed: the field runs on over {over}; {after}. \
                 Close the quote, or write a quote inside a field as \"\"",
                s.opened
            ),
        ));
        if reread {
            let (lines, tap) = Lines::new(&rest[..], s.opened + 1);
            self.read(&mut reader(false, lines), &tap, depth + 1);
        }
    }

    /// The record just read, as a product (or rejected, with why).
    fn row(&mut self, at: At) {
        let width = self.width;
        let found = self.record.len();
        if found < width {
            self.report.reject(at.issue(
                None,
                format!("expected {width} fields, found {found}; quote values that contain commas"),
            ));
            return;
        }
        let repaired = found > width;
        let header = self.header;
        let joined = if repaired {
            if !self.last_is_free_text {
                self.report.reject(at.issue(
                    None,
                    format!(
                        "expected {width} fields, found {found}; quote values that contain commas"
                    ),
                ));
                return;
            }
            self.report.warn(at.issue(
                Some(&header[width - 1]),
                format!(
                    "{found} fields instead of {width}: the unquoted commas were kept inside '{}'",
                    header[width - 1]
                ),
            ));
            self.record
                .iter()
                .skip(width - 1)
                .collect::<Vec<_>>()
                .join(",")
        } else {
            String::new()
        };
        let record = &self.record;
        let columns = &self.columns;
        let get = |name: &str| match columns.get(name) {
            Some(&i) if repaired && i == width - 1 => Raw::Text(Cow::Borrowed(joined.as_str())),
            Some(&i) => Raw::Text(Cow::Borrowed(&record[i])),
            None => Raw::Absent,
        };
        match self.rows.build(get, at, &mut self.warnings) {
            Ok(product) => {
                self.report.accept(repaired);
                if let Some(spare) = (self.accept)(product) {
                    self.rows.reuse(spare);
                }
            }
            Err(issue) => self.report.reject(issue),
        }
        for w in self.warnings.drain(..) {
            self.report.warn(w);
        }
    }
}

/// Extra fields can only be mended into the last column when it holds free
/// text (the name or a text field) and nothing else reads it.
fn last_column_is_free_text(rows: &RowBuilder<'_>, header: &[String]) -> bool {
    let Some(last) = header.last() else {
        return false;
    };
    let f = &rows.mapping().fields;
    let is_text = &f.name == last || f.text.contains(last);
    let other_use = &f.id == last
        || f.categorical.contains(last)
        || f.numeric.contains(last)
        || f.vectors.contains(last)
        || [&f.price, &f.image, &f.in_stock]
            .into_iter()
            .any(|o| o.as_deref() == Some(last.as_str()));
    is_text && !other_use
}

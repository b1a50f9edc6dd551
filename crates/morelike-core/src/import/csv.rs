//! CSV rows: a header, one product per record, and the one repair we make —
//! unquoted commas in the last, free-text column.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::Read;
use std::rc::Rc;

use super::record::{At, Raw, RowBuilder};
use super::{ImportError, ImportReport};
use crate::product::Product;

pub(super) fn read(
    rows: &mut RowBuilder<'_>,
    input: impl Read,
    report: &mut ImportReport,
    mut accept: impl FnMut(Product) -> Option<Product>,
) -> Result<(), ImportError> {
    let ends = Rc::new(RefCell::new(LineEnds::default()));
    let mut reader = ::csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(Lines {
            inner: input,
            read: 0,
            ends: ends.clone(),
        });
    let line_at = |byte: u64| ends.borrow_mut().line_at(byte);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| ImportError::Header(e.to_string()))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
        .collect();
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
    for field in rows.mapping().input_fields() {
        if !columns.contains_key(field) && !joined.iter().any(|&(_, code)| code == field) {
            return Err(ImportError::MissingColumn {
                column: field.to_owned(),
                header: header.join(", "),
            });
        }
    }
    let width = header.len();
    let last_is_free_text = last_column_is_free_text(rows, &header);

    let mut record = ::csv::StringRecord::new();
    let mut warnings = Vec::new();
    loop {
        let line = line_at(reader.position().byte());
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line, |p| line_at(p.byte()));
                report.reject(At::Line(line).issue(None, format!("unreadable CSV: {e}")));
                continue;
            }
        }
        let at = At::Line(record.position().map_or(line, |p| line_at(p.byte())));
        let found = record.len();
        if found < width {
            report.reject(at.issue(
                None,
                format!("expected {width} fields, found {found}; quote values that contain commas"),
            ));
            continue;
        }
        let repaired = found > width;
        let joined = if repaired {
            if !last_is_free_text {
                report.reject(at.issue(
                    None,
                    format!(
                        "expected {width} fields, found {found}; quote values that contain commas"
                    ),
                ));
                continue;
            }
            report.warn(at.issue(
                Some(&header[width - 1]),
                format!(
                    "{found} fields instead of {width}: the unquoted commas were kept inside '{}'",
                    header[width - 1]
                ),
            ));
            record.iter().skip(width - 1).collect::<Vec<_>>().join(",")
        } else {
            String::new()
        };
        let get = |name: &str| match columns.get(name) {
            Some(&i) if repaired && i == width - 1 => Raw::Text(Cow::Borrowed(joined.as_str())),
            Some(&i) => Raw::Text(Cow::Borrowed(&record[i])),
            None => Raw::Absent,
        };
        match rows.build(get, at, &mut warnings) {
            Ok(product) => {
                report.accept(repaired);
                if let Some(spare) = accept(product) {
                    rows.reuse(spare);
                }
            }
            Err(issue) => report.reject(issue),
        }
        for w in warnings.drain(..) {
            report.warn(w);
        }
    }
    Ok(())
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

/// The input as the CSV reader reads it, with where each line ends: the csv
/// crate's own line count is one short on files with CRLF line ends
/// (BurntSushi/rust-csv#395), which Python's `csv` module and spreadsheets
/// write, so a merchant would be sent to the wrong line.
struct Lines<R> {
    inner: R,
    read: u64,
    ends: Rc<RefCell<LineEnds>>,
}

/// The line ends read but not yet passed by a record (at most the reader's
/// buffer ahead), and how many were passed.
#[derive(Default)]
struct LineEnds {
    pending: VecDeque<u64>,
    passed: u64,
}

impl LineEnds {
    /// The line (from 1) of a record starting at this offset; offsets come
    /// in order. With CRLF ends the reader puts a record's start on the `\n`
    /// that ends the line before it, so a line end at the offset is passed.
    fn line_at(&mut self, byte: u64) -> u64 {
        while self.pending.front().is_some_and(|&end| end <= byte) {
            self.pending.pop_front();
            self.passed += 1;
        }
        self.passed + 1
    }
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut ends = self.ends.borrow_mut();
        for (i, &b) in buf[..n].iter().enumerate() {
            if b == b'\n' {
                ends.pending.push_back(self.read + i as u64);
            }
        }
        self.read += n as u64;
        Ok(n)
    }
}

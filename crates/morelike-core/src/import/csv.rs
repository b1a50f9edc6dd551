//! CSV rows: a header, one product per record, and the one repair we make —
//! unquoted commas in the last, free-text column.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;

use super::record::{At, Raw, RowBuilder};
use super::{ImportError, ImportReport};
use crate::product::Product;

pub(super) fn read(
    rows: &mut RowBuilder<'_>,
    input: impl Read,
    report: &mut ImportReport,
    mut accept: impl FnMut(Product),
) -> Result<(), ImportError> {
    let mut reader = ::csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(input);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| ImportError::Header(e.to_string()))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
        .collect();
    let columns: HashMap<&str, usize> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.as_str(), i))
        .collect();
    for field in rows.mapping().input_fields() {
        if !columns.contains_key(field) {
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
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line());
                report.reject(At::Line(line).issue(None, format!("unreadable CSV: {e}")));
                continue;
            }
        }
        let at = At::Line(record.position().map_or(line, |p| p.line()));
        let mut fields: Vec<&str> = record.iter().collect();
        let mut repaired = false;
        if fields.len() < width {
            report.reject(at.issue(
                None,
                format!(
                    "expected {width} fields, found {}; quote values that contain commas",
                    fields.len()
                ),
            ));
            continue;
        }
        let joined;
        if fields.len() > width {
            if !last_is_free_text {
                report.reject(at.issue(
                    None,
                    format!(
                        "expected {width} fields, found {}; quote values that contain commas",
                        fields.len()
                    ),
                ));
                continue;
            }
            joined = fields[width - 1..].join(",");
            report.warn(at.issue(
                Some(&header[width - 1]),
                format!(
                    "{} fields instead of {width}: the unquoted commas were kept inside '{}'",
                    fields.len(),
                    header[width - 1]
                ),
            ));
            fields.truncate(width - 1);
            fields.push(&joined);
            repaired = true;
        }
        let get = |name: &str| match columns.get(name) {
            Some(&i) => Raw::Text(Cow::Borrowed(fields[i])),
            None => Raw::Absent,
        };
        match rows.build(get, at, &mut warnings) {
            Ok(product) => {
                report.accept(repaired);
                accept(product);
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

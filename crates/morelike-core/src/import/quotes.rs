//! A quote left open. A quoted field may run over several lines (a
//! description with line breaks is legal CSV); but when a line inside one
//! reads as a row of its own (it has as many fields as the header), the
//! quote was most likely never closed and swallowed the rows after it.

use std::fmt::Write;

/// Rows a quoted field swallowed.
#[derive(Debug, PartialEq)]
pub(super) struct Swallowed {
    /// The line the quote opened on.
    pub opened: u64,
    /// The field it opened in (its place in the row).
    pub field: usize,
    /// The lines inside the field that read as rows of their own.
    pub rows: Vec<u64>,
    /// Where the line after the opening one starts, in the row's bytes.
    pub rest: usize,
}

/// The rows swallowed by a quoted field of `record`, when any were.
/// `raw` is the record as read (from where the reader put its start to
/// where the next one starts), `line` the line it starts on, `width` the
/// number of columns of the header. A line counts by its part inside the
/// field: the line a field closes on also holds the fields after it.
pub(super) fn swallowed(
    record: &::csv::StringRecord,
    raw: &[u8],
    line: u64,
    width: usize,
) -> Option<Swallowed> {
    let field = record.iter().position(|f| f.contains('\n'))?;
    let mut rows = Vec::new();
    let mut at = line;
    let mut opened = None;
    for text in record.iter() {
        for (k, segment) in text.split('\n').enumerate() {
            if k > 0 {
                at += 1;
                if reads_as_row(segment, width) {
                    rows.push(at);
                }
            } else if text.contains('\n') && opened.is_none() {
                opened = Some(at);
            }
        }
    }
    let opened = opened?;
    if rows.is_empty() {
        return None;
    }
    // With CRLF ends the record starts on the line end before it.
    let skip = raw
        .iter()
        .take_while(|&&b| b == b'\n' || b == b'\r')
        .count();
    let mut newlines = raw[skip..]
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'\n')
        .map(|(i, _)| skip + i + 1);
    let rest = newlines.nth((opened - line) as usize)?;
    Some(Swallowed {
        opened,
        field,
        rows,
        rest,
    })
}

/// Whether a line has as many fields as the header (counting every comma:
/// a swallowed row's own quotes are not to be trusted either).
fn reads_as_row(line: &str, width: usize) -> bool {
    let line = line.strip_suffix('\r').unwrap_or(line);
    !line.is_empty() && line.bytes().filter(|&b| b == b',').count() + 1 >= width
}

/// Lines as ranges: "4–201", "4, 7, 9–12", the first few then how many more.
pub(super) fn ranges(lines: &[u64]) -> String {
    const SHOWN: usize = 6;
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for &l in lines {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == l => *end = l,
            _ => runs.push((l, l)),
        }
    }
    let mut out = String::new();
    for (i, &(a, b)) in runs.iter().take(SHOWN).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        if a == b {
            let _ = write!(out, "{a}");
        } else {
            let _ = write!(out, "{a}–{b}");
        }
    }
    if runs.len() > SHOWN {
        let more: u64 = runs[SHOWN..].iter().map(|(a, b)| b - a + 1).sum();
        let _ = write!(out, " and {more} more");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(fields: &[&str]) -> ::csv::StringRecord {
        ::csv::StringRecord::from(fields.to_vec())
    }

    #[test]
    fn a_description_over_lines_swallows_nothing() {
        let raw = b"1,Shirt,\"Soft cotton.\nMachine wash.\"\n";
        let r = record(&["1", "Shirt", "Soft cotton.\nMachine wash."]);
        assert_eq!(swallowed(&r, raw, 2, 3), None);
    }

    #[test]
    fn a_line_with_as_many_fields_as_the_header_was_swallowed() {
        let raw = b"\n3,Shirt,\"Chain\n4,Hat,ok\n";
        let r = record(&["3", "Shirt", "Chain\n4,Hat,ok\n"]);
        assert_eq!(
            swallowed(&r, raw, 3, 3),
            Some(Swallowed {
                opened: 3,
                field: 2,
                rows: vec![4],
                rest: 16,
            })
        );
        assert_eq!(&raw[16..], b"4,Hat,ok\n");
    }

    #[test]
    fn a_description_closing_on_a_line_with_the_fields_after_it_swallows_nothing() {
        let raw = b"1,Shirt,\"Soft cotton.\nMachine wash, cold, gentle.\",Blue\n";
        let r = record(&[
            "1",
            "Shirt",
            "Soft cotton.\nMachine wash, cold, gentle.",
            "Blue",
        ]);
        assert_eq!(swallowed(&r, raw, 2, 4), None);
    }

    #[test]
    fn lines_are_shown_as_ranges() {
        assert_eq!(ranges(&[4, 5, 6, 9]), "4–6, 9");
        assert_eq!(
            ranges(&[1, 3, 5, 7, 9, 11, 13, 14, 15]),
            "1, 3, 5, 7, 9, 11 and 3 more"
        );
    }
}

//! JSON Lines (one object per line; a bad line rejects that line only) and
//! JSON arrays of objects (read element by element, never held whole).

use std::borrow::Cow;
use std::fmt;
use std::io::{BufRead, BufReader, Read};

use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::record::{At, Raw, RowBuilder};
use super::{ImportError, ImportReport};
use crate::product::Product;

fn raw(value: Option<&Value>) -> Raw<'_> {
    match value {
        None | Some(Value::Null) => Raw::Absent,
        Some(Value::String(s)) => Raw::Text(Cow::Borrowed(s)),
        Some(Value::Number(n)) => n
            .as_f64()
            .map_or(Raw::Other("a number out of range"), Raw::Number),
        Some(Value::Bool(b)) => Raw::Bool(*b),
        Some(Value::Array(items)) => {
            let numbers: Option<Vec<f64>> = items.iter().map(Value::as_f64).collect();
            numbers.map_or(Raw::Other("a list that is not all numbers"), Raw::Numbers)
        }
        Some(Value::Object(_)) => Raw::Other("an object"),
    }
}

fn one_object(
    rows: &mut RowBuilder<'_>,
    value: Value,
    at: At,
    report: &mut ImportReport,
    accept: &mut dyn FnMut(Product) -> Option<Product>,
) {
    let Value::Object(object) = value else {
        report.reject(at.issue(None, "expected a JSON object"));
        return;
    };
    let mut warnings = Vec::new();
    let object: &Map<String, Value> = &object;
    match rows.build(|name| raw(object.get(name)), at, &mut warnings) {
        Ok(product) => {
            report.accept(false);
            if let Some(spare) = accept(product) {
                rows.reuse(spare);
            }
        }
        Err(issue) => report.reject(issue),
    }
    for w in warnings {
        report.warn(w);
    }
}

pub(super) fn read_lines(
    rows: &mut RowBuilder<'_>,
    input: impl Read,
    report: &mut ImportReport,
    mut accept: impl FnMut(Product) -> Option<Product>,
) {
    let mut reader = BufReader::new(input);
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        number += 1;
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                report.reject(At::Line(number).issue(None, format!("cannot read: {e}")));
                break;
            }
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let at = At::Line(number);
        match serde_json::from_slice::<Value>(&line) {
            Ok(value) => one_object(rows, value, at, report, &mut accept),
            Err(e) => report.reject(at.issue(None, format!("not valid JSON: {e}"))),
        }
    }
}

pub(super) fn read_array(
    rows: &mut RowBuilder<'_>,
    input: impl Read,
    report: &mut ImportReport,
    mut accept: impl FnMut(Product) -> Option<Product>,
) -> Result<(), ImportError> {
    let mut de = serde_json::Deserializer::from_reader(BufReader::new(input));
    let seed = Items {
        rows,
        report,
        accept: &mut accept,
    };
    seed.deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| ImportError::Json(format!("the body must be one JSON array of objects: {e}")))
}

/// Visits a JSON array element by element.
struct Items<'x, 'a> {
    rows: &'x mut RowBuilder<'a>,
    report: &'x mut ImportReport,
    accept: &'x mut dyn FnMut(Product) -> Option<Product>,
}

impl<'de> DeserializeSeed<'de> for Items<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Items<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of product objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut item = 0u64;
        while let Some(value) = seq.next_element::<Value>()? {
            item += 1;
            one_object(self.rows, value, At::Item(item), self.report, self.accept);
        }
        Ok(())
    }
}

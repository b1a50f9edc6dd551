//! Turning one input row (CSV or JSON) into a product, checking every field.

use std::borrow::Cow;
use std::collections::HashMap;

use super::{FieldLimits, Lookup, RowIssue};
use crate::mapping::{Mapping, ViewSpec};
use crate::product::{last_word, Product};
use crate::views::ViewKind;

/// A field's raw value as the input gives it.
#[derive(Debug)]
pub(crate) enum Raw<'r> {
    Text(Cow<'r, str>),
    Number(f64),
    Bool(bool),
    Numbers(Vec<f64>),
    Other(&'static str),
    Absent,
}

/// Where a row stands in its input.
#[derive(Clone, Copy, Debug)]
pub(crate) enum At {
    Line(u64),
    Item(u64),
}

impl At {
    pub(crate) fn issue(self, field: Option<&str>, reason: impl Into<String>) -> RowIssue {
        let (line, item) = match self {
            At::Line(l) => (Some(l), None),
            At::Item(i) => (None, Some(i)),
        };
        RowIssue {
            line,
            item,
            field: field.map(str::to_owned),
            reason: reason.into(),
        }
    }
}

/// Builds products from rows; remembers ids seen and vector sizes across rows.
pub(crate) struct RowBuilder<'a> {
    mapping: &'a Mapping,
    lookups: &'a [Lookup],
    /// (hashbrown's seeded foldhash: looked up once a row, several times
    /// faster than SipHash on short ids.)
    seen: hashbrown::HashMap<String, At>,
    vector_dims: HashMap<String, usize>,
    limits: FieldLimits,
}

impl<'a> RowBuilder<'a> {
    pub(crate) fn new(mapping: &'a Mapping, lookups: &'a [Lookup], limits: FieldLimits) -> Self {
        let vector_dims = mapping
            .views
            .iter()
            .filter(|v| v.kind == ViewKind::Vector)
            .filter_map(|v: &ViewSpec| Some((v.fields[0].clone(), v.dim?)))
            .collect();
        RowBuilder {
            mapping,
            lookups,
            seen: hashbrown::HashMap::new(),
            vector_dims,
            limits,
        }
    }

    pub(crate) fn set_limits(&mut self, limits: FieldLimits) {
        self.limits = limits;
    }

    /// A text value checked against a size limit.
    fn sized(
        &self,
        value: Option<String>,
        field: &str,
        limit: usize,
        what: &str,
        at: At,
    ) -> Result<Option<String>, RowIssue> {
        match value {
            Some(v) if v.len() > limit => Err(at.issue(
                Some(field),
                format!(
                    "{} bytes is over the limit of {limit} bytes for {what}",
                    v.len()
                ),
            )),
            other => Ok(other),
        }
    }

    pub(crate) fn mapping(&self) -> &Mapping {
        self.mapping
    }

    fn is_missing(&self, text: &str) -> bool {
        let t = text.trim();
        self.mapping.missing.iter().any(|m| m == t)
    }

    /// A text value, or None when absent or "missing".
    fn text<'r>(&self, raw: Raw<'r>, field: &str, at: At) -> Result<Option<String>, RowIssue> {
        match raw {
            Raw::Text(t) if self.is_missing(&t) => Ok(None),
            Raw::Text(t) => Ok(Some(collapse_spaces(t.trim()))),
            Raw::Number(n) => Ok(Some(n.to_string())),
            Raw::Bool(b) => Ok(Some(b.to_string())),
            Raw::Absent => Ok(None),
            Raw::Numbers(_) => Err(at.issue(Some(field), "expected a string, found a list")),
            Raw::Other(what) => {
                Err(at.issue(Some(field), format!("expected a string, found {what}")))
            }
        }
    }

    fn number(&self, raw: Raw<'_>, field: &str, at: At) -> Result<Option<f64>, RowIssue> {
        let n = match raw {
            Raw::Number(n) => n,
            Raw::Text(t) if self.is_missing(&t) => return Ok(None),
            Raw::Text(t) => t
                .trim()
                .parse::<f64>()
                .map_err(|_| at.issue(Some(field), format!("'{}' is not a number", t.trim())))?,
            Raw::Absent => return Ok(None),
            Raw::Bool(_) | Raw::Numbers(_) => {
                return Err(at.issue(Some(field), "expected a number"))
            }
            Raw::Other(what) => {
                return Err(at.issue(Some(field), format!("expected a number, found {what}")))
            }
        };
        if n.is_finite() {
            Ok(Some(n))
        } else {
            Err(at.issue(Some(field), format!("{n} is not a finite number")))
        }
    }

    fn flag(&self, raw: Raw<'_>, field: &str, at: At) -> Result<Option<bool>, RowIssue> {
        match raw {
            Raw::Bool(b) => Ok(Some(b)),
            Raw::Number(n) => Ok(Some(n != 0.0)),
            Raw::Text(t) if self.is_missing(&t) => Ok(None),
            Raw::Text(t) => match t.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "y" | "in stock" | "instock" | "available" => Ok(Some(true)),
                "false" | "0" | "no" | "n" | "out of stock" | "outofstock" | "sold out" => {
                    Ok(Some(false))
                }
                other => Err(at.issue(
                    Some(field),
                    format!("'{other}' is not a yes/no value (use true/false, 1/0 or yes/no)"),
                )),
            },
            Raw::Absent => Ok(None),
            Raw::Numbers(_) | Raw::Other(_) => Err(at.issue(Some(field), "expected true or false")),
        }
    }

    fn vector(&mut self, raw: Raw<'_>, field: &str, at: At) -> Result<Option<Vec<f32>>, RowIssue> {
        let values: Vec<f64> = match raw {
            Raw::Numbers(v) => v,
            Raw::Text(t) if self.is_missing(&t) => return Ok(None),
            Raw::Text(t) => parse_numbers(&t).map_err(|bad| {
                at.issue(
                    Some(field),
                    format!("'{bad}' in the vector is not a number"),
                )
            })?,
            Raw::Absent => return Ok(None),
            _ => return Err(at.issue(Some(field), "expected a list of numbers")),
        };
        if values.is_empty() {
            return Ok(None);
        }
        if values.len() > self.limits.vector_dim {
            return Err(at.issue(
                Some(field),
                format!(
                    "the vector has {} numbers, over the limit of {}",
                    values.len(),
                    self.limits.vector_dim
                ),
            ));
        }
        // A vector is kept as 32-bit floats: 1e300 is finite as f64, not as f32.
        if let Some(bad) = values.iter().find(|v| !(**v as f32).is_finite()) {
            return Err(at.issue(
                Some(field),
                format!("{bad:e} in the vector is not a finite 32-bit number"),
            ));
        }
        let expected = *self
            .vector_dims
            .entry(field.to_owned())
            .or_insert(values.len());
        if values.len() != expected {
            return Err(at.issue(
                Some(field),
                format!(
                    "vector has {} numbers, expected {expected} like the others",
                    values.len()
                ),
            ));
        }
        Ok(Some(values.into_iter().map(|v| v as f32).collect()))
    }

    /// Builds the product for one row. `get` returns a field's raw value.
    /// Warnings (like an unknown lookup code) go to `warn`.
    pub(crate) fn build<'r>(
        &mut self,
        get: impl Fn(&str) -> Raw<'r>,
        at: At,
        warn: &mut Vec<RowIssue>,
    ) -> Result<Product, RowIssue> {
        let m = self.mapping;
        let f = &m.fields;
        let limits = self.limits;
        let id = self
            .text(get(&f.id), &f.id, at)?
            .ok_or_else(|| at.issue(Some(&f.id), "the product id is empty"))?;
        let id = self
            .sized(Some(id), &f.id, limits.id_bytes, "an id", at)?
            .unwrap_or_default();
        let name = self.text(get(&f.name), &f.name, at)?;
        let name = self.sized(name, &f.name, limits.name_bytes, "a name", at)?;
        let mut product = Product::new(id, name.clone().unwrap_or_default());
        if let Some(field) = &f.price {
            product.price = self.number(get(field), field, at)?;
            if product.price.is_some_and(|p| p < 0.0) {
                return Err(at.issue(Some(field), "a price cannot be negative"));
            }
        }
        if let Some(field) = &f.image {
            let image = self.text(get(field), field, at)?;
            product.image = self.sized(image, field, limits.image_url_bytes, "an image URL", at)?;
            if let Some(url) = &product.image {
                if !is_web_url(url) {
                    return Err(at.issue(
                        Some(field),
                        format!(
                            "'{}' is not an http or https URL: images must be absolute web addresses",
                            url.chars().take(60).collect::<String>()
                        ),
                    ));
                }
            }
        }
        if product.image.is_none() {
            if let Some(template) = &f.image_template {
                product.image = Some(template.replace("{id}", &product.id));
            }
        }
        if let Some(field) = &f.in_stock {
            product.in_stock = self.flag(get(field), field, at)?.unwrap_or(true);
        }
        for field in f.text.iter().chain(&f.categorical) {
            if field == &f.name
                || m.lookups.iter().any(|l| &l.into == field)
                || m.derived.iter().any(|d| &d.into == field)
            {
                continue;
            }
            let value = self.text(get(field), field, at)?;
            if let Some(value) = self.sized(value, field, limits.text_bytes, "a text value", at)? {
                product.attributes.insert(field.clone(), value);
            }
        }
        for field in &f.numeric {
            if let Some(value) = self.number(get(field), field, at)? {
                product.numbers.insert(field.clone(), value);
            }
        }
        for field in &f.vectors {
            if let Some(vector) = self.vector(get(field), field, at)? {
                product.vectors.insert(field.clone(), vector);
            }
        }
        for (spec, table) in m.lookups.iter().zip(self.lookups) {
            let code = self.text(get(&spec.field), &spec.field, at)?;
            let Some(code) =
                self.sized(code, &spec.field, limits.text_bytes, "a text value", at)?
            else {
                continue;
            };
            match table.label(&code) {
                Some(label) => {
                    product
                        .attributes
                        .insert(spec.into.clone(), label.to_owned());
                }
                None => warn.push(at.issue(
                    Some(&spec.field),
                    format!(
                        "code '{code}' is not in {}; '{}' left empty",
                        spec.file, spec.into
                    ),
                )),
            }
            product.attributes.insert(spec.field.clone(), code);
        }
        for spec in &m.derived {
            let value = match spec.take {
                crate::mapping::Take::LastWord => {
                    product.text(&spec.from, &f.name).and_then(last_word)
                }
            };
            if let Some(value) = value {
                product.attributes.insert(spec.into.clone(), value);
            }
        }
        if name.is_none() {
            product.name = self.stand_in_name(&product);
            if product.name.is_empty() {
                return Err(at.issue(Some(&f.name), "the product name is empty"));
            }
            warn.push(at.issue(
                Some(&f.name),
                format!(
                    "the name is empty; shown as '{}', made from its categories",
                    product.name
                ),
            ));
        }
        if let Some(previous) = self.seen.insert(product.id.clone(), at) {
            let earlier = match previous {
                At::Line(l) => format!("line {l}"),
                At::Item(i) => format!("item {i}"),
            };
            warn.push(at.issue(
                Some(&f.id),
                format!(
                    "id '{}' also appears at {earlier}; this later row wins",
                    product.id
                ),
            ));
        }
        Ok(product)
    }
}

impl RowBuilder<'_> {
    /// A name made from the categorical values, most specific last
    /// ("Women Maroon Clutches"), for rows whose name is empty.
    fn stand_in_name(&self, product: &Product) -> String {
        let mut words: Vec<&str> = Vec::new();
        for field in &self.mapping.fields.categorical {
            if let Some(v) = product.attributes.get(field) {
                if !words.contains(&v.as_str()) {
                    words.push(v);
                }
            }
        }
        words.join(" ")
    }
}

/// Replaces runs of white space with one space (catalog names often have doubles).
fn collapse_spaces(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    out
}

/// An absolute http or https URL (never `javascript:`, `data:` or a path).
pub(crate) fn is_web_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// Parses "[1, 2, 3]", "1 2 3", "1,2,3" or "1;2;3"; on failure returns the bad token.
fn parse_numbers(text: &str) -> Result<Vec<f64>, String> {
    let inner = text.trim().trim_start_matches('[').trim_end_matches(']');
    inner
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(|t| t.parse::<f64>().map_err(|_| t.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_spaces_in_names_are_collapsed() {
        assert_eq!(
            collapse_spaces(" Vishudh Women  Orange   Kurta "),
            "Vishudh Women Orange Kurta"
        );
    }

    #[test]
    fn vectors_parse_in_every_written_form() {
        for text in ["[1, 2.5, -3]", "1 2.5 -3", "1,2.5,-3", "1;2.5;-3"] {
            assert_eq!(parse_numbers(text).unwrap(), vec![1.0, 2.5, -3.0], "{text}");
        }
        assert_eq!(parse_numbers("1 x 3").unwrap_err(), "x");
    }

    #[test]
    fn only_http_and_https_image_urls_are_web_urls() {
        for good in ["https://cdn.example/a.jpg", "HTTP://x", "http://x/y?z=1"] {
            assert!(is_web_url(good), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:x",
            "data:image/png;base64,AA",
            "/img/a.jpg",
            "//cdn/a.jpg",
            "ftp://x",
            "",
            "h",
        ] {
            assert!(!is_web_url(bad), "{bad}");
        }
    }
}

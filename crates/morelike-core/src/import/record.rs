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
    /// A product already taken, handed back to be overwritten by the next
    /// row: its strings and maps are reused, so a long import allocates
    /// little per row.
    spare: Option<Product>,
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
            spare: None,
        }
    }

    /// Keeps a product already taken, to be overwritten by the next row.
    pub(crate) fn reuse(&mut self, product: Product) {
        self.spare = Some(product);
    }

    pub(crate) fn set_limits(&mut self, limits: FieldLimits) {
        self.limits = limits;
    }

    pub(crate) fn mapping(&self) -> &Mapping {
        self.mapping
    }

    /// The lookups the file carries joined ([`Lookup::joined_in_file`]):
    /// each one's joined column (`into`) and code column (`field`).
    pub(crate) fn joined_in_file(&self) -> Vec<(&'a str, &'a str)> {
        self.mapping
            .lookups
            .iter()
            .zip(self.lookups)
            .filter(|(_, table)| table.is_joined_in_file())
            .map(|(spec, _)| (spec.into.as_str(), spec.field.as_str()))
            .collect()
    }

    fn is_missing(&self, text: &str) -> bool {
        let t = text.trim();
        self.mapping.missing.iter().any(|m| m == t)
    }

    /// A text value, or None when absent or "missing".
    fn text(&self, raw: Raw<'_>, field: &str, at: At) -> Result<Option<String>, RowIssue> {
        let mut out = String::new();
        Ok(self.text_into(raw, field, at, &mut out)?.then_some(out))
    }

    /// [`RowBuilder::text`] written over `out`: whether there is a value
    /// (`out` is left empty when there is none).
    fn text_into(
        &self,
        raw: Raw<'_>,
        field: &str,
        at: At,
        out: &mut String,
    ) -> Result<bool, RowIssue> {
        use std::fmt::Write;
        out.clear();
        match raw {
            Raw::Text(t) if self.is_missing(&t) => Ok(false),
            Raw::Text(t) => {
                collapse_spaces_into(t.trim(), out);
                Ok(true)
            }
            Raw::Number(n) => {
                let _ = write!(out, "{n}");
                Ok(true)
            }
            Raw::Bool(b) => {
                let _ = write!(out, "{b}");
                Ok(true)
            }
            Raw::Absent => Ok(false),
            Raw::Numbers(_) => Err(at.issue(Some(field), "expected a string, found a list")),
            Raw::Other(what) => {
                Err(at.issue(Some(field), format!("expected a string, found {what}")))
            }
        }
    }

    /// A text value's size against a limit.
    fn check_size(
        &self,
        value: &str,
        field: &str,
        limit: usize,
        what: &str,
        at: At,
    ) -> Result<(), RowIssue> {
        if value.len() > limit {
            return Err(at.issue(
                Some(field),
                format!(
                    "{} bytes is over the limit of {limit} bytes for {what}",
                    value.len()
                ),
            ));
        }
        Ok(())
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
    /// Warnings (like an unknown lookup code) go to `warn`. The product is
    /// written over the spare one when there is one ([`RowBuilder::reuse`]):
    /// the result is the same as on a new product.
    pub(crate) fn build<'r>(
        &mut self,
        get: impl Fn(&str) -> Raw<'r>,
        at: At,
        warn: &mut Vec<RowIssue>,
    ) -> Result<Product, RowIssue> {
        let mut product = self.spare.take().unwrap_or_default();
        let m = self.mapping;
        let f = &m.fields;
        let limits = self.limits;
        if !self.text_into(get(&f.id), &f.id, at, &mut product.id)? {
            return Err(at.issue(Some(&f.id), "the product id is empty"));
        }
        self.check_size(&product.id, &f.id, limits.id_bytes, "an id", at)?;
        let named = self.text_into(get(&f.name), &f.name, at, &mut product.name)?;
        self.check_size(&product.name, &f.name, limits.name_bytes, "a name", at)?;
        product.price = None;
        if let Some(field) = &f.price {
            product.price = self.number(get(field), field, at)?;
            if product.price.is_some_and(|p| p < 0.0) {
                return Err(at.issue(Some(field), "a price cannot be negative"));
            }
        }
        let mut image = product.image.take().unwrap_or_default();
        if let Some(field) = &f.image {
            if self.text_into(get(field), field, at, &mut image)? {
                self.check_size(&image, field, limits.image_url_bytes, "an image URL", at)?;
                if !is_web_url(&image) {
                    return Err(at.issue(
                        Some(field),
                        format!(
                            "'{}' is not an http or https URL: images must be absolute web addresses",
                            image.chars().take(60).collect::<String>()
                        ),
                    ));
                }
                product.image = Some(image);
            }
        }
        if product.image.is_none() {
            if let Some(template) = &f.image_template {
                product.image = Some(template.replace("{id}", &product.id));
            }
        }
        product.in_stock = true;
        if let Some(field) = &f.in_stock {
            product.in_stock = self.flag(get(field), field, at)?.unwrap_or(true);
        }
        // The product's maps keep the previous row's keys (and their
        // strings) until this row has set its own: `set` counts the keys
        // this row set, so stale ones are found by the maps' lengths.
        let mut set = Set::default();
        let mut value = String::new();
        for field in f.text.iter().chain(&f.categorical) {
            if field == &f.name
                || m.lookups.iter().any(|l| &l.into == field)
                || m.derived.iter().any(|d| &d.into == field)
            {
                continue;
            }
            match product.attributes.get_mut(field) {
                // Written into the string the previous row left.
                Some(out) => {
                    if self.text_into(get(field), field, at, out)? {
                        self.check_size(out, field, limits.text_bytes, "a text value", at)?;
                        set.mark(field);
                    }
                }
                None => {
                    if self.text_into(get(field), field, at, &mut value)? {
                        self.check_size(&value, field, limits.text_bytes, "a text value", at)?;
                        set.attribute(&mut product, field, &mut value);
                    }
                }
            }
        }
        for field in &f.numeric {
            if let Some(number) = self.number(get(field), field, at)? {
                set.number(&mut product, field, number);
            }
        }
        product.vectors.clear();
        for field in &f.vectors {
            if let Some(vector) = self.vector(get(field), field, at)? {
                product.vectors.insert(field.clone(), vector);
            }
        }
        for (spec, table) in m.lookups.iter().zip(self.lookups) {
            if table.is_joined_in_file() {
                // Joined before it was sent: the label as the row has it,
                // and the code when the file kept that column too.
                for field in [&spec.into, &spec.field] {
                    if self.text_into(get(field), field, at, &mut value)? {
                        self.check_size(&value, field, limits.text_bytes, "a text value", at)?;
                        set.attribute(&mut product, field, &mut value);
                    }
                }
                continue;
            }
            let Some(code) = self.text(get(&spec.field), &spec.field, at)? else {
                continue;
            };
            self.check_size(&code, &spec.field, limits.text_bytes, "a text value", at)?;
            match table.label(&code) {
                Some(label) => {
                    value.clear();
                    value.push_str(label);
                    set.attribute(&mut product, &spec.into, &mut value);
                }
                None => warn.push(at.issue(
                    Some(&spec.field),
                    format!(
                        "code '{code}' is not in {}; '{}' left empty",
                        spec.file, spec.into
                    ),
                )),
            }
            value = code;
            set.attribute(&mut product, &spec.field, &mut value);
        }
        // Derived values read this row's attributes only.
        set.drop_stale(&mut product);
        for spec in &m.derived {
            let derived = match spec.take {
                crate::mapping::Take::LastWord => {
                    product.text(&spec.from, &f.name).and_then(last_word)
                }
            };
            if let Some(mut derived) = derived {
                set.attribute(&mut product, &spec.into, &mut derived);
            }
        }
        if !named {
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

/// The attribute and number keys a row has set in a reused product.
#[derive(Default)]
struct Set<'m> {
    attributes: Vec<&'m str>,
    numbers: Vec<&'m str>,
}

impl<'m> Set<'m> {
    /// Notes an attribute whose value was written in place.
    fn mark(&mut self, field: &'m str) {
        if !self.attributes.contains(&field) {
            self.attributes.push(field);
        }
    }

    /// Sets an attribute to `value` (copied over the string a key the
    /// product has; taken, leaving `value` empty, for a new key).
    fn attribute(&mut self, product: &mut Product, field: &'m str, value: &mut String) {
        match product.attributes.get_mut(field) {
            Some(old) => {
                old.clear();
                old.push_str(value);
            }
            None => {
                product
                    .attributes
                    .insert(field.to_owned(), std::mem::take(value));
            }
        }
        self.mark(field);
    }

    /// Sets a number.
    fn number(&mut self, product: &mut Product, field: &'m str, number: f64) {
        match product.numbers.get_mut(field) {
            Some(old) => *old = number,
            None => {
                product.numbers.insert(field.to_owned(), number);
            }
        }
        if !self.numbers.contains(&field) {
            self.numbers.push(field);
        }
    }

    /// Takes out the keys an earlier row left that this row did not set
    /// (the maps hold every key set, so they hold stale ones exactly when
    /// they are longer).
    fn drop_stale(&self, product: &mut Product) {
        if product.attributes.len() > self.attributes.len() {
            product
                .attributes
                .retain(|field, _| self.attributes.contains(&field.as_str()));
        }
        if product.numbers.len() > self.numbers.len() {
            product
                .numbers
                .retain(|field, _| self.numbers.contains(&field.as_str()));
        }
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
#[cfg(test)]
fn collapse_spaces(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    collapse_spaces_into(text, &mut out);
    out
}

/// [`collapse_spaces`] written over `out`.
fn collapse_spaces_into(text: &str, out: &mut String) {
    out.clear();
    let single_spaces = text.is_ascii()
        && !text.starts_with(' ')
        && !text.ends_with(' ')
        && !text.as_bytes().windows(2).any(|w| w == b"  ")
        && !text.chars().any(|c| c != ' ' && c.is_whitespace());
    if single_spaces {
        // Nothing to collapse.
        out.push_str(text);
        return;
    }
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
    fn collapsing_keeps_text_without_runs_of_white_space_as_it_is() {
        let slow = |text: &str| {
            let words: Vec<&str> = text
                .split(char::is_whitespace)
                .filter(|w| !w.is_empty())
                .collect();
            words.join(" ")
        };
        for text in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "a b",
            "a  b",
            "a\tb",
            "a\u{b}b",
            "a\u{a0}b",
            "Née  x",
            "Turtle Check Men Navy Blue Shirt",
        ] {
            assert_eq!(collapse_spaces(text), slow(text), "{text:?}");
        }
    }

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

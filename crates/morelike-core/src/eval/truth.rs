//! Ground truth for simulated shoppers, read from the product documents
//! (never from the vectors): three attributes per product, coarse to fine,
//! each turned into a small code.

use std::collections::HashMap;

use crate::catalog::Catalog;
use crate::product::Described;

/// A product's three truth attributes as codes; [`NONE`] where it has none.
pub type Class = [u32; 3];

/// The code of an attribute a product does not have.
pub const NONE: u32 = u32::MAX;

/// A truth spec that does not fit the catalog.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TruthError {
    /// The mapping has no `[eval] truth`.
    #[error("the mapping has no [eval] truth = [three attributes, coarse to fine]")]
    Missing,
    /// Not three attributes.
    #[error("[eval] truth must name exactly three attributes, got {0}")]
    NotThree(usize),
    /// No product has one of the attributes (a misspelling, most often).
    #[error("no product has the truth attribute '{attribute}': name one the catalog has ({known}, or last_word:FIELD)")]
    NoProductHas {
        /// The attribute as given.
        attribute: String,
        /// The attributes the mapping reads.
        known: String,
    },
    /// No product has all three attributes.
    #[error("no product has all three truth attributes {0:?}")]
    NoCompleteProduct(Vec<String>),
}

/// One truth attribute: a field as it is, or its last word lower-cased.
#[derive(Clone, Debug, PartialEq)]
pub enum Attribute {
    /// The field's value.
    Field(String),
    /// The field's last word, lower-cased (`last_word:FIELD`).
    LastWord(String),
}

impl Attribute {
    /// Parses `FIELD` or `last_word:FIELD`.
    pub fn parse(spec: &str) -> Self {
        match spec.strip_prefix("last_word:") {
            Some(field) => Attribute::LastWord(field.trim().to_owned()),
            None => Attribute::Field(spec.trim().to_owned()),
        }
    }

    /// The attribute's value for a product, if it has one.
    pub fn value(&self, product: &impl Described, name_field: &str) -> Option<String> {
        match self {
            Attribute::Field(f) => product
                .text(f, name_field)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
            Attribute::LastWord(f) => product.text(f, name_field).and_then(last_word),
        }
    }
}

pub use crate::product::last_word;

/// Every index row's truth class.
#[derive(Clone, Debug)]
pub struct Truth {
    /// The attributes, coarse to fine.
    pub attributes: Vec<Attribute>,
    classes: Vec<Class>,
    labels: [Vec<String>; 3],
    /// The rows that have all three attributes, in product-id order.
    complete: Vec<u32>,
}

impl Truth {
    /// Reads the truth of every product of a catalog (spec from its mapping).
    pub fn of_catalog(catalog: &Catalog) -> Result<Self, TruthError> {
        let spec = catalog.mapping().eval.as_ref().ok_or(TruthError::Missing)?;
        Truth::with_spec(catalog, &spec.truth)
    }

    /// Reads the truth of every product of a catalog for a given spec.
    pub fn with_spec(catalog: &Catalog, spec: &[String]) -> Result<Self, TruthError> {
        if spec.len() != 3 {
            return Err(TruthError::NotThree(spec.len()));
        }
        let attributes: Vec<Attribute> = spec.iter().map(|s| Attribute::parse(s)).collect();
        let name_field = &catalog.mapping().fields.name;
        let index = catalog.index();
        let mut codes: [HashMap<String, u32>; 3] = Default::default();
        let mut labels: [Vec<String>; 3] = Default::default();
        let mut classes = vec![[NONE; 3]; index.row_count()];
        for (row, class) in classes.iter_mut().enumerate() {
            let row = row as u32;
            if !index.is_live(row) {
                continue;
            }
            let product = catalog.at(row);
            for (i, attribute) in attributes.iter().enumerate() {
                if let Some(value) = attribute.value(&product, name_field) {
                    let next = codes[i].len() as u32;
                    let code = *codes[i].entry(value.clone()).or_insert_with(|| {
                        labels[i].push(value);
                        next
                    });
                    class[i] = code;
                }
            }
        }
        // A name no product has is most likely misspelled: named alone.
        if let Some(i) = codes.iter().position(HashMap::is_empty) {
            let f = &catalog.mapping().fields;
            let mut known: Vec<&str> = Vec::new();
            for field in std::iter::once(&f.name)
                .chain(&f.text)
                .chain(&f.categorical)
            {
                if !known.contains(&field.as_str()) {
                    known.push(field);
                }
            }
            return Err(TruthError::NoProductHas {
                attribute: spec[i].clone(),
                known: known.join(", "),
            });
        }
        let mut complete: Vec<u32> = classes
            .iter()
            .enumerate()
            .filter(|(_, c)| c.iter().all(|&x| x != NONE))
            .map(|(r, _)| r as u32)
            .collect();
        if complete.is_empty() {
            return Err(TruthError::NoCompleteProduct(spec.to_vec()));
        }
        complete.sort_unstable_by(|&a, &b| index.id(a).cmp(index.id(b)));
        Ok(Truth {
            attributes,
            classes,
            labels,
            complete,
        })
    }

    /// A row's class.
    pub fn class(&self, row: u32) -> Class {
        self.classes[row as usize]
    }

    /// The label of attribute `i`'s code.
    pub fn label(&self, i: usize, code: u32) -> Option<&str> {
        self.labels[i].get(code as usize).map(String::as_str)
    }

    /// Rows that have all three attributes (possible targets and seeds), in
    /// product-id order: draws made from them do not depend on row order.
    pub fn complete_rows(&self) -> impl Iterator<Item = u32> + '_ {
        self.complete.iter().copied()
    }

    /// The names of the attributes, coarse to fine, as given.
    pub fn spec(&self) -> Vec<String> {
        self.attributes
            .iter()
            .map(|a| match a {
                Attribute::Field(f) => f.clone(),
                Attribute::LastWord(f) => format!("last_word:{f}"),
            })
            .collect()
    }
}

/// How many attributes a product shares with a target class (missing never matches).
pub fn shared(class: Class, target: Class) -> usize {
    class
        .iter()
        .zip(&target)
        .filter(|(a, b)| **a != NONE && a == b)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_word_is_lower_cased_without_punctuation() {
        assert_eq!(
            last_word("Chocolate Sandwich Cookies").as_deref(),
            Some("cookies")
        );
        assert_eq!(last_word("Milk, Whole (1 Gal.)").as_deref(), Some("gal"));
        assert_eq!(last_word("  Tea  - ").as_deref(), Some("tea"));
        assert_eq!(last_word(" ... "), None);
    }

    #[test]
    fn spec_parses_last_word_prefix() {
        assert_eq!(
            Attribute::parse("last_word:product_name"),
            Attribute::LastWord("product_name".into())
        );
        assert_eq!(Attribute::parse("aisle"), Attribute::Field("aisle".into()));
    }

    #[test]
    fn shared_counts_positions_and_never_missing_values() {
        assert_eq!(shared([1, 2, 3], [1, 2, 3]), 3);
        assert_eq!(shared([1, 5, 3], [1, 2, 3]), 2);
        assert_eq!(shared([NONE, 2, 9], [NONE, 2, 3]), 1);
    }
}

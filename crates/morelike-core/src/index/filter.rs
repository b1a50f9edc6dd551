//! Filters a shopper or merchant puts on a page (in stock, category, price
//! band), compiled against an index so the scan checks them row by row.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Index;
use crate::views::MISSING;

/// What a page may show.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filters {
    /// Only products in stock.
    #[serde(default)]
    pub in_stock: bool,
    /// Categorical field → accepted values (any of them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, Vec<String>>,
    /// Lowest price (inclusive); products without a price are left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_min: Option<f64>,
    /// Highest price (inclusive); products without a price are left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_max: Option<f64>,
}

/// A filter that names something the store does not have.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FilterError {
    /// Filtering on a field that is not categorical.
    #[error("cannot filter on '{field}': filterable fields are {known}")]
    UnknownField {
        /// The field asked for.
        field: String,
        /// The categorical fields there are.
        known: String,
    },
    /// A price band upside down or not a number.
    #[error("price band {min:?}..{max:?} is empty or not a number")]
    BadPriceBand {
        /// Lowest price.
        min: Option<f64>,
        /// Highest price.
        max: Option<f64>,
    },
}

/// A filter value no product of the store has (a misspelling, most
/// often): nothing passes for it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnmatchedValue {
    /// The categorical field filtered on.
    pub attribute: String,
    /// The value asked for.
    pub value: String,
    /// A few of the field's values the store has, the most common first.
    pub known: Vec<String>,
}

/// How many of a field's values an [`UnmatchedValue`] lists.
const KNOWN_SHOWN: usize = 8;

/// The filter values that no product of the index has (one lookup each;
/// fields the store cannot filter on are [`CompiledFilter::new`]'s error).
pub fn unmatched_values(filters: &Filters, index: &Index) -> Vec<UnmatchedValue> {
    let mut unmatched = Vec::new();
    for (name, values) in &filters.attributes {
        let Some(field) = index.layout().fields.iter().position(|(f, _)| f == name) else {
            continue;
        };
        let dict = index.dictionary(field);
        for value in values.iter().filter(|v| dict.code(v).is_none()) {
            let known = (0..dict.len() as u32)
                .filter_map(|code| dict.label(code))
                .take(KNOWN_SHOWN)
                .map(str::to_owned)
                .collect();
            unmatched.push(UnmatchedValue {
                attribute: name.clone(),
                value: value.clone(),
                known,
            });
        }
    }
    unmatched
}

/// Filters ready for the scan.
#[derive(Clone, Debug, Default)]
pub struct CompiledFilter {
    in_stock: bool,
    fields: Vec<(usize, Vec<bool>)>,
    price: Option<(f32, f32)>,
}

impl CompiledFilter {
    /// Compiles filters against an index's fields and dictionaries.
    pub fn new(filters: &Filters, index: &Index) -> Result<Self, FilterError> {
        let mut fields = Vec::new();
        for (name, values) in &filters.attributes {
            let field = index
                .layout()
                .fields
                .iter()
                .position(|(f, _)| f == name)
                .ok_or_else(|| FilterError::UnknownField {
                    field: name.clone(),
                    known: index
                        .layout()
                        .fields
                        .iter()
                        .map(|(f, _)| f.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
            let dict = index.dictionary(field);
            let mut allowed = vec![false; dict.len()];
            for v in values {
                if let Some(code) = dict.code(v) {
                    allowed[code as usize] = true;
                }
            }
            fields.push((field, allowed));
        }
        let price = match (filters.price_min, filters.price_max) {
            (None, None) => None,
            (min, max) => {
                let lo = min.unwrap_or(f64::NEG_INFINITY);
                let hi = max.unwrap_or(f64::INFINITY);
                if lo.is_nan() || hi.is_nan() || lo > hi {
                    return Err(FilterError::BadPriceBand { min, max });
                }
                Some((lo as f32, hi as f32))
            }
        };
        Ok(CompiledFilter {
            in_stock: filters.in_stock,
            fields,
            price,
        })
    }

    /// Whether the filter lets everything through.
    pub fn is_open(&self) -> bool {
        !self.in_stock && self.fields.is_empty() && self.price.is_none()
    }

    /// Whether the filter asks only for categorical values, so that a
    /// kind (products sharing every categorical value) passes or fails whole.
    pub fn is_by_kind(&self) -> bool {
        !self.in_stock && self.price.is_none()
    }

    /// Whether categorical codes (a kind's) pass the filter's attribute part.
    pub fn accepts_codes(&self, codes: &[u32]) -> bool {
        self.fields.iter().all(|(field, allowed)| {
            let code = codes[*field];
            code != MISSING && allowed.get(code as usize).copied().unwrap_or(false)
        })
    }

    /// Whether a row passes.
    #[inline]
    pub fn accepts(&self, index: &Index, row: u32) -> bool {
        if self.in_stock && !index.in_stock.contains(row) {
            return false;
        }
        for (field, allowed) in &self.fields {
            let code = index.code(row, *field);
            if code == MISSING || !allowed.get(code as usize).copied().unwrap_or(false) {
                return false;
            }
        }
        if let Some((lo, hi)) = self.price {
            let p = index.prices[row as usize];
            if !(p >= lo && p <= hi) {
                return false;
            }
        }
        true
    }
}

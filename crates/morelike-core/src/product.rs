//! A product as the merchant's catalog describes it, after column mapping.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The merchant's own id for a product (any string, unique within a store).
pub type ProductId = String;

/// One product: what the shopper sees and what the similarity model reads.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// The merchant's id.
    pub id: ProductId,
    /// The display name.
    pub name: String,
    /// The price, when the catalog has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    /// An image URL, when the catalog has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Whether the product can be bought now (true when the catalog does not say).
    #[serde(default = "yes")]
    pub in_stock: bool,
    /// Text and categorical attributes, by field name.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Numeric attributes, by field name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub numbers: BTreeMap<String, f64>,
    /// Vectors the merchant brings (an image embedding, say), by field name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vectors: BTreeMap<String, Vec<f32>>,
}

fn yes() -> bool {
    true
}

impl Product {
    /// A product with an id and a name and nothing else.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Product {
            id: id.into(),
            name: name.into(),
            in_stock: true,
            ..Product::default()
        }
    }

    /// Adds a text or categorical attribute.
    pub fn with_attribute(mut self, field: &str, value: &str) -> Self {
        self.attributes.insert(field.to_owned(), value.to_owned());
        self
    }

    /// Adds a numeric attribute.
    pub fn with_number(mut self, field: &str, value: f64) -> Self {
        self.numbers.insert(field.to_owned(), value);
        self
    }

    /// The value of a text field: the name, an attribute, or nothing.
    pub fn text(&self, field: &str, name_field: &str) -> Option<&str> {
        if field == name_field {
            return Some(&self.name);
        }
        self.attributes.get(field).map(String::as_str)
    }
}

/// The last word of a text, lower-cased, without surrounding punctuation
/// ("Chocolate Sandwich Cookies" → "cookies").
pub fn last_word(text: &str) -> Option<String> {
    text.split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .rfind(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// A name as a shopper reads it: lower-cased words of letters and digits,
/// one space apart ("U.S. Polo Assn.  Men Shirt" → "u s polo assn men
/// shirt"). Two products with the same normalized name look like copies.
pub fn normalized_name(name: &str) -> String {
    let lower = name.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_names_ignore_case_punctuation_and_spacing() {
        assert_eq!(
            normalized_name("U.S. Polo Assn.  Men Checks Navy Blue Shirt"),
            normalized_name("u.s. polo assn men checks navy-blue shirt")
        );
        assert_eq!(normalized_name(" Tea - Green "), "tea green");
        assert_ne!(
            normalized_name("Blue Shirt"),
            normalized_name("Blue Shirts")
        );
    }
}

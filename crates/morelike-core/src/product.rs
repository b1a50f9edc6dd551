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

/// What the views and the index read of a product, whether it is a
/// [`Product`] or a row of a catalog's compact cards.
pub trait Described {
    /// The merchant's id.
    fn id(&self) -> &str;
    /// The display name.
    fn name(&self) -> &str;
    /// The price, when there is one.
    fn price(&self) -> Option<f64>;
    /// Whether it can be bought now.
    fn in_stock(&self) -> bool;
    /// A text or categorical attribute.
    fn attribute(&self, field: &str) -> Option<&str>;
    /// A numeric attribute.
    fn number(&self, field: &str) -> Option<f64>;
    /// A merchant's vector.
    fn vector(&self, field: &str) -> Option<&[f32]>;
    /// The value of a text field: the name, an attribute, or nothing.
    fn text(&self, field: &str, name_field: &str) -> Option<&str> {
        if field == name_field {
            return Some(self.name());
        }
        self.attribute(field)
    }
}

impl Described for Product {
    fn id(&self) -> &str {
        &self.id
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn price(&self) -> Option<f64> {
        self.price
    }
    fn in_stock(&self) -> bool {
        self.in_stock
    }
    fn attribute(&self, field: &str) -> Option<&str> {
        self.attributes.get(field).map(String::as_str)
    }
    fn number(&self, field: &str) -> Option<f64> {
        self.numbers.get(field).copied()
    }
    fn vector(&self, field: &str) -> Option<&[f32]> {
        self.vectors.get(field).map(Vec::as_slice)
    }
}

impl<T: Described + ?Sized> Described for &T {
    fn id(&self) -> &str {
        (**self).id()
    }
    fn name(&self) -> &str {
        (**self).name()
    }
    fn price(&self) -> Option<f64> {
        (**self).price()
    }
    fn in_stock(&self) -> bool {
        (**self).in_stock()
    }
    fn attribute(&self, field: &str) -> Option<&str> {
        (**self).attribute(field)
    }
    fn number(&self, field: &str) -> Option<f64> {
        (**self).number(field)
    }
    fn vector(&self, field: &str) -> Option<&[f32]> {
        (**self).vector(field)
    }
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
        Described::text(self, field, name_field)
    }

    /// A stable 64-bit fingerprint of everything stored of the product:
    /// two products with the same fingerprint are taken as equal (an upsert
    /// of one over the other changes nothing).
    pub fn fingerprint(&self) -> u64 {
        let mut h = Fingerprint::default();
        h.text(&self.id);
        h.text(&self.name);
        h.number(self.price);
        h.bytes(&[u8::from(self.image.is_some())]);
        h.text(self.image.as_deref().unwrap_or(""));
        h.bytes(&[u8::from(self.in_stock)]);
        for (k, v) in &self.attributes {
            h.text(k);
            h.text(v);
        }
        h.bytes(b"|");
        for (k, v) in &self.numbers {
            h.text(k);
            h.number(Some(*v));
        }
        h.bytes(b"|");
        for (k, v) in &self.vectors {
            h.text(k);
            h.bytes(&(v.len() as u64).to_le_bytes());
            for x in v {
                h.bytes(&x.to_bits().to_le_bytes());
            }
        }
        crate::hash::mix(h.0)
    }
}

/// FNV-1a over length-prefixed fields.
struct Fingerprint(u64);

impl Default for Fingerprint {
    fn default() -> Self {
        Fingerprint(0xcbf2_9ce4_8422_2325)
    }
}

impl Fingerprint {
    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn text(&mut self, s: &str) {
        self.bytes(&(s.len() as u64).to_le_bytes());
        self.bytes(s.as_bytes());
    }
    fn number(&mut self, n: Option<f64>) {
        match n {
            Some(n) => self.bytes(&n.to_bits().to_le_bytes()),
            None => self.bytes(b"\xffnone"),
        }
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

/// The stable key of a name as a shopper reads it: the key
/// ([`crate::hash::product_key`]) of its [`normalized_name`], without
/// building that string when the name is ASCII.
pub(crate) fn name_key(name: &str) -> u64 {
    use crate::hash::{fnv1a_byte, mix, product_key, FNV_START};
    if !name.is_ascii() {
        return product_key(&normalized_name(name));
    }
    let mut h = FNV_START;
    let words = name
        .as_bytes()
        .split(|b| !b.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty());
    for (i, word) in words.enumerate() {
        if i > 0 {
            h = fnv1a_byte(h, b' ');
        }
        h = word
            .iter()
            .fold(h, |h, b| fnv1a_byte(h, b.to_ascii_lowercase()));
    }
    mix(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_key_is_the_key_of_the_normalized_name() {
        for name in [
            "",
            "  ",
            "U.S. Polo Assn.  Men Checks Navy Blue Shirt",
            " Tea - Green ",
            "x",
            "Ça va, Née",
            "ÆSIR ǅemal",
        ] {
            assert_eq!(
                name_key(name),
                crate::hash::product_key(&normalized_name(name)),
                "{name:?}"
            );
        }
    }

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

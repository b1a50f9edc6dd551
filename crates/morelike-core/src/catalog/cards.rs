//! Product cards: what a shopper sees of each product (name, price, image,
//! stock, attributes, numbers), by index row, in a few flat columns —
//! names in one arena, attribute values interned per field, numbers in
//! arrays — so a store of a million products holds no per-product
//! allocation. Merchant vectors are not kept here (the index holds them
//! encoded; storage holds them as sent). Each row also keeps its product's
//! fingerprint, so an upsert can tell an unchanged product without the old
//! document.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use super::strings::{Interned, Texts};
use crate::index::RowSet;
use crate::product::{Described, Product};

/// The code of an attribute a product does not have.
const NONE: u32 = u32::MAX;

/// Every product's card, by row.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Cards {
    names: Texts,
    images: Texts,
    prices: Vec<f64>,
    in_stock: RowSet,
    /// Attribute fields, in the order first seen.
    fields: Vec<String>,
    /// The attribute fields' positions in `fields`, by field name (how a
    /// page lists them); worked out on first use after a field is added.
    #[serde(skip)]
    by_name: OnceLock<Vec<usize>>,
    /// Per attribute field, its distinct values.
    values: Vec<Interned>,
    /// Per attribute field, each row's value code (`NONE`: no value).
    codes: Vec<Vec<u32>>,
    number_fields: Vec<String>,
    /// Per numeric field, each row's value (NaN: no value).
    numbers: Vec<Vec<f64>>,
    fingerprints: Vec<u64>,
    rows: usize,
}

impl Cards {
    /// Writes a product's card at a row (rows past the end are added).
    pub fn put(&mut self, row: u32, product: &Product) {
        let r = row as usize;
        if r >= self.rows {
            self.rows = r + 1;
            self.prices.resize(self.rows, f64::NAN);
            self.fingerprints.resize(self.rows, 0);
            for column in &mut self.codes {
                column.resize(self.rows, NONE);
            }
            for column in &mut self.numbers {
                column.resize(self.rows, f64::NAN);
            }
        }
        self.names.set(r, &product.name);
        self.images.set(r, product.image.as_deref().unwrap_or(""));
        self.prices[r] = product.price.unwrap_or(f64::NAN);
        if product.in_stock {
            self.in_stock.insert(row);
        } else {
            self.in_stock.remove(row);
        }
        for column in &mut self.codes {
            column[r] = NONE;
        }
        for (i, (field, value)) in product.attributes.iter().enumerate() {
            // Products of one catalog mostly have the same fields: the
            // i-th is the i-th seen.
            let at = if self.fields.get(i) == Some(field) {
                Some(i)
            } else {
                self.fields.iter().position(|x| x == field)
            };
            let f = match at {
                Some(f) => f,
                None => {
                    self.fields.push(field.clone());
                    self.by_name = OnceLock::new();
                    self.values.push(Interned::default());
                    self.codes.push(vec![NONE; self.rows]);
                    self.fields.len() - 1
                }
            };
            self.codes[f][r] = self.values[f].code_or_insert(value);
        }
        for column in &mut self.numbers {
            column[r] = f64::NAN;
        }
        for (i, (field, &value)) in product.numbers.iter().enumerate() {
            let at = if self.number_fields.get(i) == Some(field) {
                Some(i)
            } else {
                self.number_fields.iter().position(|x| x == field)
            };
            let f = match at {
                Some(f) => f,
                None => {
                    self.number_fields.push(field.clone());
                    self.numbers.push(vec![f64::NAN; self.rows]);
                    self.number_fields.len() - 1
                }
            };
            self.numbers[f][r] = value;
        }
        self.fingerprints[r] = product.fingerprint();
    }

    /// Empties a row (its product was deleted).
    pub fn clear(&mut self, row: u32) {
        let r = row as usize;
        if r >= self.rows {
            return;
        }
        self.names.set(r, "");
        self.images.set(r, "");
        self.fingerprints[r] = 0;
    }

    /// The card at a row, under the product id the index gives it.
    pub fn card<'a>(&'a self, row: u32, id: &'a str) -> Card<'a> {
        Card {
            cards: self,
            row: row as usize,
            id,
        }
    }

    /// Attribute field `f`'s value at a row, if it has one.
    fn value(&self, f: usize, row: usize) -> Option<&str> {
        let code = self.codes[f][row];
        (code != NONE).then(|| self.values[f].get(code))
    }

    /// The name of the product at a row (empty past the end).
    pub fn name(&self, row: u32) -> &str {
        self.names.get(row as usize)
    }

    /// The length in bytes of the name of the product at a row.
    pub fn name_len(&self, row: u32) -> usize {
        self.names.len_of(row as usize)
    }

    /// The fingerprint of the product at a row.
    pub fn fingerprint(&self, row: u32) -> u64 {
        self.fingerprints.get(row as usize).copied().unwrap_or(0)
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        use crate::heap::{string, vec, vecs};
        let fields: usize = self
            .fields
            .iter()
            .chain(&self.number_fields)
            .map(|f| string(f))
            .sum();
        self.names.heap_bytes()
            + self.images.heap_bytes()
            + vec(&self.prices)
            + self.in_stock.heap_bytes()
            + vec(&self.fields)
            + vec(&self.number_fields)
            + fields
            + vec(&self.values)
            + self.values.iter().map(Interned::heap_bytes).sum::<usize>()
            + vecs(&self.codes)
            + vecs(&self.numbers)
            + vec(&self.fingerprints)
    }

    /// Bytes of names and images replaced or deleted since the cards were built.
    pub fn garbage(&self) -> usize {
        self.names.garbage() + self.images.garbage()
    }

    /// Moves every row's card to its new row: `order[new] = old` (the index
    /// moved its rows the same way).
    pub fn permute(&mut self, order: &[u32]) {
        self.names.permute(order);
        self.images.permute(order);
        self.prices = permuted(&self.prices, order, f64::NAN);
        self.in_stock = order
            .iter()
            .enumerate()
            .filter(|&(_, &old)| self.in_stock.contains(old))
            .map(|(new, _)| new as u32)
            .collect();
        for column in &mut self.codes {
            *column = permuted(column, order, NONE);
        }
        for column in &mut self.numbers {
            *column = permuted(column, order, f64::NAN);
        }
        self.fingerprints = permuted(&self.fingerprints, order, 0);
        self.rows = order.len();
    }

    /// Gives back spare capacity (after a build).
    pub fn shrink(&mut self) {
        self.names.shrink();
        self.images.shrink();
        self.prices.shrink_to_fit();
        self.codes.iter_mut().for_each(Vec::shrink_to_fit);
        self.numbers.iter_mut().for_each(Vec::shrink_to_fit);
        self.fingerprints.shrink_to_fit();
    }
}

/// `values` with every row moved to its new row (`order[new] = old`).
pub(crate) fn permuted<T: Copy>(values: &[T], order: &[u32], missing: T) -> Vec<T> {
    order
        .iter()
        .map(|&old| values.get(old as usize).copied().unwrap_or(missing))
        .collect()
}

/// One product's card: a view into [`Cards`], cheap to copy.
#[derive(Clone, Copy)]
pub struct Card<'a> {
    cards: &'a Cards,
    row: usize,
    id: &'a str,
}

impl std::fmt::Debug for Card<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Card")
            .field("id", &self.id)
            .field("name", &self.name())
            .finish()
    }
}

impl<'a> Card<'a> {
    /// The merchant's id.
    pub fn id(&self) -> &'a str {
        self.id
    }

    /// The display name.
    pub fn name(&self) -> &'a str {
        self.cards.names.get(self.row)
    }

    /// The image URL, when there is one.
    pub fn image(&self) -> Option<&'a str> {
        Some(self.cards.images.get(self.row)).filter(|s| !s.is_empty())
    }

    /// The price, when there is one.
    pub fn price(&self) -> Option<f64> {
        Some(self.cards.prices[self.row]).filter(|p| !p.is_nan())
    }

    /// Whether it can be bought now.
    pub fn in_stock(&self) -> bool {
        self.cards.in_stock.contains(self.row as u32)
    }

    /// A text or categorical attribute.
    pub fn attribute(&self, field: &str) -> Option<&'a str> {
        let f = self.cards.fields.iter().position(|x| x == field)?;
        self.value(f)
    }

    fn value(&self, f: usize) -> Option<&'a str> {
        self.cards.value(f, self.row)
    }

    /// Every attribute as (field, value), by field name — the order of
    /// [`Card::attributes`] — without copying either.
    pub fn attributes_by_name(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let cards = self.cards;
        let row = self.row;
        let by_name = cards.by_name.get_or_init(|| {
            let mut order: Vec<usize> = (0..cards.fields.len()).collect();
            order.sort_by(|&a, &b| cards.fields[a].cmp(&cards.fields[b]));
            order
        });
        by_name
            .iter()
            .filter_map(move |&f| Some((cards.fields[f].as_str(), cards.value(f, row)?)))
    }

    /// Every attribute, by field name.
    pub fn attributes(&self) -> BTreeMap<String, String> {
        (0..self.cards.fields.len())
            .filter_map(|f| Some((self.cards.fields[f].clone(), self.value(f)?.to_owned())))
            .collect()
    }

    /// A numeric attribute.
    pub fn number(&self, field: &str) -> Option<f64> {
        let f = self.cards.number_fields.iter().position(|x| x == field)?;
        Some(self.cards.numbers[f][self.row]).filter(|v| !v.is_nan())
    }

    /// The product as stored, less its vectors (which only storage keeps).
    pub fn to_product(&self) -> Product {
        Product {
            id: self.id.to_owned(),
            name: self.name().to_owned(),
            price: self.price(),
            image: self.image().map(str::to_owned),
            in_stock: self.in_stock(),
            attributes: self.attributes(),
            numbers: (0..self.cards.number_fields.len())
                .filter_map(|f| {
                    let v = self.cards.numbers[f][self.row];
                    (!v.is_nan()).then(|| (self.cards.number_fields[f].clone(), v))
                })
                .collect(),
            vectors: BTreeMap::new(),
        }
    }
}

impl Described for Card<'_> {
    fn id(&self) -> &str {
        self.id
    }
    fn name(&self) -> &str {
        Card::name(self)
    }
    fn price(&self) -> Option<f64> {
        Card::price(self)
    }
    fn in_stock(&self) -> bool {
        Card::in_stock(self)
    }
    fn attribute(&self, field: &str) -> Option<&str> {
        Card::attribute(self, field)
    }
    fn number(&self, field: &str) -> Option<f64> {
        Card::number(self, field)
    }
    fn vector(&self, _field: &str) -> Option<&[f32]> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_reads_back_the_product_less_its_vectors() {
        let mut product = Product::new("7", "Blue Shirt")
            .with_attribute("colour", "Blue")
            .with_attribute("type", "Shirt")
            .with_number("year", 2012.0);
        product.price = Some(19.99);
        product.image = Some("https://img.example/7.jpg".into());
        product.in_stock = false;
        let mut cards = Cards::default();
        cards.put(
            0,
            &Product::new("1", "Red Shirt").with_attribute("colour", "Red"),
        );
        cards.put(3, &product);
        assert_eq!(cards.card(3, "7").to_product(), product);
        assert_eq!(cards.card(0, "1").attribute("type"), None);
        assert_eq!(cards.card(3, "7").attribute("colour"), Some("Blue"));
        let by_name: Vec<(&str, &str)> = cards.card(3, "7").attributes_by_name().collect();
        assert_eq!(by_name, [("colour", "Blue"), ("type", "Shirt")]);
        let copied = cards.card(3, "7").attributes();
        assert!(by_name
            .iter()
            .copied()
            .eq(copied.iter().map(|(f, v)| (f.as_str(), v.as_str()))));
        assert_eq!(cards.fingerprint(3), product.fingerprint());
        product.vectors.insert("img".into(), vec![1.0, 2.0]);
        assert_ne!(
            cards.fingerprint(3),
            product.fingerprint(),
            "the fingerprint covers vectors, which the card does not keep"
        );
    }

    #[test]
    fn attributes_by_name_are_in_name_order_whatever_order_the_fields_came_in() {
        let mut cards = Cards::default();
        cards.put(0, &Product::new("1", "A").with_attribute("type", "Shirt"));
        cards.put(
            1,
            &Product::new("2", "B")
                .with_attribute("colour", "Red")
                .with_attribute("type", "Top")
                .with_attribute("usage", "Casual"),
        );
        let by_name: Vec<(&str, &str)> = cards.card(1, "2").attributes_by_name().collect();
        assert_eq!(
            by_name,
            [("colour", "Red"), ("type", "Top"), ("usage", "Casual")]
        );
        cards.put(2, &Product::new("3", "C").with_attribute("brand", "X"));
        let first: Vec<(&str, &str)> = cards.card(0, "1").attributes_by_name().collect();
        assert_eq!(first, [("type", "Shirt")], "a row without a field skips it");
        let third: Vec<(&str, &str)> = cards.card(2, "3").attributes_by_name().collect();
        assert_eq!(third, [("brand", "X")], "a field added later is listed too");
    }

    #[test]
    fn a_card_written_again_drops_the_attributes_it_no_longer_has() {
        let mut cards = Cards::default();
        cards.put(
            0,
            &Product::new("1", "A")
                .with_attribute("colour", "Red")
                .with_number("year", 1.0),
        );
        cards.put(0, &Product::new("1", "B"));
        let card = cards.card(0, "1");
        assert_eq!(
            (card.name(), card.attribute("colour"), card.number("year")),
            ("B", None, None)
        );
    }
}

//! Views: each way of looking at a product (its words, its categories, its
//! numbers, a merchant's vector) becomes a normalized vector. The index keeps
//! the views side by side; the per-view cosine is one slice away, and the
//! weighted similarity is one dot product with a weighted query.
//!
//! Dense views (text, numeric, vector) are stored as numbers. A categorical
//! view is a one-hot vector, stored as one code per field: the dot product
//! with a one-hot vector is a table look-up, exact and far smaller.

mod categorical;
mod numeric;
mod text;

use std::ops::Range;

use serde::{Deserialize, Serialize};

pub use categorical::Dictionary;
use numeric::NumericEncoder;
use text::TextEncoder;

use crate::mapping::{Mapping, ViewSpec};
use crate::product::Described;
#[cfg(test)]
use crate::product::Product;

/// How a view turns fields into a vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ViewKind {
    /// TF-IDF over words and character trigrams, hashed to a fixed dimension.
    Text,
    /// One-hot per field (a product matches on each field it shares).
    Categorical,
    /// Overlapping buckets on a (log) scale per field.
    Numeric,
    /// The merchant's own vector, normalized.
    Vector,
}

/// What one view's layout, spec and encoder hold beside what grows with
/// the catalog (names, field lists, ranges), about.
const SHAPE_BYTES: usize = 256;

/// Dense slices are padded to a multiple of this, so kernels work in whole chunks.
pub const LANES: usize = 16;

/// Where one view lives in the product vector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ViewLayout {
    /// The view's name.
    pub name: String,
    /// Its kind.
    pub kind: ViewKind,
    /// Its slice of the dense part (empty for categorical views).
    pub dense: Range<usize>,
    /// Its categorical fields (indices into [`Layout::fields`]; empty for dense views).
    pub fields: Range<usize>,
}

/// The shape of every product vector in a store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Layout {
    /// The views, in mapping order.
    pub views: Vec<ViewLayout>,
    /// Categorical fields, each with the view it belongs to.
    pub fields: Vec<(String, usize)>,
    /// Length of the dense part (a multiple of [`LANES`]).
    pub dense_dim: usize,
}

impl Layout {
    /// The index of a view by name.
    pub fn view(&self, name: &str) -> Option<usize> {
        self.views.iter().position(|v| v.name == name)
    }

    /// How much one matching field adds to a categorical view's cosine.
    pub fn field_share(&self, view: usize) -> f32 {
        let n = self.views[view].fields.len().max(1);
        1.0 / n as f32
    }
}

/// A product as the index sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Encoded {
    /// The dense part, each view's slice of unit length (or zero when the product lacks it).
    pub dense: Vec<f32>,
    /// One code per categorical field ([`MISSING`] when the product has no value).
    pub codes: Vec<u32>,
}

/// The code of a categorical field a product has no value for.
pub const MISSING: u32 = u32::MAX;

#[derive(Clone, Serialize, Deserialize)]
enum ViewEncoder {
    Text(TextEncoder),
    Categorical,
    Numeric(NumericEncoder),
    Vector { field: String, dim: usize },
}

/// Turns products into vectors; fitted once on a catalog (TF-IDF weights,
/// numeric ranges, category dictionaries) and then used for every upsert.
#[derive(Clone, Serialize, Deserialize)]
pub struct Encoder {
    layout: Layout,
    specs: Vec<ViewSpec>,
    encoders: Vec<ViewEncoder>,
    dictionaries: Vec<Dictionary>,
    name_field: String,
    price_field: Option<String>,
}

fn padded(dim: usize) -> usize {
    dim.div_ceil(LANES) * LANES
}

/// The dense dimensions a view will take in the index (padded), before any
/// product is seen; a vector view without `dim` counts at `vector_dim`.
pub fn planned_dim(spec: &ViewSpec, vector_dim: usize) -> usize {
    match spec.kind {
        ViewKind::Text => padded(spec.dim.unwrap_or(128)),
        ViewKind::Categorical => 0,
        ViewKind::Numeric => spec.fields.len() * numeric::BUCKETS,
        ViewKind::Vector => padded(spec.dim.unwrap_or(vector_dim)),
    }
}

impl Encoder {
    /// Fits the views of `mapping` on a catalog.
    pub fn fit<P: Described>(
        mapping: &Mapping,
        products: impl Iterator<Item = P> + Clone + Sync,
    ) -> Self {
        let name_field = mapping.fields.name.clone();
        let price_field = mapping.fields.price.clone();
        let mut views = Vec::new();
        let mut fields = Vec::new();
        let mut encoders = Vec::new();
        let mut dense_dim = 0;
        for (v, spec) in mapping.views.iter().enumerate() {
            let (encoder, dim) = match spec.kind {
                ViewKind::Text => {
                    let dim = padded(spec.dim.unwrap_or(128));
                    let text = TextEncoder::fit(&spec.fields, &name_field, dim, products.clone());
                    (ViewEncoder::Text(text), dim)
                }
                ViewKind::Categorical => (ViewEncoder::Categorical, 0),
                ViewKind::Numeric => {
                    let numeric = NumericEncoder::fit(&spec.fields, products.clone(), |p, f| {
                        number(p, f, price_field.as_deref())
                    });
                    let dim = numeric.dim();
                    (ViewEncoder::Numeric(numeric), dim)
                }
                ViewKind::Vector => {
                    let field = spec.fields[0].clone();
                    let dim = spec.dim.unwrap_or_else(|| {
                        products
                            .clone()
                            .find_map(|p| p.vector(&field).map(<[f32]>::len))
                            .unwrap_or(0)
                    });
                    (ViewEncoder::Vector { field, dim }, padded(dim))
                }
            };
            let field_range = if spec.kind == ViewKind::Categorical {
                let start = fields.len();
                fields.extend(spec.fields.iter().map(|f| (f.clone(), v)));
                start..fields.len()
            } else {
                fields.len()..fields.len()
            };
            views.push(ViewLayout {
                name: spec.name.clone(),
                kind: spec.kind,
                dense: dense_dim..dense_dim + dim,
                fields: field_range,
            });
            dense_dim += dim;
            encoders.push(encoder);
        }
        let mut counts: Vec<categorical::Counts> =
            fields.iter().map(|_| Default::default()).collect();
        for p in products.clone() {
            for ((field, _), counts) in fields.iter().zip(&mut counts) {
                if let Some(value) = p.attribute(field) {
                    counts.add(value);
                }
            }
        }
        let dictionaries = counts
            .into_iter()
            .map(categorical::Counts::into_dictionary)
            .collect();
        Encoder {
            layout: Layout {
                views,
                fields,
                dense_dim,
            },
            specs: mapping.views.clone(),
            encoders,
            dictionaries,
            name_field,
            price_field,
        }
    }

    /// The vector layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The view specs the encoder was fitted with.
    pub fn specs(&self) -> &[ViewSpec] {
        &self.specs
    }

    /// The dictionary of categorical field `i`.
    pub fn dictionary(&self, field: usize) -> &Dictionary {
        &self.dictionaries[field]
    }

    /// Bytes held on the heap: the dictionaries and the fitted text views
    /// (what grows with the catalog), plus the layout and view specs (a few
    /// small strings each) at a fixed 256 bytes a view.
    pub fn heap_bytes(&self) -> usize {
        let fitted: usize = self
            .encoders
            .iter()
            .map(|e| match e {
                ViewEncoder::Text(text) => text.heap_bytes(),
                _ => 0,
            })
            .sum();
        let dictionaries: usize = self.dictionaries.iter().map(Dictionary::heap_bytes).sum();
        fitted + dictionaries + SHAPE_BYTES * self.specs.len()
    }

    /// Encodes a product; categorical values never seen before get new codes.
    pub fn encode(&mut self, product: &impl Described) -> Encoded {
        let mut encoded = self.encode_dense(product);
        encoded.codes = self.encode_codes(product);
        encoded
    }

    /// The categorical part of [`Encoder::encode`]: one code per field,
    /// values never seen before getting new codes.
    pub(crate) fn encode_codes(&mut self, product: &impl Described) -> Vec<u32> {
        let mut codes = Vec::with_capacity(self.layout.fields.len());
        self.encode_codes_into(product, &mut codes);
        codes
    }

    /// [`Encoder::encode_codes`] into `codes` (emptied first).
    pub(crate) fn encode_codes_into(&mut self, product: &impl Described, codes: &mut Vec<u32>) {
        codes.clear();
        codes.extend(self.layout.fields.iter().zip(&mut self.dictionaries).map(
            |((field, _), dict)| {
                product
                    .attribute(field)
                    .map_or(MISSING, |value| dict.code_or_insert(value))
            },
        ));
    }

    /// Encodes a product whose categorical values the dictionaries already
    /// hold (a product of the catalog the encoder was fitted on); a value
    /// they do not hold is coded as missing. Takes `&self`, so rows can be
    /// encoded side by side.
    pub fn encode_known(&self, product: &impl Described) -> Encoded {
        let mut encoded = self.encode_dense(product);
        encoded.codes = self
            .layout
            .fields
            .iter()
            .zip(&self.dictionaries)
            .map(|((field, _), dict)| {
                product
                    .attribute(field)
                    .and_then(|value| dict.code(value))
                    .unwrap_or(MISSING)
            })
            .collect();
        encoded
    }

    /// The dense part of a product's encoding (its `codes` left empty).
    pub(crate) fn encode_dense(&self, product: &impl Described) -> Encoded {
        let mut dense = vec![0.0f32; self.layout.dense_dim];
        self.encode_dense_into(product, &mut dense);
        Encoded {
            dense,
            codes: Vec::new(),
        }
    }

    /// [`Encoder::encode_dense`] into `dense`, which must be zeros of the
    /// layout's dense length.
    pub(crate) fn encode_dense_into(&self, product: &impl Described, dense: &mut [f32]) {
        for (view, encoder) in self.layout.views.iter().zip(&self.encoders) {
            let out = &mut dense[view.dense.clone()];
            match encoder {
                ViewEncoder::Text(text) => text.encode(product, &self.name_field, out),
                ViewEncoder::Numeric(numeric) => {
                    numeric.encode(|f| number(product, f, self.price_field.as_deref()), out)
                }
                ViewEncoder::Vector { field, dim } => {
                    if let Some(v) = product.vector(field).filter(|v| v.len() == *dim) {
                        out[..*dim].copy_from_slice(v);
                        normalize(out);
                    }
                }
                ViewEncoder::Categorical => {}
            }
        }
    }
}

fn number(product: &impl Described, field: &str, price_field: Option<&str>) -> Option<f64> {
    if price_field == Some(field) {
        return product.price();
    }
    product.number(field)
}

/// Scales a slice to unit length (leaves a zero slice as it is).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::Mapping;

    fn mapping() -> Mapping {
        Mapping::from_toml(
            r#"
            [fields]
            id = "id"
            name = "name"
            categorical = ["colour", "type"]
            numeric = ["year"]
            [[views]]
            name = "words"
            kind = "text"
            fields = ["name"]
            dim = 20
            [[views]]
            name = "look"
            kind = "categorical"
            fields = ["colour", "type"]
            [[views]]
            name = "year"
            kind = "numeric"
            fields = ["year"]
            "#,
        )
        .unwrap()
    }

    fn catalog() -> Vec<Product> {
        vec![
            Product::new("1", "Blue Cotton Shirt")
                .with_attribute("colour", "Blue")
                .with_attribute("type", "Shirt")
                .with_number("year", 2011.0),
            Product::new("2", "Red Wool Sweater")
                .with_attribute("colour", "Red")
                .with_number("year", 2015.0),
        ]
    }

    #[test]
    fn dense_views_are_padded_and_unit_length() {
        let products = catalog();
        let mut encoder = Encoder::fit(&mapping(), products.iter());
        let layout = encoder.layout().clone();
        assert_eq!(layout.views[0].dense, 0..32);
        assert_eq!(layout.views[1].dense.len(), 0);
        assert_eq!(layout.views[1].fields, 0..2);
        assert_eq!(layout.dense_dim % LANES, 0);
        let e = encoder.encode(&products[0]);
        for view in [&layout.views[0], &layout.views[2]] {
            let norm: f32 = e.dense[view.dense.clone()].iter().map(|x| x * x).sum();
            assert!((norm - 1.0).abs() < 1e-5, "{} has norm {norm}", view.name);
        }
    }

    #[test]
    fn missing_and_new_categories_get_their_own_codes() {
        let products = catalog();
        let mut encoder = Encoder::fit(&mapping(), products.iter());
        let second = encoder.encode(&products[1]);
        assert_eq!(second.codes[1], MISSING);
        let green = encoder.encode(&Product::new("3", "x").with_attribute("colour", "Green"));
        assert_eq!(
            green.codes[0], 2,
            "a colour first seen after fitting gets the next code"
        );
        assert_eq!(encoder.dictionary(0).label(2), Some("Green"));
    }
}

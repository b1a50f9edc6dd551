//! The column mapping a merchant writes once: which input field is the id,
//! the name, the text, the categories, the numbers, and how the similarity
//! views are built from them (TOML).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::views::ViewKind;

/// What a catalog file's columns mean, and how products are compared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The input format; inferred from the file name when absent.
    #[serde(default)]
    pub format: Option<Format>,
    /// Values that mean "no value" (compared after trimming).
    #[serde(default = "default_missing")]
    pub missing: Vec<String>,
    /// Which input fields are which.
    pub fields: Fields,
    /// Side tables that turn a code column into a label (`aisle_id` → `aisle`).
    #[serde(default)]
    pub lookups: Vec<LookupSpec>,
    /// Attributes computed from other fields (`kind` = the name's last word).
    #[serde(default)]
    pub derived: Vec<DerivedSpec>,
    /// The similarity views; derived from `fields` when absent.
    #[serde(default)]
    pub views: Vec<ViewSpec>,
    /// Ground truth for simulated shoppers (`morelike eval`).
    #[serde(default)]
    pub eval: Option<EvalSpec>,
}

/// Input file formats the importer reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// One JSON array of objects.
    Json,
}

impl Format {
    /// Guesses the format from a file name's extension.
    pub fn from_file_name(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        let ext = lower.rsplit('.').next()?;
        match ext {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// Which input fields hold what.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fields {
    /// The product id (required).
    pub id: String,
    /// The display name (required).
    pub name: String,
    /// The price.
    #[serde(default)]
    pub price: Option<String>,
    /// An image URL.
    #[serde(default)]
    pub image: Option<String>,
    /// An image URL template with `{id}` (used when `image` is absent).
    #[serde(default)]
    pub image_template: Option<String>,
    /// The in-stock flag (`true`/`false`, `1`/`0`, `yes`/`no`).
    #[serde(default)]
    pub in_stock: Option<String>,
    /// Free-text fields (the name may be one of them).
    #[serde(default)]
    pub text: Vec<String>,
    /// Categorical fields (gender, type, colour, brand, aisle …).
    #[serde(default)]
    pub categorical: Vec<String>,
    /// Numeric fields (year, rating …); the price is added by `price`.
    #[serde(default)]
    pub numeric: Vec<String>,
    /// Merchant vectors: a JSON array, or numbers separated by spaces, commas or semicolons.
    #[serde(default)]
    pub vectors: Vec<String>,
}

/// A side table joined into each row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupSpec {
    /// The catalog field holding the code.
    pub field: String,
    /// The side table, a CSV file (relative to the mapping file).
    pub file: String,
    /// The side table's code column.
    pub key: String,
    /// The side table's label column.
    pub value: String,
    /// The attribute the label is stored as.
    pub into: String,
}

/// An attribute computed from another field of the same row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DerivedSpec {
    /// The attribute it is stored as (list it under `categorical` to use it in a view).
    pub into: String,
    /// The text field it is computed from (the name or a text field).
    pub from: String,
    /// What is taken from it.
    pub take: Take,
}

/// What a derived attribute takes from its field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Take {
    /// The last word, lower-cased ("Chocolate Sandwich Cookies" → "cookies"):
    /// in many grocery catalogs, what the product is.
    LastWord,
}

/// One similarity view.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewSpec {
    /// The view's name (`name`, `colour`, `price` …).
    pub name: String,
    /// How the fields become a vector.
    pub kind: ViewKind,
    /// The input fields the view reads.
    pub fields: Vec<String>,
    /// The view's weight in the similarity (≥ 0).
    #[serde(default = "one")]
    pub weight: f32,
    /// Dimension for text views (default 128) and vector views (checked).
    #[serde(default)]
    pub dim: Option<usize>,
}

fn one() -> f32 {
    1.0
}

/// Ground truth for simulated shoppers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalSpec {
    /// Three attributes, coarse to fine; `last_word:FIELD` takes the field's
    /// last word, lower-cased.
    pub truth: Vec<String>,
}

fn default_missing() -> Vec<String> {
    vec![
        String::new(),
        "NA".to_owned(),
        "N/A".to_owned(),
        "null".to_owned(),
    ]
}

/// The largest dimension of one text or vector view.
pub const MAX_DIM: usize = 4096;

/// A mapping that cannot be used, and what to change.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MappingError {
    /// The TOML does not parse or has unknown keys.
    #[error("mapping is not valid TOML: {0}")]
    Toml(String),
    /// A view reads a field the mapping does not declare.
    #[error("view '{view}' reads field '{field}', which is not declared under [fields] with a matching kind ({expected})")]
    UnknownViewField {
        /// The view.
        view: String,
        /// The field.
        field: String,
        /// Which list of `[fields]` it should be in.
        expected: &'static str,
    },
    /// Two views share a name.
    #[error("two views are named '{0}': view names must be unique")]
    DuplicateView(String),
    /// A weight is negative or not a number.
    #[error("view '{view}' has weight {weight}: weights must be finite and ≥ 0")]
    BadWeight {
        /// The view.
        view: String,
        /// The weight.
        weight: f32,
    },
    /// A dimension is out of range.
    #[error("view '{view}' has dim {dim}: use 1..=4096")]
    BadDim {
        /// The view.
        view: String,
        /// The dimension.
        dim: usize,
    },
    /// A view without fields.
    #[error("view '{0}' reads no fields")]
    EmptyView(String),
    /// No views at all.
    #[error("the mapping gives no field to compare products by: declare text, categorical, numeric or vector fields")]
    NoViews,
    /// A derived attribute computed from a field that is not text.
    #[error("derived attribute '{into}' is computed from '{from}', which is not the name or a text field")]
    BadDerivedSource {
        /// The derived attribute.
        into: String,
        /// The field it reads.
        from: String,
    },
    /// An image template that is not an http or https address.
    #[error("image_template '{0}' must start with http:// or https://")]
    BadImageTemplate(String),
    /// The eval truth is not three attributes.
    #[error("[eval] truth must name exactly three attributes, coarse to fine; got {0}")]
    BadTruth(usize),
}

impl Mapping {
    /// Parses and checks a TOML mapping; fills in default views.
    pub fn from_toml(text: &str) -> Result<Mapping, MappingError> {
        let mut mapping: Mapping =
            toml::from_str(text).map_err(|e| MappingError::Toml(e.to_string()))?;
        mapping.complete()?;
        Ok(mapping)
    }

    /// Checks the mapping and derives default views when none are given.
    pub fn complete(&mut self) -> Result<(), MappingError> {
        if self.views.is_empty() {
            self.views = self.default_views();
        }
        if self.views.is_empty() {
            return Err(MappingError::NoViews);
        }
        let mut names = BTreeSet::new();
        for view in &self.views {
            if !names.insert(view.name.clone()) {
                return Err(MappingError::DuplicateView(view.name.clone()));
            }
            if !(view.weight.is_finite() && view.weight >= 0.0) {
                return Err(MappingError::BadWeight {
                    view: view.name.clone(),
                    weight: view.weight,
                });
            }
            if let Some(dim) = view.dim {
                if dim == 0 || dim > MAX_DIM {
                    return Err(MappingError::BadDim {
                        view: view.name.clone(),
                        dim,
                    });
                }
            }
            if view.fields.is_empty() {
                return Err(MappingError::EmptyView(view.name.clone()));
            }
            for field in &view.fields {
                let (known, expected) = match view.kind {
                    ViewKind::Text => (self.is_text(field), "text"),
                    ViewKind::Categorical => (self.is_categorical(field), "categorical"),
                    ViewKind::Numeric => (self.is_numeric(field), "numeric or price"),
                    ViewKind::Vector => (self.fields.vectors.contains(field), "vectors"),
                };
                if !known {
                    return Err(MappingError::UnknownViewField {
                        view: view.name.clone(),
                        field: field.clone(),
                        expected,
                    });
                }
            }
        }
        if let Some(template) = &self.fields.image_template {
            if !crate::import::is_web_url(template) {
                return Err(MappingError::BadImageTemplate(template.clone()));
            }
        }
        for d in &self.derived {
            if !self.is_text(&d.from) {
                return Err(MappingError::BadDerivedSource {
                    into: d.into.clone(),
                    from: d.from.clone(),
                });
            }
        }
        if let Some(eval) = &self.eval {
            if eval.truth.len() != 3 {
                return Err(MappingError::BadTruth(eval.truth.len()));
            }
        }
        Ok(())
    }

    fn is_text(&self, field: &str) -> bool {
        self.fields.text.iter().any(|f| f == field) || field == self.fields.name
    }

    fn is_categorical(&self, field: &str) -> bool {
        self.fields.categorical.iter().any(|f| f == field)
    }

    fn is_numeric(&self, field: &str) -> bool {
        self.fields.numeric.iter().any(|f| f == field)
            || self.fields.price.as_deref() == Some(field)
    }

    /// One text view over the text fields, one view per categorical field,
    /// one numeric view, one view per merchant vector.
    fn default_views(&self) -> Vec<ViewSpec> {
        let mut views = Vec::new();
        let view = |name: &str, kind, fields: Vec<String>| ViewSpec {
            name: name.to_owned(),
            kind,
            fields,
            weight: 1.0,
            dim: None,
        };
        let text = if self.fields.text.is_empty() {
            vec![self.fields.name.clone()]
        } else {
            self.fields.text.clone()
        };
        views.push(view("text", ViewKind::Text, text));
        for field in &self.fields.categorical {
            views.push(view(field, ViewKind::Categorical, vec![field.clone()]));
        }
        let mut numeric = self.fields.numeric.clone();
        numeric.extend(self.fields.price.clone());
        if !numeric.is_empty() {
            views.push(view("numbers", ViewKind::Numeric, numeric));
        }
        for field in &self.fields.vectors {
            views.push(view(field, ViewKind::Vector, vec![field.clone()]));
        }
        views
    }

    /// The dense dimensions the views will take in the index, known before
    /// any product is read: a vector view without `dim` counts at
    /// `vector_dim`, the most numbers a row may bring.
    pub fn dense_dims(&self, vector_dim: usize) -> usize {
        self.views
            .iter()
            .map(|v| crate::views::planned_dim(v, vector_dim))
            .sum()
    }

    /// Every input field the mapping reads from a row.
    pub fn input_fields(&self) -> BTreeSet<&str> {
        let f = &self.fields;
        let mut all: BTreeSet<&str> = [f.id.as_str(), f.name.as_str()].into();
        for opt in [&f.price, &f.image, &f.in_stock].into_iter().flatten() {
            all.insert(opt);
        }
        for list in [&f.text, &f.numeric, &f.vectors] {
            all.extend(list.iter().map(String::as_str));
        }
        let produced: BTreeSet<&str> = self
            .lookups
            .iter()
            .map(|l| l.into.as_str())
            .chain(self.derived.iter().map(|d| d.into.as_str()))
            .collect();
        all.extend(
            f.categorical
                .iter()
                .map(String::as_str)
                .filter(|c| !produced.contains(c)),
        );
        all.extend(self.lookups.iter().map(|l| l.field.as_str()));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        [fields]
        id = "sku"
        name = "title"
        categorical = ["colour"]
        numeric = ["year"]
        price = "price"
    "#;

    #[test]
    fn default_views_cover_every_declared_field() {
        let mapping = Mapping::from_toml(MINIMAL).unwrap();
        let names: Vec<_> = mapping.views.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["text", "colour", "numbers"]);
        assert_eq!(mapping.views[2].fields, ["year", "price"]);
    }

    #[test]
    fn view_reading_an_undeclared_field_is_refused_with_the_field_named() {
        let text = format!(
            "{MINIMAL}\n[[views]]\nname = \"c\"\nkind = \"categorical\"\nfields = [\"brand\"]\n"
        );
        let err = Mapping::from_toml(&text).unwrap_err();
        assert!(err.to_string().contains("'brand'"), "{err}");
    }

    #[test]
    fn negative_weight_is_refused() {
        let text = format!(
            "{MINIMAL}\n[[views]]\nname = \"c\"\nkind = \"categorical\"\nfields = [\"colour\"]\nweight = -1\n"
        );
        assert!(matches!(
            Mapping::from_toml(&text),
            Err(MappingError::BadWeight { .. })
        ));
    }

    #[test]
    fn a_derived_attribute_must_read_a_text_field() {
        let text = format!(
            "{MINIMAL}\n[[derived]]\ninto = \"kind\"\nfrom = \"year\"\ntake = \"last_word\"\n"
        );
        let err = Mapping::from_toml(&text).unwrap_err();
        assert!(err.to_string().contains("'year'"), "{err}");
        let ok = format!(
            "{MINIMAL}\n[[derived]]\ninto = \"kind\"\nfrom = \"title\"\ntake = \"last_word\"\n"
        );
        assert!(Mapping::from_toml(&ok).is_ok());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = Mapping::from_toml("[fields]\nid='a'\nname='b'\ncolour='c'\n").unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
    }

    #[test]
    fn format_is_inferred_from_the_extension() {
        assert_eq!(Format::from_file_name("a/b.CSV"), Some(Format::Csv));
        assert_eq!(Format::from_file_name("x.ndjson"), Some(Format::Jsonl));
        assert_eq!(Format::from_file_name("x.txt"), None);
    }
}

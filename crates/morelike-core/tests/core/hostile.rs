//! Hostile input, generated: the CSV, JSON Lines and JSON importers and the
//! mapping parser never panic on any input, account for every row, and
//! never let through a product over a field limit, a number that does not
//! fit, or an image that is not an http(s) URL. Each property runs a fixed
//! number of cases, so the suite's time stays bounded.

use morelike_core::import::{FieldLimits, Importer};
use morelike_core::{Format, Mapping, Product};
use proptest::prelude::*;

const MAPPING: &str = r#"
[fields]
id = "id"
name = "name"
price = "price"
image = "image"
in_stock = "stock"
text = ["name", "blurb"]
categorical = ["colour"]
numeric = ["year"]
vectors = ["emb"]
"#;

fn mapping() -> Mapping {
    Mapping::from_toml(MAPPING).unwrap()
}

/// Small limits, so generated values cross them often.
const LIMITS: FieldLimits = FieldLimits {
    id_bytes: 12,
    name_bytes: 24,
    text_bytes: 32,
    image_url_bytes: 40,
    vector_dim: 4,
};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Every product that came through holds to the limits and the rules.
fn holds_to_the_rules(p: &Product) {
    assert!(
        !p.id.is_empty() && p.id.len() <= LIMITS.id_bytes,
        "{:?}",
        p.id
    );
    assert!(
        p.name.len() <= LIMITS.name_bytes || p.name.is_empty(),
        "{:?}",
        p.name
    );
    for v in p.attributes.values() {
        assert!(v.len() <= LIMITS.text_bytes, "{v:?}");
    }
    if let Some(image) = &p.image {
        let lower = image.to_ascii_lowercase();
        assert!(
            lower.starts_with("http://") || lower.starts_with("https://"),
            "{image}"
        );
        assert!(image.len() <= LIMITS.image_url_bytes);
    }
    assert!(p.price.is_none_or(|x| x.is_finite() && x >= 0.0));
    assert!(p.numbers.values().all(|x| x.is_finite()));
    for v in p.vectors.values() {
        assert!(v.len() <= LIMITS.vector_dim);
        assert!(v.iter().all(|x| x.is_finite()), "{v:?}");
    }
    // A stored product must serialize and read back (a NaN would not).
    let json = serde_json::to_string(p).unwrap();
    let back: Product = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, p);
}

fn import(format: Format, input: &[u8]) -> Option<Vec<Product>> {
    let mapping = mapping();
    let (products, report) = Importer::new(&mapping, &[])
        .with_limits(LIMITS)
        .read_all(format, input)
        .ok()?;
    assert_eq!(report.rows, report.imported + report.rejected, "{report:?}");
    assert_eq!(products.len() as u64, report.imported, "{report:?}");
    for p in &products {
        holds_to_the_rules(p);
    }
    Some(products)
}

/// Field values a hostile catalog holds: markup, script URLs, huge and
/// tiny numbers, control characters, long strings, empty ones.
fn nasty_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("<img src=x onerror=alert(1)>".to_owned()),
        Just("javascript:alert(1)".to_owned()),
        Just("JaVaScRiPt:alert(1)".to_owned()),
        Just("data:text/html,<script>alert(1)</script>".to_owned()),
        Just("https://cdn.example/a.jpg".to_owned()),
        Just("1e300".to_owned()),
        Just("-1e39".to_owned()),
        Just("NaN".to_owned()),
        Just("inf".to_owned()),
        Just("[1e300, 2, 3]".to_owned()),
        Just("1 2 3 4 5".to_owned()),
        Just("0.5;0.25".to_owned()),
        Just("yes".to_owned()),
        Just("\u{0}\u{7}\u{202e}".to_owned()),
        "[a-z ]{0,40}",
        "\\PC{0,12}",
        (0usize..200).prop_map(|n| "x".repeat(n)),
    ]
}

fn csv_field(value: &str) -> String {
    format!("\"{}\"", value.replace('"', "\"\""))
}

#[test]
fn a_json_price_survives_storage_exactly() {
    // Found by the properties below: without serde_json's exact float
    // parsing, 5.466234955696e256 came back as 5.4662349556959996e256, so a
    // re-import saw every such product as changed.
    let products = import(
        Format::Jsonl,
        br#"{"id": "p", "name": "Price", "price": 5.466234955696e256}"#,
    )
    .unwrap();
    assert_eq!(products[0].price, Some(5.466234955696e256));
}

proptest! {
    #![proptest_config(config(384))]

    #[test]
    fn csv_rows_of_hostile_values_are_accounted_for_and_never_break_a_rule(
        rows in prop::collection::vec(prop::collection::vec(nasty_value(), 9), 0..12),
        raw_tail in "\\PC{0,40}",
    ) {
        let mut csv = String::from("id,name,price,image,stock,blurb,colour,year,emb\n");
        for row in &rows {
            let fields: Vec<String> = row.iter().map(|v| csv_field(v)).collect();
            csv.push_str(&fields.join(","));
            csv.push('\n');
        }
        csv.push_str(&raw_tail);
        import(Format::Csv, csv.as_bytes()).expect("a CSV with its header always imports");
    }

    #[test]
    fn json_lines_of_hostile_values_are_accounted_for_and_never_break_a_rule(
        rows in prop::collection::vec(prop::collection::vec(nasty_value(), 9), 0..12),
        numbers in prop::collection::vec(prop::num::f64::ANY, 0..6),
    ) {
        let names = ["id", "name", "price", "image", "stock", "blurb", "colour", "year", "emb"];
        let mut lines = Vec::new();
        for row in &rows {
            let object: serde_json::Map<String, serde_json::Value> = names
                .iter()
                .zip(row)
                .map(|(n, v)| ((*n).to_owned(), serde_json::Value::String(v.clone())))
                .collect();
            lines.push(serde_json::Value::Object(object).to_string());
        }
        let finite: Vec<serde_json::Value> = numbers
            .iter()
            .filter_map(|n| serde_json::Number::from_f64(*n).map(serde_json::Value::Number))
            .collect();
        lines.push(serde_json::json!({"id": "v", "name": "Vector", "emb": finite}).to_string());
        lines.push(serde_json::json!({"id": "p", "name": "Price", "price": finite.first()}).to_string());
        import(Format::Jsonl, lines.join("\n").as_bytes()).expect("JSON Lines always import");
    }

    #[test]
    fn any_bytes_as_any_format_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..400),
        format in prop_oneof![Just(Format::Csv), Just(Format::Jsonl), Just(Format::Json)],
    ) {
        let _ = import(format, &bytes);
    }

    #[test]
    fn json_arrays_of_any_values_never_panic_and_never_break_a_rule(
        items in prop::collection::vec(
            prop_oneof![
                Just(serde_json::json!(null)),
                Just(serde_json::json!([1, 2])),
                Just(serde_json::json!({"id": {"nested": true}, "name": "n"})),
                Just(serde_json::json!({"id": "a", "name": "A", "emb": [1e300, 1, 1]})),
                Just(serde_json::json!({"id": "b", "name": "B", "emb": [1, "x"]})),
                Just(serde_json::json!({"id": "c", "name": "C", "price": -3})),
                Just(serde_json::json!({"id": "d", "name": "D", "image": "javascript:alert(1)"})),
                Just(serde_json::json!({"id": "e", "name": "E", "stock": "maybe"})),
                nasty_value().prop_map(|v| serde_json::json!({"id": v.clone(), "name": v.clone(), "blurb": v})),
            ],
            0..10,
        ),
    ) {
        let text = serde_json::Value::Array(items).to_string();
        import(Format::Json, text.as_bytes()).expect("a JSON array always imports");
    }

    #[test]
    fn any_text_as_a_mapping_is_refused_or_sound(text in "\\PC{0,200}") {
        if let Ok(m) = Mapping::from_toml(&text) {
            sound(&m);
        }
    }

    #[test]
    fn mappings_pieced_from_hostile_parts_are_refused_or_sound(
        parts in prop::collection::vec(
            prop_oneof![
                Just("[[views]]\nname = \"t\"\nkind = \"text\"\nfields = [\"name\"]\n".to_owned()),
                Just("[[views]]\nname = \"t\"\nkind = \"text\"\nfields = [\"name\"]\ndim = 0\n".to_owned()),
                Just("[[views]]\nname = \"v\"\nkind = \"vector\"\nfields = [\"emb\"]\ndim = 99999\n".to_owned()),
                Just("[[views]]\nname = \"c\"\nkind = \"categorical\"\nfields = [\"nope\"]\n".to_owned()),
                Just("[[views]]\nname = \"c\"\nkind = \"categorical\"\nfields = [\"colour\"]\nweight = -1\n".to_owned()),
                Just("[[views]]\nname = \"c\"\nkind = \"categorical\"\nfields = [\"colour\"]\nweight = nan\n".to_owned()),
                Just("[[views]]\nname = \"e\"\nkind = \"vector\"\nfields = []\n".to_owned()),
                Just("[[derived]]\ninto = \"k\"\nfrom = \"year\"\ntake = \"last_word\"\n".to_owned()),
                Just("[eval]\ntruth = [\"a\"]\n".to_owned()),
                (1usize..5000).prop_map(|d| format!("[[views]]\nname = \"w{d}\"\nkind = \"text\"\nfields = [\"name\"]\ndim = {d}\n")),
            ],
            0..6,
        ),
        template in prop_oneof![
            Just(None),
            Just(Some("https://cdn.example/{id}.jpg")),
            Just(Some("javascript:alert('{id}')")),
        ],
    ) {
        let mut text = String::from("[fields]\nid = \"id\"\nname = \"name\"\ncategorical = [\"colour\"]\nnumeric = [\"year\"]\nvectors = [\"emb\"]\n");
        if let Some(t) = template {
            text = text.replace("vectors", &format!("image_template = \"{t}\"\nvectors"));
        }
        for p in &parts {
            text.push_str(p);
        }
        if let Ok(m) = Mapping::from_toml(&text) {
            sound(&m);
            prop_assert!(m.dense_dims(4096) <= m.views.len() * 4096 + 16 * m.views.len());
        }
    }
}

/// What every accepted mapping promises.
fn sound(m: &Mapping) {
    assert!(!m.views.is_empty());
    for v in &m.views {
        assert!(v.weight.is_finite() && v.weight >= 0.0, "{v:?}");
        assert!(v.dim.is_none_or(|d| (1..=4096).contains(&d)), "{v:?}");
        assert!(!v.fields.is_empty(), "{v:?}");
    }
    if let Some(t) = &m.fields.image_template {
        assert!(t.starts_with("http://") || t.starts_with("https://"), "{t}");
    }
}

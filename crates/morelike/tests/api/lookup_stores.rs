//! A store whose mapping joins lookup tables (as examples/instacart.toml
//! does) takes HTTP uploads of files that already carry the joined columns.

use std::path::Path;

use morelike::store::Embedded;
use morelike_core::Format;
use serde_json::json;
use tempfile::TempDir;

use crate::helpers::{config, ids, TestApp, ADMIN};

const MAPPING: &str = r#"
[fields]
id = "product_id"
name = "product_name"
text = ["product_name"]
categorical = ["department", "aisle"]

[[lookups]]
field = "department_id"
file = "departments.csv"
key = "department_id"
value = "department"
into = "department"

[[lookups]]
field = "aisle_id"
file = "aisles.csv"
key = "aisle_id"
value = "aisle"
into = "aisle"
"#;

/// A data directory with the store `groceries` imported as `morelike
/// import` does it: codes in the file, labels from the side tables.
fn groceries() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("catalog");
    std::fs::create_dir(&files).unwrap();
    std::fs::write(files.join("groceries.toml"), MAPPING).unwrap();
    std::fs::write(
        files.join("departments.csv"),
        "department_id,department\n19,snacks\n16,dairy eggs\n",
    )
    .unwrap();
    std::fs::write(
        files.join("aisles.csv"),
        "aisle_id,aisle\n61,cookies cakes\n84,milk\n",
    )
    .unwrap();
    let products = "product_id,product_name,aisle_id,department_id\n\
        1,Chocolate Sandwich Cookies,61,19\n\
        2,Oatmeal Raisin Cookies,61,19\n\
        3,Whole Milk,84,16\n\
        4,Skim Milk,84,16\n";
    let (mapping, lookups) =
        morelike::catalogs::read_mapping(&files.join("groceries.toml")).unwrap();
    let storage = Embedded::open(&dir.path().join("data")).unwrap();
    morelike::catalogs::import(
        &storage,
        "groceries",
        &mapping,
        &lookups,
        Format::Csv,
        products.as_bytes(),
    )
    .unwrap();
    dir
}

async fn start(dir: &Path) -> TestApp {
    TestApp::start(config(&dir.join("data"))).await
}

async fn upload(app: &TestApp, csv: &str) -> (u16, serde_json::Value) {
    app.http_as(
        ADMIN,
        "POST",
        "/v1/stores/groceries/products",
        Some(("text/csv", csv.to_owned())),
    )
    .await
}

#[tokio::test]
async fn an_upload_that_carries_the_joined_columns_is_imported_like_the_cli_import() {
    let dir = groceries();
    let app = start(dir.path()).await;

    // Product 1 again, joined: the very product the CLI stored.
    let joined = "product_id,product_name,aisle_id,department_id,aisle,department\n\
        1,Chocolate Sandwich Cookies,61,19,cookies cakes,snacks\n\
        5,Ginger Snaps,61,19,cookies cakes,snacks\n";
    let (status, report) = upload(&app, joined).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["rejected"], 0, "{report}");
    assert_eq!(report["unchanged"], 1, "{report}");
    assert_eq!(report["added"], 1, "{report}");

    let (status, product) = app
        .http_as(ADMIN, "GET", "/v1/stores/groceries/products/5", None)
        .await;
    assert_eq!(status, 200, "{product}");
    assert_eq!(product["attributes"]["aisle"], "cookies cakes");
    assert_eq!(product["attributes"]["department"], "snacks");
    assert_eq!(product["attributes"]["aisle_id"], "61");

    // The codes' columns may be left out: the labels are what pages use.
    let labels_only =
        "product_id,product_name,aisle,department\n6,Semi Skimmed Milk,milk,dairy eggs\n";
    let (status, report) = upload(&app, labels_only).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["added"], 1, "{report}");
    let (status, page) = app
        .http_as(
            ADMIN,
            "POST",
            "/v1/stores/groceries/sessions",
            Some((
                "application/json",
                json!({"seed": "3", "k": 10,
                    "filters": {"attributes": {"department": ["dairy eggs"]}}})
                .to_string(),
            )),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let mut shown = ids(&page);
    shown.sort();
    assert_eq!(shown, ["4", "6"], "{page}");
    app.stop().await;
}

#[tokio::test]
async fn an_upload_without_the_joined_columns_names_the_missing_ones() {
    let dir = groceries();
    let app = start(dir.path()).await;
    let codes_only =
        "product_id,product_name,aisle_id,department_id,department\n7,Shortbread,61,19,snacks\n";
    let (status, body) = upload(&app, codes_only).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "bad_import");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("'aisle'"), "{message}");
    assert!(!message.contains("'department'"), "{message}");
    assert!(message.contains("morelike import"), "{message}");
    let (status, _) = app
        .http_as(ADMIN, "GET", "/v1/stores/groceries/products/7", None)
        .await;
    assert_eq!(status, 404, "nothing was imported");
    app.stop().await;
}

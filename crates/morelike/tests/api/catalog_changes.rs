//! A catalog change through the API shows in the next page, without a restart.

use serde_json::json;

use crate::helpers::{demo_data_dir, ids, TestApp};

const HEADER: &str = "id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName";
const SEED: &str = "15970";
const SEED_ROW: &str =
    "Men,Apparel,Topwear,Shirts,Navy Blue,Fall,2011,Casual,Turtle Check Men Navy Blue Shirt";

#[tokio::test]
async fn an_upserted_product_shows_in_the_next_page() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let mut ws = app.socket("demo").await;
    let first = ws.page(json!({"type": "start", "seed": SEED})).await;
    assert!(!ids(&first).contains(&"twin-1".to_owned()));

    // The twin is the seed in a colour no product had before the upload.
    let row = SEED_ROW.replace("Navy Blue,", "Ultraviolet,");
    let csv = format!("{HEADER}\ntwin-1,{row}\n");
    let secret = app.demo_secret().await;
    let (status, report) = app
        .http_as(
            &secret,
            "POST",
            "/v1/stores/demo/products",
            Some(("text/csv", csv)),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["added"], 1);
    assert_eq!(report["rejected"], 0);

    // The next page, filtered to the new colour, can only be the twin: the
    // live index knows the product and its new category value.
    let next = ws
        .page(json!({"type": "start", "seed": SEED, "filters": {"attributes": {"baseColour": ["Ultraviolet"]}}}))
        .await;
    assert_eq!(ids(&next), ["twin-1"]);
    let (status, product) = app
        .http("GET", "/v1/stores/demo/products/twin-1", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(product["attributes"]["baseColour"], "Ultraviolet");
    app.stop().await;
}

#[tokio::test]
async fn a_deleted_product_is_gone_from_the_next_page() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let mut control = app.socket("demo").await;
    let mut shopper = app.socket("demo").await;
    control.page(json!({"type": "start", "seed": SEED})).await;
    shopper.page(json!({"type": "start", "seed": SEED})).await;
    let would_show = ids(&control.page(json!({"type": "more"})).await)[0].clone();

    let secret = app.demo_secret().await;
    let (status, _) = app
        .http_as(
            &secret,
            "DELETE",
            &format!("/v1/stores/demo/products/{would_show}"),
            None,
        )
        .await;
    assert_eq!(status, 204);

    let next = shopper.page(json!({"type": "more"})).await;
    assert!(
        !ids(&next).contains(&would_show),
        "{would_show} was deleted"
    );
    assert_eq!(ids(&next).len(), 8);
    let (status, body) = app
        .http(
            "GET",
            &format!("/v1/stores/demo/products/{would_show}"),
            None,
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "unknown_product");
    let (status, _) = app
        .http_as(
            &secret,
            "DELETE",
            &format!("/v1/stores/demo/products/{would_show}"),
            None,
        )
        .await;
    assert_eq!(status, 404, "deleting twice finds nothing");
    app.stop().await;
}

#[tokio::test]
async fn an_upload_reports_bad_rows_by_line_and_keeps_the_good_ones() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let secret = app.demo_secret().await;
    let lines = [
        r#"{"id": "j-1", "productDisplayName": "Test Men Blue Shirt", "gender": "Men", "articleType": "Shirts", "baseColour": "Blue", "year": 2012}"#,
        r#"{"productDisplayName": "No Id At All"}"#,
        r#"{"id": "j-3", "productDisplayName": "Test Women Red Kurta", "gender": "Women", "year": 2012}"#,
    ];
    let (status, report) = app
        .http_as(
            &secret,
            "POST",
            "/v1/stores/demo/products?format=jsonl",
            Some(("application/octet-stream", lines.join("\n"))),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["imported"], 2);
    assert_eq!(report["rejected"], 1);
    assert_eq!(report["errors"][0]["line"], 2);
    assert_eq!(
        app.http("GET", "/v1/stores/demo/products/j-3", None)
            .await
            .0,
        200
    );

    let (status, body) = app
        .http_as(
            &secret,
            "POST",
            "/v1/stores/demo/products",
            Some(("text/plain", "x".into())),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["field"], "format");
    app.stop().await;
}

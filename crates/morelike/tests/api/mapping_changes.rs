//! A new mapping over HTTP, and an upload with a quote left open, as an
//! outside tester sent them: refused or reported, nothing stored lost.

use serde_json::json;

use crate::helpers::{demo_data_dir, TestApp};

const FASHION: &str = include_str!("../../../../examples/fashion.toml");

/// The demo mapping with `gender` read as a number.
fn gender_as_number() -> String {
    FASHION
        .replace("categorical = [\"gender\", ", "categorical = [")
        .replace("numeric = [\"year\"]", "numeric = [\"year\", \"gender\"]")
        .replace(
            "name = \"gender\"\nkind = \"categorical\"",
            "name = \"gender\"\nkind = \"numeric\"",
        )
}

#[tokio::test]
async fn a_mapping_no_stored_product_fits_is_refused_and_weights_survive_a_mapping_change() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let secret = app.demo_secret().await;
    let (status, body) = app
        .http_as(
            &secret,
            "PATCH",
            "/v1/stores/demo/settings",
            Some((
                "application/json",
                json!({"weights": {"colour": 2}}).to_string(),
            )),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let page = || app.http("GET", "/v1/stores/demo/similar/15970?k=8", None);
    let before = page().await;

    let (status, body) = app
        .http_as(
            &secret,
            "PUT",
            "/v1/stores/demo",
            Some(("application/toml", gender_as_number())),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "bad_mapping");
    let message = body["message"].to_string();
    for part in [
        "view 'gender' is numeric",
        "stored products has a number in column 'gender' (e.g. '",
        "nothing was changed",
    ] {
        assert!(message.contains(part), "{part}: {message}");
    }
    assert_eq!(page().await, before, "the store serves as before");

    // A mapping that fits (the year view left out): the weights of the
    // views that keep their name are kept.
    let no_year = FASHION.replace(
        "[[views]]\nname = \"year\"\nkind = \"numeric\"\nfields = [\"year\"]\nweight = 1.0\n",
        "",
    );
    assert_ne!(no_year, FASHION);
    let (status, body) = app
        .http_as(
            &secret,
            "PUT",
            "/v1/stores/demo",
            Some(("application/toml", no_year)),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, settings) = app
        .http_as(&secret, "GET", "/v1/stores/demo/settings", None)
        .await;
    assert_eq!(settings["weights"]["colour"], 2.0, "{settings}");
    assert_eq!(settings["weights"]["name"], 1.0, "{settings}");
    assert!(settings["weights"].get("year").is_none(), "{settings}");
    app.stop().await;
}

#[tokio::test]
async fn an_upload_with_a_quote_left_open_keeps_the_rows_it_swallowed() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let secret = app.demo_secret().await;
    let csv = "id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName\n\
               q-3,Men,Apparel,Topwear,Shirts,Blue,Fall,2011,Casual,\"Chain 18 inch\n\
               q-4,Men,Apparel,Topwear,Shirts,Blue,Fall,2011,Casual,ok name\n";
    let (status, report) = app
        .http_as(
            &secret,
            "POST",
            "/v1/stores/demo/products",
            Some(("text/csv", csv.into())),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (&report["imported"], &report["rejected"]),
        (&1.into(), &1.into())
    );
    assert_eq!(report["errors"][0]["line"], 2);
    let reason = report["errors"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("quote opened on line 2 is never closed"),
        "{reason}"
    );
    assert!(reason.contains("over line 3"), "{reason}");
    let (status, product) = app.http("GET", "/v1/stores/demo/products/q-4", None).await;
    assert_eq!(status, 200, "{product}");
    assert_eq!(product["name"], "ok name");
    app.stop().await;
}

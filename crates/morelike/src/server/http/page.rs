//! The demo page at `/` and the widget it uses, both embedded in the binary
//! from `widget/`.

use axum::http::header;
use axum::response::{Html, IntoResponse};

const DEMO: &str = include_str!("../../../../../widget/demo.html");
const WIDGET: &str = include_str!("../../../../../widget/morelike-recs.js");

/// The demo page: pick a product, then play.
pub async fn index() -> Html<&'static str> {
    Html(DEMO)
}

/// The `<morelike-recs>` web component, one ES module.
pub async fn widget() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        WIDGET,
    )
}

//! The page at `/`: a minimal demo — find a product by name, see similar
//! products, vote — speaking the WebSocket protocol (until the widget lands).

use axum::response::Html;

const PAGE: &str = include_str!("page.html");

/// The demo page.
pub async fn index() -> Html<&'static str> {
    Html(PAGE)
}

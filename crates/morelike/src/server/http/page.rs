//! The demo page at `/` and the widget it uses, both embedded in the binary
//! from `widget/`.

use std::borrow::Cow;

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse};

use crate::server::demo;
use crate::server::state::AppState;

const DEMO: &str = include_str!("../../../../../widget/demo.html");
const WIDGET: &str = include_str!("../../../../../widget/morelike-recs.js");
const SHAPES: &str = include_str!("../../../../../widget/morelike-shapes.js");

/// How the demo page learns whether this server has the demo store (a
/// caller without a key cannot tell a missing store from a closed one).
const DEMO_PRESENT: &str = r#"<meta name="morelike-demo-store" content="present">"#;
const DEMO_ABSENT: &str = r#"<meta name="morelike-demo-store" content="absent">"#;

/// The demo page: pick a product, then play; without a demo store, it says
/// what to do instead.
pub async fn index(State(state): State<AppState>) -> Html<Cow<'static, str>> {
    if state.store(demo::STORE).await.is_ok() {
        Html(Cow::Borrowed(DEMO))
    } else {
        Html(Cow::Owned(DEMO.replacen(DEMO_PRESENT, DEMO_ABSENT, 1)))
    }
}

/// The `<morelike-recs>` web component, an ES module.
pub async fn widget() -> impl IntoResponse {
    script(WIDGET)
}

/// The placeholders the component imports (`./morelike-shapes.js`).
pub async fn shapes() -> impl IntoResponse {
    script(SHAPES)
}

fn script(text: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        text,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_page_carries_the_marker_the_server_flips() {
        assert_eq!(DEMO.matches(DEMO_PRESENT).count(), 1);
    }

    #[test]
    fn the_widget_imports_only_the_module_served_beside_it() {
        let imports: Vec<&str> = WIDGET
            .lines()
            .filter(|l| l.starts_with("import ") || l.starts_with("export {"))
            .filter_map(|l| l.split(" from ").nth(1))
            .collect();
        assert_eq!(
            imports,
            ["'./morelike-shapes.js';", "'./morelike-shapes.js';"]
        );
        assert!(!SHAPES.contains("import "));
    }
}

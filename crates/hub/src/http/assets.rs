//! The stylesheet and script, embedded in the binary and served with a content-hash version in
//! their URLs so browsers can cache them for a year.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::hash::{Hash, Hasher};
use std::sync::LazyLock;

const CSS: &str = include_str!("../../assets/app.css");
const JS: &str = include_str!("../../assets/app.js");
/// The development partner site's script (`/dev/partner-site/{partner_id}`).
const PARTNER_SITE_JS: &str = include_str!("../../assets/partner-site.js");

static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    CSS.hash(&mut hasher);
    JS.hash(&mut hasher);
    PARTNER_SITE_JS.hash(&mut hasher);
    format!("{:012x}", hasher.finish() & 0xffff_ffff_ffff)
});

pub fn version() -> &'static str {
    VERSION.as_str()
}

pub async fn serve(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "app.css" => (CSS, "text/css; charset=utf-8"),
        "app.js" => (JS, "text/javascript; charset=utf-8"),
        "partner-site.js" => (PARTNER_SITE_JS, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        body,
    )
        .into_response()
}

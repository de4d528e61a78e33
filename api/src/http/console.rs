//! The staff console at `/console`: a page and its scripts, all from the binary (no CDN, no
//! Node.js). It is one more client of `/graphql` with the caller's own role checks; it has no
//! route of its own beyond these files.
use axum::{
    extract::Path,
    http::header,
    response::{Html, IntoResponse, Response},
};

use super::assets::Bundle;
use crate::points::certificate_pdf::CJK_FONT;

static ASSETS: Bundle = Bundle::new(
    "/console",
    &[
        (
            "console.js",
            "text/javascript; charset=utf-8",
            include_bytes!("../../assets/console/console.js"),
        ),
        (
            "console.css",
            "text/css; charset=utf-8",
            include_bytes!("../../assets/console/console.css"),
        ),
        (
            "echarts.min.js",
            "text/javascript; charset=utf-8",
            include_bytes!("../../assets/console/echarts.min.js"),
        ),
        // Fetched only by browsers whose own fonts lack the characters (see console.css).
        ("cjk.ttf", "font/ttf", CJK_FONT),
    ],
);

/// Scripts only from this server; styles also inline (ECharts sets them); photos may come
/// from object storage elsewhere; never framed (the login code must not be overlaid).
const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                      img-src 'self' data: blob: https: http:; connect-src 'self'; \
                      frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// `GET /console`
pub async fn page() -> Response {
    let html = format!(
        r#"<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>红帆 · 工作台</title>
  <link rel="stylesheet" href="{css}">
</head>
<body>
  <header>
    <h1>红帆 · 工作台</h1>
    <nav></nav>
    <span id="who"></span>
    <button id="logout" class="plain hidden">退出</button>
  </header>
  <main></main>
  <script src="{echarts}"></script>
  <script src="{js}"></script>
</body>
</html>"#,
        css = ASSETS.path("console.css"),
        echarts = ASSETS.path("echarts.min.js"),
        js = ASSETS.path("console.js"),
    );
    (
        [
            (header::CONTENT_SECURITY_POLICY, POLICY),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Html(html),
    )
        .into_response()
}

/// `GET /console/{version}/{name}`
pub async fn asset(Path((version, name)): Path<(String, String)>) -> Response {
    ASSETS.serve(&version, &name)
}

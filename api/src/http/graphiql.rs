//! GraphiQL served entirely from the binary (development only): it works offline and where
//! public CDNs are blocked, as they often are in mainland China. The assets are vendored
//! unchanged under `api/assets/graphiql` (licences beside them).
use axum::{
    extract::Path,
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};

/// In every asset path, so that a new version is never served from an old cache.
pub const VERSION: &str = "3.8.3";

const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    ),
];

/// The page, pointing at `endpoint`; everything it loads comes from this server.
pub fn page(endpoint: &str) -> Html<String> {
    let asset = |name: &str| format!("/graphiql/{VERSION}/{name}");
    Html(format!(
        r#"<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <title>红帆 GraphiQL</title>
  <style>body {{ margin: 0; height: 100vh; }} #graphiql {{ height: 100vh; }}</style>
  <link rel="stylesheet" href="{css}">
</head>
<body>
  <div id="graphiql">Loading…</div>
  <script src="{react}"></script>
  <script src="{react_dom}"></script>
  <script src="{graphiql}"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({{ url: "{endpoint}" }});
    ReactDOM.createRoot(document.getElementById("graphiql"))
      .render(React.createElement(GraphiQL, {{ fetcher, defaultEditorToolsVisibility: true }}));
  </script>
</body>
</html>"#,
        css = asset("graphiql.min.css"),
        react = asset("react.production.min.js"),
        react_dom = asset("react-dom.production.min.js"),
        graphiql = asset("graphiql.min.js"),
    ))
}

/// `GET /graphiql/{version}/{name}`: a vendored asset, cached for a year.
pub async fn asset(Path((version, name)): Path<(String, String)>) -> Response {
    match ASSETS.iter().find(|(file, ..)| *file == name) {
        Some((_, content_type, bytes)) if version == VERSION => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            *bytes,
        )
            .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

//! GraphiQL served entirely from the binary (development only): it works offline and where
//! public CDNs are blocked, as they often are in mainland China. The assets are vendored
//! unchanged under `api/assets/graphiql` (licences beside them).
use axum::{
    extract::Path,
    response::{Html, Response},
};

use super::assets::Bundle;

static ASSETS: Bundle = Bundle::new(
    "/graphiql",
    &[
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
    ],
);

/// The page, pointing at `endpoint`; everything it loads comes from this server.
pub fn page(endpoint: &str) -> Html<String> {
    let asset = |name: &str| ASSETS.path(name);
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

/// `GET /graphiql/{version}/{name}`: a vendored asset.
pub async fn asset(Path((version, name)): Path<(String, String)>) -> Response {
    ASSETS.serve(&version, &name)
}

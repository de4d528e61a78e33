//! GraphQL over HTTP: status codes, media types, health endpoints.
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{World, error_code, spawn_app};

#[tokio::test]
async fn liveness_and_readiness_answer() {
    let app = spawn_app().await;
    let health = app
        .http
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), StatusCode::OK);
    let ready = app
        .http
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.expect("json");
    assert_eq!(body["database"], "ok");
}

#[tokio::test]
async fn request_errors_are_400_for_graphql_response_json_and_200_for_json() {
    let app = spawn_app().await;
    let send = |accept: &'static str| {
        app.http
            .post(format!("{}/graphql", app.address))
            .header(header::ACCEPT, accept)
            .json(&json!({ "query": "{ serviceCategories { nope } }" }))
            .send()
    };
    let modern = send("application/graphql-response+json")
        .await
        .expect("send");
    assert_eq!(modern.status(), StatusCode::BAD_REQUEST);
    assert!(
        modern.headers()[header::CONTENT_TYPE]
            .to_str()
            .expect("ct")
            .starts_with("application/graphql-response+json")
    );
    let legacy = send("application/json").await.expect("send");
    assert_eq!(legacy.status(), StatusCode::OK);
    let body: Value = legacy.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert!(
        body.get("data").is_none(),
        "a request that never ran has no data entry: {body}"
    );
}

#[tokio::test]
async fn malformed_and_batched_bodies_are_refused() {
    let app = spawn_app().await;
    let post = |body: &'static str| {
        app.http
            .post(format!("{}/graphql", app.address))
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
    };
    assert_eq!(
        post("{not json").await.expect("send").status(),
        StatusCode::BAD_REQUEST
    );
    let batch = post(r#"[{"query":"{ communities { id } }"},{"query":"{ communities { id } }"}]"#)
        .await
        .expect("send");
    assert_eq!(batch.status(), StatusCode::BAD_REQUEST);
    let unsupported = app
        .http
        .post(format!("{}/graphql", app.address))
        .header(header::CONTENT_TYPE, "text/plain")
        .body("{ communities { id } }")
        .send()
        .await
        .expect("send");
    assert_eq!(unsupported.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn get_runs_queries_but_not_mutations_and_serves_graphiql() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let query = app
        .http
        .get(format!("{}/graphql", app.address))
        .query(&[("query", "{ communities { name } }")])
        .send()
        .await
        .expect("send");
    assert_eq!(query.status(), StatusCode::OK);
    let body: Value = query.json().await.expect("json");
    assert_eq!(
        body["data"]["communities"].as_array().map(Vec::len),
        Some(2)
    );
    let mutation = app
        .http
        .get(format!("{}/graphql", app.address))
        .query(&[("query", "mutation { logout }")])
        .send()
        .await
        .expect("send");
    assert_eq!(mutation.status(), StatusCode::METHOD_NOT_ALLOWED);
    let graphiql = app
        .http
        .get(format!("{}/graphql", app.address))
        .send()
        .await
        .expect("send");
    let page = graphiql.text().await.expect("html");
    assert!(page.contains("GraphiQL"));
    // Offline and behind the Great Firewall: nothing is fetched from another host.
    assert!(!page.contains("//unpkg") && !page.contains("cdn"), "{page}");
    let assets: Vec<&str> = page
        .split("=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|link| link.starts_with("/graphiql/"))
        .collect();
    assert_eq!(assets.len(), 4, "{page}");
    for asset in assets {
        let response = app
            .http
            .get(format!("{}{asset}", app.address))
            .send()
            .await
            .expect("asset");
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
        assert!(
            response.bytes().await.expect("body").len() > 1000,
            "{asset}"
        );
    }
}

#[tokio::test]
async fn overly_deep_queries_are_refused_before_execution() {
    let app = spawn_app().await;
    let nested = format!("{}name{}", "ofType { ".repeat(12), " }".repeat(12));
    let query = format!("{{ __schema {{ types {{ fields {{ type {{ {nested} }} }} }} }} }}");
    let body = app.graphql(None, &query, json!({})).await;
    assert!(body.get("data").is_none(), "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX",
        "{body}"
    );
    assert_eq!(body["errors"][0]["extensions"]["limit"], "depth", "{body}");
}

#[tokio::test]
async fn persisted_queries_are_registered_once_then_sent_by_hash() {
    use sha2::{Digest, Sha256};

    let app = spawn_app().await;
    app.seed_demo().await;
    let query = "{ communities { name } }";
    let hash = format!("{:x}", Sha256::digest(query.as_bytes()));
    let by_hash =
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } });
    let post = |body: Value| {
        app.http
            .post(format!("{}/graphql", app.address))
            .json(&body)
            .send()
    };

    let unknown: Value = post(by_hash.clone())
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(
        unknown["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_FOUND"
    );
    let mut register = by_hash.clone();
    register["query"] = json!(query);
    let registered: Value = post(register)
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(
        registered["data"]["communities"].as_array().map(Vec::len),
        Some(2)
    );
    let known: Value = post(by_hash)
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(known["data"], registered["data"]);

    let wrong = json!({ "query": "{ communities { id } }", "extensions": { "persistedQuery": { "version": 1, "sha256Hash": format!("{:x}", Sha256::digest(b"other")) } } });
    let mismatch: Value = post(wrong).await.expect("send").json().await.expect("json");
    assert_eq!(
        mismatch["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
}

#[tokio::test]
async fn production_mode_hides_graphiql_and_introspection() {
    let app = crate::helpers::spawn_app_with(|settings| {
        settings.hongfan_env = hongfan::config::Environment::Production;
        settings.wechat_appid = Some("wx-app".into());
        settings.wechat_secret = Some(hongfan::config::Secret::new("wx-secret"));
    })
    .await;
    let page = app
        .http
        .get(format!("{}/graphql", app.address))
        .send()
        .await
        .expect("send");
    assert_eq!(page.status(), StatusCode::METHOD_NOT_ALLOWED);
    let introspect = "{ __schema { types { name } } }";
    let hidden = app.graphql(None, introspect, json!({})).await;
    assert!(hidden["data"]["__schema"].is_null(), "{hidden}");
    let development = spawn_app().await;
    let shown = development.graphql(None, introspect, json!({})).await;
    assert!(shown["data"]["__schema"]["types"].is_array(), "{shown}");
}

/// Documents that passed validation without variables skip the full rules when sent again
/// (`Api::execute`): what failed, or comes with variables, is validated in full every time.
#[tokio::test]
async fn validation_is_skipped_only_for_what_passed_it_unchanged() {
    let w = World::new().await;
    let list = "query Mine($first: Int) { myOrders(first: $first) { edges { cursor } } }";
    for _ in 0..2 {
        let body = w
            .app
            .graphql(Some(&w.resident.token), list, json!({}))
            .await;
        assert!(body["errors"].is_null(), "{body}");
    }
    // The same text with a variable of the wrong type is refused before execution.
    let body = w
        .app
        .graphql(Some(&w.resident.token), list, json!({ "first": "many" }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert!(body["errors"][0].get("path").is_none(), "{body}");
    assert!(body.get("data").is_none(), "validation refused it: {body}");
    // A document that failed validation fails it again.
    for _ in 0..2 {
        let body = w
            .app
            .graphql(Some(&w.resident.token), "{ myOrders { nope } }", json!({}))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        assert!(body.get("data").is_none(), "{body}");
    }
}

/// GraphiQL's own introspection query (graphql-js `getIntrospectionQuery`, as the vendored
/// GraphiQL sends it): nine `ofType`s deep, 15 levels in all.
fn graphiql_introspection() -> String {
    let type_ref = format!(
        "fragment TypeRef on __Type {{ kind name {}{} }}",
        "ofType { kind name ".repeat(9),
        "}".repeat(9)
    );
    format!(
        "query IntrospectionQuery {{ __schema {{ queryType {{ name }} mutationType {{ name }} \
         subscriptionType {{ name }} types {{ ...FullType }} directives {{ name description \
         locations args {{ ...InputValue }} }} }} }} \
         fragment FullType on __Type {{ kind name description fields(includeDeprecated: true) \
         {{ name description args {{ ...InputValue }} type {{ ...TypeRef }} isDeprecated \
         deprecationReason }} inputFields {{ ...InputValue }} interfaces {{ ...TypeRef }} \
         enumValues(includeDeprecated: true) {{ name description isDeprecated deprecationReason }} \
         possibleTypes {{ ...TypeRef }} }} \
         fragment InputValue on __InputValue {{ name description type {{ ...TypeRef }} defaultValue }} \
         {type_ref}"
    )
}

#[tokio::test]
async fn graphiql_loads_the_schema_and_its_depth_lets_nothing_else_through() {
    let app = spawn_app().await;
    let body = app
        .graphql(None, &graphiql_introspection(), json!({}))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "QueryRoot");
    assert!(
        body["data"]["__schema"]["types"]
            .as_array()
            .expect("types")
            .len()
            > 50
    );

    // The same depth beside an ordinary field is held to the ordinary limit.
    let nested = format!("{}name{}", "ofType { ".repeat(9), " }".repeat(9));
    let mixed = format!(
        "{{ __schema {{ types {{ fields {{ args {{ type {{ {nested} }} }} }} }} }} serviceCategories {{ id }} }}"
    );
    let body = app.graphql(None, &mixed, json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["limit"], "depth", "{body}");
}

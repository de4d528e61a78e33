//! Abuse limits, counted in the shared store (so across instances when Redis is configured).
use reqwest::{StatusCode, header};
use serde_json::json;

use crate::helpers::{error_code, spawn_app_with};

const LOGIN: &str = "mutation($code: String!) { loginWithWechat(code: $code) { accessToken } }";

#[tokio::test]
async fn logins_are_limited_per_address_and_per_account() {
    let app = spawn_app_with(|settings| settings.login_rate_limit_per_ip = 5).await;
    for i in 0..5 {
        app.login(&format!("caller-{i}")).await;
    }
    let blocked = app
        .graphql(None, LOGIN, json!({ "code": "caller-5" }))
        .await;
    assert_eq!(error_code(&blocked), "RATE_LIMITED");
    assert_eq!(blocked["errors"][0]["extensions"]["retryAfter"], 60);

    let app = spawn_app_with(|_| {}).await;
    for _ in 0..10 {
        app.login("same-account").await;
    }
    let blocked = app
        .refused(None, LOGIN, json!({ "code": "same-account" }))
        .await;
    assert_eq!(blocked, "RATE_LIMITED");
    app.login("another-account").await;
}

#[tokio::test]
async fn each_user_has_a_request_budget() {
    let app = spawn_app_with(|settings| settings.rate_limit_per_minute = 5).await;
    let busy = app.login("busy-user").await;
    let calm = app.login("calm-user").await;
    for _ in 0..5 {
        app.ok(&busy.token, "{ me { id } }", json!({})).await;
    }
    let response = app
        .http
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&busy.token)
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()[header::RETRY_AFTER], "60");
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(error_code(&body), "RATE_LIMITED");
    app.ok(&calm.token, "{ me { id } }", json!({})).await;
}

//! The real WeChat login path, against a local fake of WeChat's jscode2session endpoint.
use axum::{Json, Router, extract::Query, routing::get};
use sea_orm::EntityTrait;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::helpers::{captured_logs, error_code, spawn_app_with};

#[derive(Deserialize)]
struct Code2Session {
    appid: String,
    secret: String,
    js_code: String,
    grant_type: String,
}

async fn fake_code2session(Query(q): Query<Code2Session>) -> Json<Value> {
    assert_eq!(
        (q.appid.as_str(), q.secret.as_str(), q.grant_type.as_str()),
        ("wx-app", "wx-secret", "authorization_code")
    );
    Json(match q.js_code.as_str() {
        "good-code" => json!({ "openid": "wx-openid-1", "session_key": "never-sent-on" }),
        "used-code" => json!({ "errcode": 40163, "errmsg": "code been used" }),
        "limited" => json!({ "errcode": 45011, "errmsg": "api minute-quota reach limit" }),
        "risky" => json!({ "errcode": 40226, "errmsg": "high risk user" }),
        _ => json!({ "errcode": -1, "errmsg": "system error" }),
    })
}

#[tokio::test]
async fn wechat_codes_are_exchanged_and_its_errors_mapped() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let fake = Router::new().route("/sns/jscode2session", get(fake_code2session));
    tokio::spawn(async move { axum::serve(listener, fake).await });
    let app = spawn_app_with(|settings| {
        settings.wechat_appid = Some("wx-app".into());
        settings.wechat_secret = Some(hongfan::config::Secret::new("wx-secret"));
        settings.wechat_api_base = base;
    })
    .await;
    let login =
        "mutation($code: String!) { loginWithWechat(code: $code) { accessToken user { id } } }";

    let ok = app
        .graphql(None, login, json!({ "code": "good-code" }))
        .await;
    let token = ok["data"]["loginWithWechat"]["accessToken"]
        .as_str()
        .expect("token");
    let me = app.ok(token, "{ me { id } }", json!({})).await;
    assert_eq!(me["me"]["id"], ok["data"]["loginWithWechat"]["user"]["id"]);
    let id: uuid::Uuid = me["me"]["id"].as_str().expect("id").parse().expect("uuid");
    let user = entity::user::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("user");
    assert_eq!(user.openid, "wx-openid-1");

    for (code, expected) in [
        ("used-code", "BAD_USER_INPUT"),
        ("limited", "RATE_LIMITED"),
        ("risky", "FORBIDDEN"),
        ("busy", "SERVICE_UNAVAILABLE"),
    ] {
        let body = app.graphql(None, login, json!({ "code": code })).await;
        assert_eq!(error_code(&body), expected, "{code}: {body}");
    }
}

#[tokio::test]
async fn failed_wechat_calls_never_log_the_secret_or_the_code() {
    captured_logs();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let failing = format!("http://{}", listener.local_addr().expect("addr"));
    let fake = Router::new().route(
        "/sns/jscode2session",
        get(|| async { axum::http::StatusCode::BAD_GATEWAY }),
    );
    tokio::spawn(async move { axum::serve(listener, fake).await });
    // Nothing listens on port 1.
    for (base, code) in [
        (failing, "js-code-failing-7f3a"),
        ("http://127.0.0.1:1".to_owned(), "js-code-unreachable-9c2e"),
    ] {
        let app = spawn_app_with(|settings| {
            settings.wechat_appid = Some("wx-app".into());
            settings.wechat_secret =
                Some(hongfan::config::Secret::new("app-secret-never-logged-4b1d"));
            settings.wechat_api_base = base;
        })
        .await;
        let body = app
            .graphql(
                None,
                "mutation($code: String!) { loginWithWechat(code: $code) { accessToken } }",
                json!({ "code": code }),
            )
            .await;
        assert_eq!(error_code(&body), "SERVICE_UNAVAILABLE", "{body}");
        let logs = captured_logs();
        assert!(
            logs.contains("jscode2session request failed"),
            "the failure is logged"
        );
        assert!(
            !logs.contains("app-secret-never-logged-4b1d"),
            "the AppSecret was logged"
        );
        assert!(!logs.contains(code), "the user's login code was logged");
    }
}

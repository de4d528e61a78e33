//! The staff console's scan-to-log-in: a ticket bound to the browser's secret, confirmed by a
//! staff member's app, spent once by that browser.
use entity::{console_login_ticket, enums::Role};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, error_code, spawn_app};
use crate::wechat_messages::{app_with_wechat, start_fake};

const START: &str =
    "mutation($c: String!) { startConsoleLogin(challenge: $c) { ticket expiresAt qrCode } }";
const CONFIRM: &str = "mutation($t: ID!) { confirmConsoleLogin(ticket: $t) }";
const CLAIM: &str = "mutation($t: ID!, $s: String!) { claimConsoleLogin(ticket: $t, secret: $s) { status session { accessToken refreshToken user { id } } } }";
const SECRET: &str = "the browser's own secret, never sent until the claim";

fn challenge(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

async fn start(app: &TestApp) -> Value {
    let body = app
        .graphql(None, START, json!({ "c": challenge(SECRET) }))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["startConsoleLogin"].clone()
}

async fn claim(app: &TestApp, ticket: &str, secret: &str) -> Value {
    app.graphql(None, CLAIM, json!({ "t": ticket, "s": secret }))
        .await
}

#[tokio::test]
async fn a_console_logs_in_once_by_scanning_with_the_secret_only_it_holds() {
    let (base, fake) = start_fake().await;
    let app = app_with_wechat(&base).await;
    let demo = app.seed_demo().await;
    let staff = app.login("console-staff").await;
    app.grant("console-staff", Role::Staff, Some(&demo.community))
        .await;

    let issued = start(&app).await;
    let ticket = issued["ticket"].as_str().expect("ticket").to_owned();
    assert!(
        issued["qrCode"]
            .as_str()
            .is_some_and(|code| code.starts_with("data:image/jpeg;base64,")),
        "{issued}"
    );
    let (scene, page, _) = fake
        .codes
        .lock()
        .expect("codes")
        .last()
        .cloned()
        .expect("a code");
    assert_eq!(scene, ticket.replace('-', ""));
    assert_eq!(page, "pages/console/login");

    let pending = claim(&app, &ticket, SECRET).await;
    assert_eq!(
        pending["data"]["claimConsoleLogin"]["status"], "PENDING",
        "{pending}"
    );
    assert!(pending["data"]["claimConsoleLogin"]["session"].is_null());

    // The mini-program confirms with the scanned scene, the id without hyphens.
    app.ok(&staff.token, CONFIRM, json!({ "t": scene })).await;

    // Someone who photographed the code holds the ticket, not the secret.
    let stolen = claim(&app, &ticket, "a guess").await;
    assert_eq!(error_code(&stolen), "UNAUTHENTICATED", "{stolen}");
    assert!(stolen["data"].is_null());

    let confirmed = claim(&app, &ticket, SECRET).await;
    let answer = &confirmed["data"]["claimConsoleLogin"];
    assert_eq!(answer["status"], "CONFIRMED", "{confirmed}");
    assert_eq!(answer["session"]["user"]["id"], staff.user_id.as_str());
    let console = answer["session"]["accessToken"].as_str().expect("token");
    let me = app.ok(console, "{ me { id } }", json!({})).await;
    assert_eq!(me["me"]["id"], staff.user_id.as_str());
    // Its own session, with the usual refresh rotation.
    let refreshed = app
        .graphql(
            None,
            "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken } }",
            json!({ "t": answer["session"]["refreshToken"] }),
        )
        .await;
    assert!(refreshed.get("errors").is_none(), "{refreshed}");

    // Spent: neither the browser again nor a second confirmation gets anything.
    assert_eq!(
        error_code(&claim(&app, &ticket, SECRET).await),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        app.refused(Some(&staff.token), CONFIRM, json!({ "t": ticket }))
            .await,
        "CONFLICT"
    );

    // Logging the console out ends its session, not the phone's.
    app.ok(console, "mutation { logout }", json!({})).await;
    assert_eq!(
        app.refused(Some(console), "{ me { id } }", json!({})).await,
        "UNAUTHENTICATED"
    );
    app.ok(&staff.token, "{ me { id } }", json!({})).await;
}

#[tokio::test]
async fn only_desk_staff_confirm_and_never_after_the_ticket_expires() {
    let app = spawn_app().await;
    let demo = app.seed_demo().await;
    let resident = app.resident("console-resident", &demo.community).await;
    let street = app.login("demo-street").await;

    // Development has no WeChat to draw the code: the console logs in by openid instead.
    let issued = start(&app).await;
    assert!(issued["qrCode"].is_null(), "{issued}");
    let ticket = issued["ticket"].as_str().expect("ticket").to_owned();
    assert_eq!(
        app.refused(Some(&resident.token), CONFIRM, json!({ "t": ticket }))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        claim(&app, &ticket, SECRET).await["data"]["claimConsoleLogin"]["status"],
        "PENDING"
    );

    console_login_ticket::ActiveModel {
        id: Set(ticket.parse().expect("uuid")),
        expires_at: Set(chrono::Utc::now() - chrono::Duration::seconds(1)),
        ..Default::default()
    }
    .update(&app.db)
    .await
    .expect("expire");
    assert_eq!(
        app.refused(Some(&street.token), CONFIRM, json!({ "t": ticket }))
            .await,
        "CONFLICT"
    );
    assert_eq!(
        claim(&app, &ticket, SECRET).await["data"]["claimConsoleLogin"]["status"],
        "EXPIRED"
    );
    let stored =
        console_login_ticket::Entity::find_by_id(ticket.parse::<uuid::Uuid>().expect("uuid"))
            .one(&app.db)
            .await
            .expect("read")
            .expect("ticket");
    assert!(stored.confirmed_by.is_none() && stored.claimed_at.is_none());

    // A challenge that is not a SHA-256 in hex is refused before anything is stored.
    let bad = app.graphql(None, START, json!({ "c": "not-a-hash" })).await;
    assert_eq!(error_code(&bad), "BAD_USER_INPUT");
    // The street officer can confirm a fresh one.
    let fresh = start(&app).await;
    app.ok(&street.token, CONFIRM, json!({ "t": fresh["ticket"] }))
        .await;
}

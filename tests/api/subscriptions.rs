//! Live notifications over WebSocket, across instances when Redis is configured.
use serde_json::json;

use crate::{
    helpers::{PUBLISH, TAKE, World},
    helpers::{TestApp, with_redis},
};

const MY_NOTIFICATIONS: &str = "subscription { myNotifications { kind orderId message } }";
const ORDER_UPDATED: &str =
    "subscription($id: ID!) { orderUpdated(orderId: $id) { id status taker { id } } }";

#[tokio::test]
async fn subscribers_on_one_instance_hear_what_happens_on_another() {
    let w = World::new().await;
    // Without Redis each instance has its own in-process bus, so both ends use one instance.
    let second = if with_redis() {
        Some(w.app.another_instance().await)
    } else {
        None
    };
    let other: &TestApp = second.as_ref().unwrap_or(&w.app);

    let order = w.place().await;
    let mut members = w
        .app
        .subscribe(&w.member.token, MY_NOTIFICATIONS, json!({}))
        .await;
    let mut requester = w
        .app
        .subscribe(&w.resident.token, ORDER_UPDATED, json!({ "id": order }))
        .await;

    other
        .ok(&w.staff.token, PUBLISH, json!({ "id": order }))
        .await;
    let heard = members.next().await;
    assert_eq!(
        heard["data"]["myNotifications"]["kind"], "NEW_OPEN_ORDER",
        "{heard}"
    );
    assert_eq!(heard["data"]["myNotifications"]["orderId"], order.as_str());
    let published = requester.next().await;
    assert_eq!(
        published["data"]["orderUpdated"]["status"], "OPEN",
        "{published}"
    );

    other
        .ok(&w.member.token, TAKE, json!({ "id": order }))
        .await;
    let accepted = requester.next().await;
    assert_eq!(
        accepted["data"]["orderUpdated"]["status"], "ACCEPTED",
        "{accepted}"
    );
    assert_eq!(
        accepted["data"]["orderUpdated"]["taker"]["id"],
        w.member.user_id.as_str()
    );
}

#[tokio::test]
async fn only_those_involved_may_follow_an_order() {
    let w = World::new().await;
    let order = w.place().await;
    let stranger = w.app.resident("stranger", &w.demo.community).await;
    let mut refused = w
        .app
        .subscribe(&stranger.token, ORDER_UPDATED, json!({ "id": order }))
        .await;
    let error = refused.next().await;
    assert_eq!(
        error["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{error}"
    );
}

#[tokio::test]
async fn a_subscription_ends_when_its_session_is_logged_out_on_any_instance() {
    let w = World::new().await;
    let second = if with_redis() {
        Some(w.app.another_instance().await)
    } else {
        None
    };
    let other: &TestApp = second.as_ref().unwrap_or(&w.app);
    let mut live = w
        .app
        .subscribe(&w.member.token, MY_NOTIFICATIONS, json!({}))
        .await;
    other
        .ok(&w.member.token, "mutation { logout }", json!({}))
        .await;
    let ended = live.next_within(std::time::Duration::from_secs(15)).await;
    assert_eq!(
        ended["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{ended}"
    );
}

#[tokio::test]
async fn a_subscription_ends_when_the_roles_it_relied_on_are_revoked() {
    let w = World::new().await;
    let mut live = w
        .app
        .subscribe(&w.member.token, MY_NOTIFICATIONS, json!({}))
        .await;
    w.app
        .ok(
            &w.staff.token,
            "mutation($u: ID!, $c: ID) { revokeRole(userId: $u, role: PARTY_MEMBER, communityId: $c) { id } }",
            json!({ "u": w.member.user_id, "c": w.demo.community }),
        )
        .await;
    let ended = live.next_within(std::time::Duration::from_secs(15)).await;
    assert_eq!(
        ended["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{ended}"
    );
}

#[tokio::test]
async fn the_socket_serves_subscriptions_only_and_counts_them() {
    let app = crate::helpers::spawn_app_with(|settings| settings.rate_limit_per_minute = 2).await;
    let login = app.login("socket-user").await;
    // connection_init spends one of the two requests; the refused query none.
    let mut query = app
        .subscribe(&login.token, "{ me { id } }", json!({}))
        .await;
    let refused = query.next().await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "BAD_REQUEST",
        "{refused}"
    );
    // The second opens a second socket; its subscribe is one too many.
    let mut over = app
        .subscribe(&login.token, MY_NOTIFICATIONS, json!({}))
        .await;
    let limited = over.next().await;
    assert_eq!(
        limited["errors"][0]["extensions"]["code"], "RATE_LIMITED",
        "{limited}"
    );
}

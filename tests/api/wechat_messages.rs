//! Subscription messages (订阅消息) to phones outside the app, against a fake WeChat server:
//! sent once, retried when WeChat fails, never without consent, and never twice when two
//! instances run the delivery worker.
use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use axum::{
    Json, Router,
    extract::{Query, State},
    routing::{get, post},
};
use chrono::{Duration, Utc};
use entity::{
    enums::{Delivery, Role},
    inbox_message,
};
use hongfan::notify::delivery::deliver_due;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{
    Login, PUBLISH, TestApp, World, captured_logs, error_code, spawn_app_with, with_redis,
};

/// What the fake has seen, and how it misbehaves.
#[derive(Default)]
pub struct Fake {
    tokens_issued: AtomicUsize,
    /// The token endpoint answers 502 while set; the requests it refused.
    token_down: std::sync::atomic::AtomicBool,
    tokens_refused: AtomicUsize,
    /// Send calls to fail (HTTP 502) before answering normally.
    failures_left: AtomicUsize,
    send_calls: AtomicUsize,
    /// A token WeChat treats as expired (40001) although it was just issued.
    expired_token: Mutex<Option<String>>,
    /// msgSecCheck answers 502 while set.
    content_check_down: std::sync::atomic::AtomicBool,
    /// (openid, scene) of every content check.
    checked: Mutex<Vec<(String, i64)>>,
    /// While set, each content check holds its answer back this many milliseconds; the checks
    /// answering at the moment, and the most there were at once.
    check_delay_ms: std::sync::atomic::AtomicU64,
    checks_in_flight: AtomicUsize,
    most_checks_at_once: AtomicUsize,
    /// (touser, template_id, access token) of every message accepted.
    sent: Mutex<Vec<(String, String, String)>>,
    /// (media_url, openid) of every image check submitted; the trace id is `trace-{index}`.
    pub media_checks: Mutex<Vec<(String, String)>>,
    /// (scene, page, env_version) of every 小程序码 generated.
    pub codes: Mutex<Vec<(String, String, String)>>,
}

async fn stable_token(
    State(fake): State<Arc<Fake>>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, axum::http::StatusCode> {
    assert_eq!(body["appid"], "wx-app");
    assert_eq!(body["secret"], "wx-secret");
    if fake.token_down.load(Ordering::SeqCst) {
        fake.tokens_refused.fetch_add(1, Ordering::SeqCst);
        return Err(axum::http::StatusCode::BAD_GATEWAY);
    }
    let n = fake.tokens_issued.fetch_add(1, Ordering::SeqCst) + 1;
    Ok(Json(
        json!({ "access_token": format!("tok-{n}"), "expires_in": 7200 }),
    ))
}

async fn code2session(Query(query): Query<Value>) -> Json<Value> {
    Json(json!({ "openid": query["js_code"], "session_key": "unused" }))
}

async fn send(
    State(fake): State<Arc<Fake>>,
    Query(query): Query<Value>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, axum::http::StatusCode> {
    fake.send_calls.fetch_add(1, Ordering::SeqCst);
    if fake
        .failures_left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return Err(axum::http::StatusCode::BAD_GATEWAY);
    }
    let token = query["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if fake.expired_token.lock().expect("expired").as_deref() == Some(token.as_str()) {
        return Ok(Json(
            json!({ "errcode": 40001, "errmsg": "invalid credential" }),
        ));
    }
    fake.sent.lock().expect("sent").push((
        body["touser"].as_str().unwrap_or_default().to_owned(),
        body["template_id"].as_str().unwrap_or_default().to_owned(),
        token,
    ));
    Ok(Json(json!({ "errcode": 0, "errmsg": "ok" })))
}

/// Risky when the text mentions 违规, "review" when it mentions 待审.
async fn msg_sec_check(
    State(fake): State<Arc<Fake>>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, axum::http::StatusCode> {
    if fake.content_check_down.load(Ordering::SeqCst) {
        return Err(axum::http::StatusCode::BAD_GATEWAY);
    }
    assert_eq!(body["version"], 2);
    let delay = fake.check_delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        let now = fake.checks_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        fake.most_checks_at_once.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        fake.checks_in_flight.fetch_sub(1, Ordering::SeqCst);
    }
    fake.checked.lock().expect("checked").push((
        body["openid"].as_str().unwrap_or_default().to_owned(),
        body["scene"].as_i64().unwrap_or_default(),
    ));
    let content = body["content"].as_str().unwrap_or_default();
    let suggest = if content.contains("违规") {
        "risky"
    } else if content.contains("待审") {
        "review"
    } else {
        "pass"
    };
    Ok(Json(
        json!({ "errcode": 0, "errmsg": "ok", "result": { "suggest": suggest, "label": 100 } }),
    ))
}

async fn phone_number(Json(body): Json<Value>) -> Json<Value> {
    Json(match body["code"].as_str() {
        Some("phone-code-ok") => json!({
            "errcode": 0, "errmsg": "ok",
            "phone_info": { "phoneNumber": "+86 13912345678", "purePhoneNumber": "13912345678", "countryCode": "86" },
        }),
        _ => json!({ "errcode": 40029, "errmsg": "invalid code" }),
    })
}

async fn media_check_async(State(fake): State<Arc<Fake>>, Json(body): Json<Value>) -> Json<Value> {
    assert_eq!(
        (body["media_type"].as_i64(), body["version"].as_i64()),
        (Some(2), Some(2))
    );
    let mut checks = fake.media_checks.lock().expect("checks");
    checks.push((
        body["media_url"].as_str().unwrap_or_default().to_owned(),
        body["openid"].as_str().unwrap_or_default().to_owned(),
    ));
    Json(json!({ "errcode": 0, "errmsg": "ok", "trace_id": format!("trace-{}", checks.len() - 1) }))
}

/// A tiny "JPEG" standing in for the generated code.
pub const CODE_IMAGE: &[u8] = b"\xFF\xD8\xFF\xE0fake-mini-program-code";

async fn code_unlimited(
    State(fake): State<Arc<Fake>>,
    Json(body): Json<Value>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let text = |field: &str| body[field].as_str().unwrap_or_default().to_owned();
    if text("scene").len() > 32 {
        return Json(json!({ "errcode": 40169, "errmsg": "invalid length for scene" }))
            .into_response();
    }
    fake.codes
        .lock()
        .expect("codes")
        .push((text("scene"), text("page"), text("env_version")));
    (
        [(axum::http::header::CONTENT_TYPE, "image/jpeg")],
        CODE_IMAGE,
    )
        .into_response()
}

pub async fn start_fake() -> (String, Arc<Fake>) {
    let fake = Arc::new(Fake::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let router = Router::new()
        .route("/cgi-bin/stable_token", post(stable_token))
        .route("/cgi-bin/message/subscribe/send", post(send))
        .route("/wxa/msg_sec_check", post(msg_sec_check))
        .route("/wxa/media_check_async", post(media_check_async))
        .route("/wxa/getwxacodeunlimit", post(code_unlimited))
        .route("/wxa/business/getuserphonenumber", post(phone_number))
        .route("/sns/jscode2session", get(code2session))
        .with_state(Arc::clone(&fake));
    tokio::spawn(async move { axum::serve(listener, router).await });
    (base, fake)
}

const TEMPLATES: &str = r#"{
  "ORDER_DISPATCHED_TO_YOU": {"templateId": "tpl-dispatch", "page": "pages/order/detail", "fields": {"thing1": "message", "time2": "time"}},
  "NEW_OPEN_ORDER": {"templateId": "tpl-open", "fields": {"thing1": "message"}},
  "ORDER_ACCEPTED": {"templateId": "tpl-accepted", "fields": {"thing1": "message"}}
}"#;

/// The token WeChat's message push is configured with.
pub const PUSH_TOKEN: &str = "push-token";

pub async fn app_with_wechat(base: &str) -> TestApp {
    let base = base.to_owned();
    spawn_app_with(move |settings| {
        settings.wechat_appid = Some("wx-app".into());
        settings.wechat_secret = Some(hongfan::config::Secret::new("wx-secret"));
        settings.wechat_api_base = base;
        settings.wechat_subscribe_templates = Some(TEMPLATES.into());
        settings.wechat_push_token = Some(hongfan::config::Secret::new(PUSH_TOKEN));
        // Tests run the worker's rounds themselves.
        settings.delivery_interval_seconds = 3600;
    })
    .await
}

async fn consent(app: &TestApp, who: &Login, key: &str, times: usize) {
    for _ in 0..times {
        app.ok(
            &who.token,
            "mutation($k: [String!]!) { recordSubscribeConsent(templateKeys: $k, accepted: true) }",
            json!({ "k": [key] }),
        )
        .await;
    }
}

async fn messages_of(app: &TestApp, who: &Login) -> Vec<inbox_message::Model> {
    inbox_message::Entity::find()
        .filter(inbox_message::Column::UserId.eq(who.user_id.parse::<uuid::Uuid>().expect("id")))
        .all(&app.db)
        .await
        .expect("inbox")
}

#[tokio::test]
async fn a_failing_send_is_retried_and_delivered_once() {
    let (base, fake) = start_fake().await;
    let w = World::on(app_with_wechat(&base).await).await;
    consent(&w.app, &w.member, "ORDER_DISPATCHED_TO_YOU", 1).await;
    let order = w.place().await;
    w.app
        .ok(
            &w.staff.token,
            "mutation($id: ID!, $to: ID!) { dispatchOrder(orderId: $id, assigneeId: $to) { status } }",
            json!({ "id": order, "to": w.member.user_id }),
        )
        .await;
    fake.failures_left.store(2, Ordering::SeqCst);
    // The first token expires at WeChat's end before we thought it would.
    *fake.expired_token.lock().expect("expired") = Some("tok-1".into());

    let now = Utc::now();
    for minutes in [0, 10, 60, 180] {
        deliver_due(&w.app.db, &w.app.delivery, now + Duration::minutes(minutes))
            .await
            .expect("round");
    }
    let sent = fake.sent.lock().expect("sent").clone();
    assert_eq!(sent.len(), 1, "delivered once: {sent:?}");
    assert_eq!(sent[0].0, "demo-member");
    assert_eq!(sent[0].1, "tpl-dispatch");
    assert_eq!(sent[0].2, "tok-2", "the stale token was replaced");
    let dispatched: Vec<_> = messages_of(&w.app, &w.member).await;
    assert_eq!(dispatched.len(), 1);
    assert_eq!(dispatched[0].delivery, Delivery::Sent);
    assert_eq!(dispatched[0].attempts, 3, "two failures, then success");
    // 2 failures, 1 refusal for the stale token, 1 success.
    assert_eq!(fake.send_calls.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn without_consent_nothing_is_sent_but_the_inbox_has_it() {
    let (base, fake) = start_fake().await;
    let w = World::on(app_with_wechat(&base).await).await;
    let order = w.place().await;
    w.publish(&order).await;
    w.app
        .ok(
            &w.member.token,
            "mutation($id: ID!) { takeOrder(orderId: $id) { status } }",
            json!({ "id": order }),
        )
        .await;
    deliver_due(&w.app.db, &w.app.delivery, Utc::now())
        .await
        .expect("round");
    assert_eq!(fake.send_calls.load(Ordering::SeqCst), 0);
    let accepted = messages_of(&w.app, &w.resident).await;
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].delivery, Delivery::Skipped);
    let inbox = w
        .app
        .ok(
            &w.resident.token,
            "{ myInbox { edges { node { kind delivery } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        inbox["myInbox"]["edges"][0]["node"],
        json!({ "kind": "ORDER_ACCEPTED", "delivery": "SKIPPED" })
    );
}

#[tokio::test]
async fn two_instances_running_workers_send_each_message_once() {
    let (base, fake) = start_fake().await;
    let w = World::on(app_with_wechat(&base).await).await;
    let second = w.app.another_instance().await;
    // As many as one resident may place in an hour.
    const ORDERS: usize = 10;
    consent(&w.app, &w.member, "NEW_OPEN_ORDER", ORDERS).await;
    for _ in 0..ORDERS {
        let order = w.place().await;
        w.app
            .ok(&w.staff.token, PUBLISH, json!({ "id": order }))
            .await;
    }
    w.app.fanned_out().await;
    let now = Utc::now();
    for round in 0..3 {
        let at = now + Duration::minutes(round * 10);
        let (a, b) = tokio::join!(
            deliver_due(&w.app.db, &w.app.delivery, at),
            deliver_due(&second.db, &second.delivery, at),
        );
        a.expect("first worker");
        b.expect("second worker");
    }
    let sent = fake.sent.lock().expect("sent").clone();
    let to_member = sent.iter().filter(|(to, ..)| to == "demo-member").count();
    assert_eq!(to_member, ORDERS, "each NEW_OPEN_ORDER once: {sent:?}");
    assert!(
        messages_of(&w.app, &w.member)
            .await
            .iter()
            .all(|m| m.delivery == Delivery::Sent && m.attempts == 1)
    );
    // The other member gave no consent.
    assert!(
        messages_of(&w.app, &w.other_member)
            .await
            .iter()
            .all(|m| m.delivery == Delivery::Skipped)
    );
    if with_redis() {
        assert_eq!(
            fake.tokens_issued.load(Ordering::SeqCst),
            1,
            "one access token shared by both instances"
        );
    }
}

const PLACE_TEXT: &str = "mutation($c: ID!, $t: String!) { placeOrder(input: { categoryId: $c, title: $t, description: \"\", address: \"3号楼\", contactPhone: \"13800000001\" }) { id } }";
const FLAGS: &str = "query($c: ID!) { contentFlags(communityId: $c) { edges { node { id field excerpt reason } } } }";

#[tokio::test]
async fn risky_text_is_refused_and_nothing_is_stored() {
    let (base, fake) = start_fake().await;
    let w = World::on(app_with_wechat(&base).await).await;
    let vars = |title: &str| json!({ "c": w.demo.repair, "t": title });
    let refused = w
        .app
        .graphql(Some(&w.resident.token), PLACE_TEXT, vars("违规广告"))
        .await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(
        refused["errors"][0]["extensions"]["reason"],
        "CONTENT_REJECTED"
    );
    let mine = w
        .app
        .ok(
            &w.resident.token,
            "{ myOrders { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(mine["myOrders"]["edges"], json!([]), "nothing stored");
    assert_eq!(
        fake.checked.lock().expect("checked")[0],
        ("demo-resident".to_owned(), 3),
        "checked as the author, in the forum scene"
    );

    // "review": stored, and flagged for the community's STAFF.
    let placed = w
        .app
        .ok(&w.resident.token, PLACE_TEXT, vars("楼道待审照片"))
        .await;
    // Reasons others read are checked too.
    let cancel =
        "mutation($id: ID!, $r: String!) { cancelOrder(orderId: $id, reason: $r) { status } }";
    let refused = w
        .app
        .graphql(
            Some(&w.resident.token),
            cancel,
            json!({ "id": placed["placeOrder"]["id"], "r": "违规内容" }),
        )
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["reason"],
        "CONTENT_REJECTED"
    );
    // So is the reason of a points correction, which its recipient reads.
    let adjust =
        "mutation($u: ID!, $r: String!) { adjustPoints(userId: $u, amount: 5, reason: $r) { id } }";
    let refused = w
        .app
        .graphql(
            Some(&w.staff.token),
            adjust,
            json!({ "u": w.resident.user_id, "r": "违规扣分" }),
        )
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["reason"], "CONTENT_REJECTED",
        "{refused}"
    );
    let flags = w
        .app
        .ok(&w.staff.token, FLAGS, json!({ "c": w.demo.community }))
        .await;
    assert_eq!(
        flags["contentFlags"]["edges"][0]["node"]["reason"], "REVIEW",
        "{flags}"
    );
}

#[tokio::test]
async fn a_flag_goes_to_the_community_its_author_is_in_when_the_text_is_stored() {
    let (base, fake) = start_fake().await;
    let w = World::on(app_with_wechat(&base).await).await;
    let vars = |title: &str| json!({ "c": w.demo.repair, "t": title });
    let excerpts = async |staff: &str, community: &str| {
        let flags = w.app.ok(staff, FLAGS, json!({ "c": community })).await;
        flags["contentFlags"]["edges"]
            .as_array()
            .expect("flags")
            .iter()
            .map(|edge| {
                edge["node"]["excerpt"]
                    .as_str()
                    .expect("excerpt")
                    .to_owned()
            })
            .collect::<Vec<_>>()
    };
    w.app
        .ok(&w.resident.token, PLACE_TEXT, vars("楼道待审照片"))
        .await;
    // The instance now knows the author for WeChat: checking the next order's texts reads
    // nothing. PostgreSQL files it in one statement; SQLite reads the requester and takes its
    // transaction (the budget row, the order, its event, the inbox rows).
    let before = w.app.statements().await;
    w.app
        .ok(&w.resident.token, PLACE_TEXT, vars("楼道灯不亮"))
        .await;
    let statements = w.app.statements().await - before;
    w.app.assert_statements("placeOrder", statements, (1, 5));
    // Their community it must not remember.
    w.app
        .ok(
            &w.resident.token,
            "mutation($p: UpdateProfileInput!) { updateMyProfile(input: $p) { id } }",
            json!({ "p": { "communityId": w.demo.other_community } }),
        )
        .await;
    w.app
        .ok(&w.resident.token, PLACE_TEXT, vars("车棚待审照片"))
        .await;
    w.app
        .grant("far-staff", Role::Staff, Some(&w.demo.other_community))
        .await;
    let far_staff = w.app.login("far-staff").await;
    assert_eq!(
        excerpts(&w.staff.token, &w.demo.community).await,
        ["楼道待审照片"]
    );
    assert_eq!(
        excerpts(&far_staff.token, &w.demo.other_community).await,
        ["车棚待审照片"]
    );
    let checked = fake.checked.lock().expect("checked").clone();
    assert_eq!(checked.len(), 3, "the empty descriptions are not sent");
    assert!(
        checked.iter().all(|(openid, _)| openid == "demo-resident"),
        "{checked:?}"
    );
}

#[tokio::test]
async fn while_wechat_is_unreachable_text_is_stored_and_flagged() {
    let (base, fake) = start_fake().await;
    let w = World::on(app_with_wechat(&base).await).await;
    fake.content_check_down.store(true, Ordering::SeqCst);
    w.app
        .ok(
            &w.resident.token,
            PLACE_TEXT,
            json!({ "c": w.demo.repair, "t": "厨房漏水" }),
        )
        .await;
    let flags = w
        .app
        .ok(&w.staff.token, FLAGS, json!({ "c": w.demo.community }))
        .await;
    let flag = flags["contentFlags"]["edges"][0]["node"].clone();
    assert_eq!(flag["reason"], "UNCHECKED");
    assert_eq!(flag["field"], "title");
    assert_eq!(flag["excerpt"], "厨房漏水");
    w.app
        .ok(
            &w.staff.token,
            "mutation($id: ID!) { resolveContentFlag(id: $id) { resolvedAt } }",
            json!({ "id": flag["id"] }),
        )
        .await;
    let flags = w
        .app
        .ok(&w.staff.token, FLAGS, json!({ "c": w.demo.community }))
        .await;
    assert_eq!(flags["contentFlags"]["edges"], json!([]));
}

/// Without an access token every write would wait out the lock behind a fetch bound to fail
/// as well: after one failed fetch, callers go on at once (text flagged UNCHECKED) and WeChat
/// is not asked again for a few seconds.
#[tokio::test]
async fn after_the_token_fetch_fails_writes_go_on_without_waiting() {
    captured_logs();
    let (base, fake) = start_fake().await;
    let w = World::on(app_with_wechat(&base).await).await;
    fake.token_down.store(true, Ordering::SeqCst);
    for title in ["厨房漏水", "楼道灯坏了", "门锁坏了"] {
        w.app
            .ok(
                &w.resident.token,
                PLACE_TEXT,
                json!({ "c": w.demo.repair, "t": title }),
            )
            .await;
    }
    assert_eq!(
        fake.tokens_refused.load(Ordering::SeqCst),
        1,
        "one fetch failed; the next writes did not try again"
    );
    let flags = w
        .app
        .ok(&w.staff.token, FLAGS, json!({ "c": w.demo.community }))
        .await;
    let flags = flags["contentFlags"]["edges"].as_array().expect("flags");
    assert_eq!(flags.len(), 3);
    assert!(
        flags
            .iter()
            .all(|flag| flag["node"]["reason"] == "UNCHECKED")
    );
    // Each later write met the recorded outage instead of waiting for the lock to give up.
    let logs = captured_logs();
    assert!(
        !logs.contains("timed out waiting for another instance"),
        "{logs}"
    );
}

#[tokio::test]
async fn a_verified_phone_becomes_the_default_contact_phone() {
    let (base, _fake) = start_fake().await;
    let w = World::on(app_with_wechat(&base).await).await;
    let user = w.app.login("phone-user").await;
    w.app
        .ok(
            &user.token,
            "mutation($c: ID!) { updateMyProfile(input: { communityId: $c }) { id } }",
            json!({ "c": w.demo.community }),
        )
        .await;
    let place = "mutation($c: ID!) { placeOrder(input: { categoryId: $c, title: \"修门\", description: \"\", address: \"3号楼\" }) { contactPhone } }";
    let vars = json!({ "c": w.demo.repair });
    assert_eq!(
        w.app.refused(Some(&user.token), place, vars.clone()).await,
        "BAD_USER_INPUT",
        "no phone yet"
    );
    let bind = "mutation($code: String!) { bindPhoneNumber(code: $code) { phone } }";
    assert_eq!(
        w.app
            .refused(Some(&user.token), bind, json!({ "code": "used-code" }))
            .await,
        "BAD_USER_INPUT"
    );
    let bound = w
        .app
        .ok(&user.token, bind, json!({ "code": "phone-code-ok" }))
        .await;
    assert_eq!(bound["bindPhoneNumber"]["phone"], "13912345678");
    let placed = w.app.ok(&user.token, place, vars).await;
    assert_eq!(placed["placeOrder"]["contactPhone"], "13912345678");
}

#[tokio::test]
async fn text_is_validated_before_it_is_checked_and_checked_on_every_entry_point() {
    let (base, fake) = start_fake().await;
    let w = World::on(app_with_wechat(&base).await).await;
    // Too long for a title: refused by validation, and WeChat never sees it.
    let oversize = w
        .app
        .graphql(
            Some(&w.resident.token),
            PLACE_TEXT,
            json!({ "c": w.demo.repair, "t": "长".repeat(100_001) }),
        )
        .await;
    assert_eq!(error_code(&oversize), "BAD_USER_INPUT", "{oversize}");
    let reason = w
        .app
        .graphql(
            Some(&w.staff.token),
            "mutation($id: ID!, $r: String) { decidePointsAdjustment(requestId: $id, approve: false, reason: $r) { id } }",
            json!({ "id": uuid::Uuid::now_v7(), "r": "长".repeat(100_001) }),
        )
        .await;
    assert_eq!(error_code(&reason), "BAD_USER_INPUT", "{reason}");
    assert!(fake.checked.lock().expect("checked").is_empty());

    // Open311 files through the same domain command, so its text is checked too.
    let admin = w.app.login("demo-admin").await;
    let key = w
        .app
        .ok(
            &admin.token,
            "mutation($c: ID!) { issueOpen311Key(communityId: $c, name: \"12345热线\") { apiKey } }",
            json!({ "c": w.demo.community }),
        )
        .await["issueOpen311Key"]["apiKey"]
        .as_str()
        .expect("key")
        .to_owned();
    let filed = w
        .app
        .http
        .post(format!("{}/open311/v2/requests.json", w.app.address))
        .form(&[
            ("api_key", key.as_str()),
            ("service_code", "REPAIR"),
            ("description", "违规广告，加微信"),
            ("address_string", "凤凰社区5号楼"),
            ("phone", "13700009999"),
        ])
        .send()
        .await
        .expect("open311");
    assert_eq!(filed.status(), reqwest::StatusCode::BAD_REQUEST);
    let refusal: Value = filed.json().await.expect("json");
    assert!(
        refusal[0]["description"]
            .as_str()
            .is_some_and(|d| d.contains("content security")),
        "{refusal}"
    );
    assert!(!fake.checked.lock().expect("checked").is_empty(), "checked");
    let orders = entity::order::Entity::find()
        .all(&w.app.db)
        .await
        .expect("orders");
    assert!(orders.is_empty(), "nothing filed");

    // Unchecked text (WeChat down, fail-open) is flagged only when it was stored.
    fake.content_check_down.store(true, Ordering::SeqCst);
    // Checked (unchecked, flag pending), then refused for its photo: nothing stored, no flag.
    let missing_photo = w
        .app
        .graphql(
            Some(&w.resident.token),
            "mutation($c: ID!) { placeOrder(input: { categoryId: $c, title: \"楼道灯坏了\", description: \"\", address: \"3号楼\", contactPhone: \"13800000001\", photoKeys: [\"photos/orders/none.jpg\"] }) { id } }",
            json!({ "c": w.demo.repair }),
        )
        .await;
    assert_eq!(
        error_code(&missing_photo),
        "BAD_USER_INPUT",
        "{missing_photo}"
    );
    let flags = w
        .app
        .ok(&w.staff.token, FLAGS, json!({ "c": w.demo.community }))
        .await;
    assert_eq!(flags["contentFlags"]["edges"], json!([]), "{flags}");
    w.app
        .ok(
            &w.resident.token,
            PLACE_TEXT,
            json!({ "c": w.demo.repair, "t": "楼道灯坏了" }),
        )
        .await;
    let flags = w
        .app
        .ok(&w.staff.token, FLAGS, json!({ "c": w.demo.community }))
        .await;
    assert_eq!(
        flags["contentFlags"]["edges"][0]["node"]["reason"], "UNCHECKED",
        "{flags}"
    );
}

/// Refused with CONTENT_REJECTED (and so nothing stored).
fn rejected(body: &Value) -> bool {
    body["errors"][0]["extensions"]["reason"] == "CONTENT_REJECTED"
}

#[tokio::test]
async fn every_command_checks_the_text_it_stores_and_only_after_it_may_act() {
    let (base, fake) = start_fake().await;
    let w = World::on(app_with_wechat(&base).await).await;
    let checks = || fake.checked.lock().expect("checked").len();
    let (merchant, _cashier) =
        crate::helpers::merchant_with_cashier(&w, &w.demo.community, &w.staff, "checked").await;
    let owner = w.app.login("checked-owner").await;
    let soon = Utc::now() + Duration::days(1);
    let later = soon + Duration::hours(2);
    let kind = w
        .app
        .ok(
            &w.staff.token,
            "mutation($c: ID!) { setDeedKind(communityId: $c, name: \"垃圾分类\", basePoints: 5) { id } }",
            json!({ "c": w.demo.community }),
        )
        .await["setDeedKind"][0]["id"]
        .clone();
    let unit = "mutation($c: ID!, $n: String!) { registerUnit(input: { communityId: $c, name: $n, partyOrganisation: \"党支部\", contactName: \"王\", contactPhone: \"13700000001\", resources: \"\" }) { id status } }";
    let wish = "mutation($t: String!, $by: DateTime!) { postWish(input: { title: $t, neededBy: $by }) { id status } }";
    let topic = w
        .app
        .ok(
            &w.staff.token,
            "mutation($c: ID!, $s: DateTime!, $e: DateTime!) { raiseTopic(input: { communityId: $c, title: \"加装电梯\", body: \"征求意见\", ballotKind: YES_NO_ABSTAIN, votingStartsAt: $s, votingEndsAt: $e }) { id } }",
            json!({ "c": w.demo.community, "s": soon, "e": later }),
        )
        .await["raiseTopic"]["id"]
        .clone();
    w.app
        .ok(
            &w.staff.token,
            "mutation($t: ID!) { advanceTopic(topicId: $t, to: DISCUSSION) { status } }",
            json!({ "t": topic }),
        )
        .await;
    let risky: Vec<(&Login, &str, Value)> = vec![
        (
            &w.resident,
            "mutation($t: ID!) { postTopicComment(topicId: $t, body: \"违规评论\") { id } }",
            json!({ "t": topic }),
        ),
        (
            &w.staff,
            "mutation($t: ID!) { postTopicProposal(topicId: $t, title: \"违规方案\", body: \"在东门加装道闸\") { id } }",
            json!({ "t": topic }),
        ),
        (
            &w.staff,
            "mutation($c: ID!, $u: ID!) { liftSignupHold(communityId: $c, userId: $u, reason: \"违规\") { userId } }",
            json!({ "c": w.demo.community, "u": w.resident.user_id }),
        ),
        (
            &w.resident,
            "mutation { updateMyProfile(input: { name: \"违规名字\" }) { id } }",
            json!({}),
        ),
        (
            &w.resident,
            "mutation($c: ID!) { applyMerchant(input: { communityId: $c, name: \"违规小店\", category: \"理发\", address: \"1号\", latitude: 36.66, longitude: 117.02, phone: \"13700000000\", openingHours: \"全天\" }) { id } }",
            json!({ "c": w.demo.community }),
        ),
        (
            &w.staff,
            "mutation($c: ID!, $s: DateTime!, $e: DateTime!) { createActivity(input: { communityId: $c, title: \"义诊\", place: \"违规地点\", startsAt: $s, endsAt: $e, capacity: 5 }) { id } }",
            json!({ "c": w.demo.community, "s": soon, "e": later }),
        ),
        (&w.resident, wish, json!({ "t": "违规心愿", "by": later })),
        (
            &w.resident,
            unit,
            json!({ "c": w.demo.community, "n": "违规单位" }),
        ),
        (
            &w.staff,
            "mutation($u: ID!) { requestPointsAdjustment(userId: $u, amount: 5, reason: \"违规\") { id } }",
            json!({ "u": w.resident.user_id }),
        ),
        (
            &owner,
            "mutation($m: ID!, $f: DateTime!, $u: DateTime!) { createOffer(input: { merchantId: $m, title: \"违规优惠\", pointsCost: 10, validFrom: $f, validUntil: $u }) { id } }",
            json!({ "m": merchant, "f": Utc::now(), "u": later }),
        ),
        (
            &w.staff,
            "mutation($m: ID!) { suspendMerchant(merchantId: $m, reason: \"违规理由\") { id } }",
            json!({ "m": merchant }),
        ),
        (
            &w.resident,
            "mutation($k: ID!, $when: DateTime!) { reportGoodDeed(kindId: $k, description: \"违规好事\", when: $when) { id } }",
            json!({ "k": kind, "when": Utc::now() - Duration::hours(1) }),
        ),
    ];
    for (who, query, vars) in risky {
        let refused = w.app.graphql(Some(&who.token), query, vars).await;
        assert!(rejected(&refused), "{query}: {refused}");
    }
    let me = w
        .app
        .ok(&w.resident.token, "{ me { name } }", json!({}))
        .await;
    assert_ne!(me["me"]["name"], "违规名字", "the profile kept its name");

    // Someone who may not act has their text refused for that, and WeChat never sees it.
    let before = checks();
    let forbidden = w
        .app
        .graphql(
            Some(&w.resident.token),
            "mutation($m: ID!) { suspendMerchant(merchantId: $m, reason: \"看不惯\") { id } }",
            json!({ "m": merchant }),
        )
        .await;
    assert_eq!(error_code(&forbidden), "FORBIDDEN", "{forbidden}");
    assert_eq!(checks(), before, "not checked for someone who may not act");

    // A reviewer's note is read by the applicant: checked too, and a refused one leaves the
    // application to be reviewed.
    let unit_id = w
        .app
        .ok(
            &w.resident.token,
            unit,
            json!({ "c": w.demo.community, "n": "凤凰物业" }),
        )
        .await["registerUnit"]["id"]
        .clone();
    let wish_id = w
        .app
        .ok(
            &w.resident.token,
            wish,
            json!({ "t": "想要一台助听器", "by": later }),
        )
        .await["postWish"]["id"]
        .clone();
    let review_unit = "mutation($id: ID!, $n: String) { reviewUnit(unitId: $id, approve: false, note: $n) { status } }";
    let review_wish = "mutation($id: ID!, $n: String) { reviewWish(wishId: $id, approve: false, note: $n) { status } }";
    for (query, id) in [(review_unit, &unit_id), (review_wish, &wish_id)] {
        let refused = w
            .app
            .graphql(
                Some(&w.staff.token),
                query,
                json!({ "id": id, "n": "违规说明" }),
            )
            .await;
        assert!(rejected(&refused), "{query}: {refused}");
        let reviewed = w
            .app
            .ok(&w.staff.token, query, json!({ "id": id, "n": "材料不全" }))
            .await;
        assert!(reviewed.to_string().contains("REJECTED"), "{reviewed}");
    }
}

#[tokio::test]
async fn the_texts_of_one_command_are_checked_at_once_not_one_after_another() {
    let (base, fake) = start_fake().await;
    let w = World::on(app_with_wechat(&base).await).await;
    fake.check_delay_ms.store(200, Ordering::SeqCst);
    let soon = Utc::now() + Duration::days(1);
    w.app
        .ok(
            &w.staff.token,
            "mutation($c: ID!, $s: DateTime!, $e: DateTime!) { createActivity(input: { communityId: $c, title: \"义诊\", description: \"社区卫生站医生坐诊\", place: \"活动室\", startsAt: $s, endsAt: $e, capacity: 5 }) { id } }",
            json!({ "c": w.demo.community, "s": soon, "e": soon + Duration::hours(2) }),
        )
        .await;
    assert_eq!(fake.checked.lock().expect("checked").len(), 3);
    assert_eq!(
        fake.most_checks_at_once.load(Ordering::SeqCst),
        3,
        "title, description and place were with WeChat at the same time"
    );
}

/// One run of the worker sends everything due, batch after batch, not one batch: a published
/// order alone makes a message for each of the community's Party members.
#[tokio::test]
async fn one_run_sends_everything_due_not_one_batch() {
    let (base, fake) = start_fake().await;
    let w = World::on(app_with_wechat(&base).await).await;
    // As many as one resident may place in an hour: with the STAFF's NEW_ORDER rows, 30 due.
    const ORDERS: usize = 10;
    for member in [&w.member, &w.other_member] {
        consent(&w.app, member, "NEW_OPEN_ORDER", ORDERS).await;
    }
    for _ in 0..ORDERS {
        let order = w.place().await;
        w.publish(&order).await;
    }
    w.app.fanned_out().await;
    deliver_due(&w.app.db, &w.app.delivery, Utc::now())
        .await
        .expect("one run");
    let sent = fake.sent.lock().expect("sent").clone();
    for member in ["demo-member", "demo-member-2"] {
        let to_member = sent.iter().filter(|(to, ..)| to == member).count();
        assert_eq!(to_member, ORDERS, "{member}: {sent:?}");
    }
    let pending = inbox_message::Entity::find()
        .filter(inbox_message::Column::Delivery.eq(Delivery::Pending))
        .count(&w.app.db)
        .await
        .expect("pending");
    assert_eq!(pending, 0, "nothing due is left for the next run");
}

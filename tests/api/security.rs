//! What a stranger or a participant can send the public endpoint, and what it must not achieve:
//! crash or stall the server, fill its memory or metrics, read secrets from its log, or act
//! on their own behalf.
use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    helpers::{PUBLISH, TAKE, World},
    helpers::{error_code, spawn_app, spawn_app_with},
};

const SERVED: &str = "{ serviceCategories { id } }";

fn limit_of(body: &Value) -> &str {
    assert_eq!(error_code(body), "QUERY_TOO_COMPLEX", "{body}");
    body["errors"][0]["extensions"]["limit"]
        .as_str()
        .unwrap_or_else(|| panic!("which limit? {body}"))
}

#[tokio::test]
async fn fragment_cycles_are_refused_and_the_server_keeps_serving() {
    let app = spawn_app().await;
    for (operation, root) in [
        ("mutation", "MutationRoot"),
        ("query", "QueryRoot"),
        ("subscription", "SubscriptionRoot"),
    ] {
        let cycle = format!(
            "{operation} {{ ...A }} fragment A on {root} {{ ...B }} fragment B on {root} {{ ...A }}"
        );
        let body = app.graphql(None, &cycle, json!({})).await;
        assert_eq!(limit_of(&body), "fragment cycle", "{operation}");
        let next = app.graphql(None, SERVED, json!({})).await;
        assert!(next["data"]["serviceCategories"].is_array(), "{next}");
    }
}

#[tokio::test]
async fn a_fragment_bomb_is_refused_at_once_while_others_are_served() {
    let app = spawn_app().await;
    let mut bomb =
        String::from("query { ...F30 } fragment F0 on QueryRoot { serviceCategories { id } }");
    for level in 1..=30 {
        let previous = level - 1;
        bomb.push_str(&format!(
            " fragment F{level} on QueryRoot {{ ...F{previous} ...F{previous} }}"
        ));
    }
    // 2^30 fields once expanded: without a bound this holds a worker for minutes.
    let (refused, served) = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::join!(
            app.graphql(None, &bomb, json!({})),
            app.graphql(None, SERVED, json!({}))
        )
    })
    .await
    .expect("the bomb must not hold the server");
    assert_eq!(limit_of(&refused), "fields");
    assert!(served["data"]["serviceCategories"].is_array(), "{served}");
}

/// `n` aliases of the merchants ⇄ offers cycle, four levels deep.
fn merchant_cycle(aliases: usize, first: usize) -> String {
    let fields: String = (0..aliases)
        .map(|i| format!("m{i}: merchants(first: {first}) {{ ...Cycle }} "))
        .collect();
    format!(
        "query {{ {fields} }} fragment Cycle on MerchantConnection {{ edges {{ node {{ id \
         offers {{ merchant {{ offers {{ merchant {{ offers {{ merchant {{ offers {{ id }} }} }} }} }} }} }} }} }} }}"
    )
}

#[tokio::test]
async fn list_fields_count_their_size_and_aliases_are_capped() {
    let w = World::new().await;
    let token = &w.resident.token;
    let many = w
        .app
        .graphql(Some(token), &merchant_cycle(60, 20), json!({}))
        .await;
    assert_eq!(limit_of(&many), "aliases", "{many}");
    // Under the alias cap, the cost of the lists refuses it: 20 merchants × 20 offers × …
    let costly = w
        .app
        .graphql(Some(token), &merchant_cycle(1, 20), json!({}))
        .await;
    assert_eq!(limit_of(&costly), "cost");
    let message = costly["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("10000"),
        "the refusal states the limit: {message}"
    );
    // The page size comes from variables too.
    let by_variable = w
        .app
        .graphql(
            Some(token),
            "query($n: Int) { merchants(first: $n) { edges { node { offers { merchant { offers { merchant { offers { id } } } } } } } } }",
            json!({ "n": 100 }),
        )
        .await;
    assert_eq!(limit_of(&by_variable), "cost");
    // What the mini-program asks stays well within.
    let listing = w
        .app
        .ok(
            token,
            "{ merchants(first: 20) { edges { node { id name badges offers { id title pointsCost } } } } }",
            json!({}),
        )
        .await;
    assert!(listing["merchants"]["edges"].is_array());
}

#[tokio::test]
async fn anonymous_callers_get_a_smaller_budget_per_address() {
    let app = spawn_app_with(|settings| settings.anonymous_rate_limit_per_minute = 3).await;
    let login = app.login("budget-user").await;
    for _ in 0..2 {
        let body = app.graphql(None, SERVED, json!({})).await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    let response = app
        .http
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": SERVED }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    // A logged-in user has a budget of their own.
    app.ok(&login.token, SERVED, json!({})).await;
}

#[tokio::test]
async fn forged_forwarded_addresses_do_not_make_fresh_budgets() {
    let app = spawn_app_with(|settings| {
        settings.anonymous_rate_limit_per_minute = 2;
        settings.hongfan_trust_proxy = true;
    })
    .await;
    let mut statuses = Vec::new();
    for forged in ["1.1.1.1", "2.2.2.2", "3.3.3.3"] {
        let response = app
            .http
            .post(format!("{}/graphql", app.address))
            .header("x-forwarded-for", format!("{forged}, 203.0.113.7"))
            .json(&json!({ "query": SERVED }))
            .send()
            .await
            .expect("request");
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 429]);
}

#[tokio::test]
async fn persisted_queries_are_small() {
    use sha2::{Digest, Sha256};
    let app = spawn_app().await;
    let big = format!(
        "{{ serviceCategories {{ id }} }} # {}",
        "x".repeat(9 * 1024)
    );
    let hash = format!("{:x}", Sha256::digest(big.as_bytes()));
    let body = app
        .http
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": big, "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } }))
        .send()
        .await
        .expect("request")
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    let lookup = app
        .http
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } }))
        .send()
        .await
        .expect("request")
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(
        error_code(&lookup),
        "PERSISTED_QUERY_NOT_FOUND",
        "not stored"
    );
}

#[tokio::test]
async fn metrics_are_private_and_label_only_known_operations() {
    let app = spawn_app().await;
    let public = app
        .http
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("request");
    assert_eq!(public.status(), 404, "not on the public port");
    let login = app.login("metrics-user").await;
    let named = app
        .http
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&login.token)
        .json(&json!({ "query": "query MyCategories { serviceCategories { id } }", "operationName": "MyCategories" }))
        .send()
        .await
        .expect("request");
    assert_eq!(named.status(), 200);
    for i in 0..5 {
        app.http
            .post(format!("{}/graphql", app.address))
            .json(&json!({ "query": format!("query Random{i} {{ __typename }}"), "operationName": format!("Random{i}") }))
            .send()
            .await
            .expect("request");
    }
    let text = app.metrics_text().await;
    assert!(text.contains("operation=\"MyCategories\""), "{text}");
    assert!(text.contains("operation=\"anonymous\""), "{text}");
    assert!(
        !text.contains("Random"),
        "strangers' names make no series: {text}"
    );
}

#[tokio::test]
async fn production_gives_no_schema_hints() {
    let app = spawn_app_with(|settings| {
        settings.hongfan_env = hongfan::config::Environment::Production;
        settings.wechat_appid = Some("wx-app".into());
        settings.wechat_secret = Some(hongfan::config::Secret::new("wx-secret-0123456789"));
    })
    .await;
    let body = app
        .graphql(None, "{ serviceCategoriez { id } }", json!({}))
        .await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "{body}");
    assert!(!message.contains("Did you mean"), "{message}");
}

#[tokio::test]
async fn a_logged_out_token_stays_refused_through_the_leeway() {
    let app = spawn_app_with(|settings| settings.access_token_ttl_seconds = 1).await;
    let login = app.login("leeway-user").await;
    app.ok(&login.token, "mutation { logout }", json!({})).await;
    // Past `exp`, inside the validation leeway: the revocation must still be remembered.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let body = app
        .graphql(Some(&login.token), "{ me { id } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
}

#[tokio::test]
async fn phone_numbers_are_real_mainland_formats() {
    let w = World::new().await;
    let profile = "mutation($p: String!) { updateMyProfile(input: { phone: $p }) { id } }";
    for bad in ["0000000", "12345678901", "138-0000-0001x"] {
        let body = w
            .app
            .graphql(Some(&w.resident.token), profile, json!({ "p": bad }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{bad}: {body}");
    }
    w.app
        .ok(&w.resident.token, profile, json!({ "p": "0531-86661234" }))
        .await;
    let long_filter = w
        .app
        .refused(
            Some(&w.resident.token),
            "query($c: String) { merchants(filter: { category: $c }) { edges { node { id } } } }",
            json!({ "c": "类".repeat(200) }),
        )
        .await;
    assert_eq!(long_filter, "BAD_USER_INPUT");
}

#[tokio::test]
async fn roles_are_shown_to_the_user_and_staff_only() {
    let w = World::new().await;
    let roles = "query($id: ID!) { order(id: $id) { requester { roles { role } } } }";
    let order = w.place().await;
    w.app
        .ok(&w.staff.token, PUBLISH, json!({ "id": order }))
        .await;
    w.app
        .ok(&w.member.token, TAKE, json!({ "id": order }))
        .await;
    let as_member = w
        .app
        .ok(&w.member.token, roles, json!({ "id": order }))
        .await;
    assert_eq!(as_member["order"]["requester"]["roles"], json!([]));
    let as_staff = w
        .app
        .ok(&w.staff.token, roles, json!({ "id": order }))
        .await;
    assert_eq!(
        as_staff["order"]["requester"]["roles"],
        json!([{ "role": "RESIDENT" }])
    );
    let own = w
        .app
        .ok(&w.member.token, "{ me { roles { role } } }", json!({}))
        .await;
    assert_eq!(own["me"]["roles"], json!([{ "role": "PARTY_MEMBER" }]));
}

const ADJUST: &str = "mutation($u: ID!, $a: Int!) { adjustPoints(userId: $u, amount: $a, reason: \"补录\") { id amount } }";

#[tokio::test]
async fn staff_cannot_credit_themselves_and_big_adjustments_need_a_second_member() {
    let w = World::on(spawn_app_with(|settings| settings.adjustment_daily_cap = 1_000).await).await;
    let app = &w.app;
    let staff_id = app.ok(&w.staff.token, "{ me { id } }", json!({})).await["me"]["id"].clone();
    let own = app
        .graphql(
            Some(&w.staff.token),
            ADJUST,
            json!({ "u": staff_id, "a": 500 }),
        )
        .await;
    assert_eq!(error_code(&own), "FORBIDDEN", "{own}");

    // Within the daily cap (1000 by default) it posts at once; past it, it needs approval.
    app.ok(
        &w.staff.token,
        ADJUST,
        json!({ "u": w.resident.user_id, "a": 900 }),
    )
    .await;
    let over = app
        .graphql(
            Some(&w.staff.token),
            ADJUST,
            json!({ "u": w.resident.user_id, "a": 200 }),
        )
        .await;
    assert_eq!(error_code(&over), "APPROVAL_REQUIRED", "{over}");
    let requested = app
        .ok(
            &w.staff.token,
            "mutation($u: ID!) { requestPointsAdjustment(userId: $u, amount: 200, reason: \"大额补录\") { id status } }",
            json!({ "u": w.resident.user_id }),
        )
        .await;
    let request = requested["requestPointsAdjustment"]["id"].clone();
    assert_eq!(requested["requestPointsAdjustment"]["status"], "PENDING");
    let decide = "mutation($r: ID!) { decidePointsAdjustment(requestId: $r, approve: true) { status entryId } }";
    let by_requester = app
        .refused(Some(&w.staff.token), decide, json!({ "r": request }))
        .await;
    assert_eq!(by_requester, "FORBIDDEN");

    let second = app.login("second-staff").await;
    app.grant(
        "second-staff",
        entity::enums::Role::Staff,
        Some(&w.demo.community),
    )
    .await;
    let pending = app
        .ok(
            &second.token,
            "{ pendingPointsAdjustments { id amount requestedBy { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(pending["pendingPointsAdjustments"][0]["id"], request);
    let approved = app.ok(&second.token, decide, json!({ "r": request })).await;
    assert_eq!(approved["decidePointsAdjustment"]["status"], "APPROVED");
    let again = app
        .refused(Some(&second.token), decide, json!({ "r": request }))
        .await;
    assert_eq!(again, "CONFLICT");
    let balance = app
        .ok(&w.resident.token, "{ myPoints { balance } }", json!({}))
        .await;
    assert_eq!(balance["myPoints"]["balance"], 1100);

    // ADMIN audits every manual adjustment: who, whom, how much, why.
    let admin = app.login("demo-admin").await;
    let audit = app
        .ok(
            &admin.token,
            "{ pointsAdjustments { edges { node { userId amount reason createdBy { id } } } } }",
            json!({}),
        )
        .await;
    let entries = audit["pointsAdjustments"]["edges"]
        .as_array()
        .expect("edges")
        .clone();
    assert_eq!(entries.len(), 2, "{audit}");
    assert!(
        entries
            .iter()
            .all(|e| e["node"]["createdBy"]["id"] == staff_id)
    );
    assert!(
        entries
            .iter()
            .all(|e| e["node"]["userId"] == w.resident.user_id.as_str())
    );
    let not_admin = app
        .refused(
            Some(&w.staff.token),
            "{ pointsAdjustments { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(not_admin, "FORBIDDEN");
}

#[tokio::test]
async fn crediting_follows_a_membership_the_community_confirmed() {
    let w = World::new().await;
    let app = &w.app;
    // The demo resident, confirmed in 凤凰社区, moves her profile to 清河社区 by herself.
    app.ok(
        &w.resident.token,
        "mutation($c: ID!) { updateMyProfile(input: { communityId: $c }) { id } }",
        json!({ "c": w.demo.other_community }),
    )
    .await;
    let other_staff = app.login("qinghe-staff").await;
    app.grant(
        "qinghe-staff",
        entity::enums::Role::Staff,
        Some(&w.demo.other_community),
    )
    .await;
    let refused = app
        .graphql(
            Some(&other_staff.token),
            ADJUST,
            json!({ "u": w.resident.user_id, "a": 50 }),
        )
        .await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
    // Where she was confirmed, STAFF still may; and once 清河社区 confirms her, its STAFF too.
    app.ok(
        &w.staff.token,
        ADJUST,
        json!({ "u": w.resident.user_id, "a": 50 }),
    )
    .await;
    app.ok(
        &other_staff.token,
        "mutation($u: ID!, $c: ID) { grantRole(userId: $u, role: RESIDENT, communityId: $c) { id } }",
        json!({ "u": w.resident.user_id, "c": w.demo.other_community }),
    )
    .await;
    app.ok(
        &other_staff.token,
        ADJUST,
        json!({ "u": w.resident.user_id, "a": 50 }),
    )
    .await;
}

#[tokio::test]
async fn nobody_serves_their_own_order_or_confirms_their_own_time() {
    let w = World::new().await;
    let app = &w.app;
    // A Party member places an order of their own …
    app.ok(
        &w.member.token,
        "mutation($c: ID!) { updateMyProfile(input: { communityId: $c }) { id } }",
        json!({ "c": w.demo.community }),
    )
    .await;
    let placed = app
        .ok(
            &w.member.token,
            "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }",
            json!({ "input": { "categoryId": w.demo.repair, "title": "自己的单", "description": "", "address": "1号楼", "contactPhone": "13800000002" } }),
        )
        .await;
    let order = placed["placeOrder"]["id"].clone();
    // … which cannot be dispatched to them, nor taken by them.
    let dispatched = app
        .graphql(
            Some(&w.staff.token),
            "mutation($id: ID!, $to: ID!) { dispatchOrder(orderId: $id, assigneeId: $to) { status } }",
            json!({ "id": order, "to": w.member.user_id }),
        )
        .await;
    assert_eq!(error_code(&dispatched), "BAD_USER_INPUT", "{dispatched}");
    app.ok(&w.staff.token, PUBLISH, json!({ "id": order }))
        .await;
    let taken = app
        .graphql(Some(&w.member.token), TAKE, json!({ "id": order }))
        .await;
    assert_eq!(error_code(&taken), "FORBIDDEN", "{taken}");

    // STAFF do not confirm their own attendance.
    let now = chrono::Utc::now();
    let activity = app
        .ok(
            &w.staff.token,
            "mutation($input: CreateActivityInput!) { createActivity(input: $input) { id } }",
            json!({ "input": {
                "communityId": w.demo.community, "title": "清扫楼道", "description": "", "place": "3号楼",
                "startsAt": (now + chrono::Duration::hours(1)).to_rfc3339(),
                "endsAt": (now + chrono::Duration::hours(3)).to_rfc3339(), "capacity": 10,
            }}),
        )
        .await["createActivity"]["id"]
        .clone();
    app.ok(
        &w.staff.token,
        "mutation($a: ID!) { signUpActivity(activityId: $a) { id } }",
        json!({ "a": activity }),
    )
    .await;
    let staff_id = app.ok(&w.staff.token, "{ me { id } }", json!({})).await["me"]["id"].clone();
    let confirmed = app
        .graphql(
            Some(&w.staff.token),
            "mutation($a: ID!, $u: ID!) { confirmAttendance(activityId: $a, userId: $u, minutes: 120) { id } }",
            json!({ "a": activity, "u": staff_id }),
        )
        .await;
    assert_eq!(error_code(&confirmed), "FORBIDDEN", "{confirmed}");
}

/// An in-service Party member lives in one community and reports to another (在职党员到社区报到):
/// STAFF where they serve may correct their points once that community approved them.
#[tokio::test]
async fn staff_where_a_member_serves_may_correct_their_points() {
    let w = World::new().await;
    let app = &w.app;
    let commuter = app.resident("commuter", &w.demo.community).await;
    app.grant(
        "qinghe-staff",
        entity::enums::Role::Staff,
        Some(&w.demo.other_community),
    )
    .await;
    let serving_staff = app.login("qinghe-staff").await;
    let credit = json!({ "u": commuter.user_id, "a": 20 });
    assert_eq!(
        app.refused(Some(&serving_staff.token), ADJUST, credit.clone())
            .await,
        "FORBIDDEN",
        "not before the community approved the member"
    );
    let applied = app
        .ok(
            &commuter.token,
            "mutation($c: ID!) { applyPartyMember(input: { branch: \"机关党支部\", employer: \"区税务局\", reportedCommunityId: $c }) { id } }",
            json!({ "c": w.demo.other_community }),
        )
        .await;
    app.ok(
        &serving_staff.token,
        "mutation($id: ID!) { reviewPartyMemberApplication(applicationId: $id, approve: true) { status } }",
        json!({ "id": applied["applyPartyMember"]["id"] }),
    )
    .await;
    app.ok(&serving_staff.token, ADJUST, credit).await;
}

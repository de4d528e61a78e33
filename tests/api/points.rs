//! Volunteer time → points: records from orders and activities, the ledger, its guards.
use entity::enums::Role;
use serde_json::{Value, json};

use crate::{
    helpers::{PUBLISH, TAKE, World},
    helpers::{TestApp, error_code, spawn_app_with},
};

const MY_POINTS: &str = "{ myPoints { balance lifetimeEarned lifetimeSpent confirmedHours starLevel ledger { edges { node { id kind amount balanceAfter rate reason } } } } }";
const MY_RECORDS: &str =
    "{ myServiceRecords { edges { node { id source minutes status rate points } } } }";
const COMPLETE_45: &str = "mutation($id: ID!) { completeOrder(orderId: $id, input: { summary: \"修好了\", minutesSpent: 45 }) { status } }";
const RATE: &str = "mutation($id: ID!, $stars: Int!) { rateOrder(orderId: $id, input: { stars: $stars }) { status } }";
const ADJUST: &str = "mutation($u: ID!, $amount: Int!, $reason: String!, $key: String) { adjustPoints(userId: $u, amount: $amount, reason: $reason, idempotencyKey: $key) { id kind amount balanceAfter reason } }";
const REVIEW: &str = "mutation($id: ID!, $ok: Boolean!, $minutes: Int, $reason: String) { reviewServiceRecord(id: $id, approve: $ok, minutes: $minutes, reason: $reason) { status minutes points rate } }";

async fn points_of(app: &TestApp, token: &str) -> Value {
    app.ok(token, MY_POINTS, json!({})).await["myPoints"].clone()
}

/// Places, publishes, takes (as the demo member), completes (45 min) and rates an order.
pub async fn serve_order(w: &World, stars: i32) -> String {
    let order = w.place().await;
    w.app
        .ok(&w.staff.token, PUBLISH, json!({ "id": order }))
        .await;
    w.app
        .ok(&w.member.token, TAKE, json!({ "id": order }))
        .await;
    w.app
        .ok(&w.member.token, COMPLETE_45, json!({ "id": order }))
        .await;
    w.app
        .ok(
            &w.resident.token,
            RATE,
            json!({ "id": order, "stars": stars }),
        )
        .await;
    order
}

#[tokio::test]
async fn a_well_rated_order_earns_its_taker_points_at_the_community_rate() {
    let w = World::new().await;
    let rate = w
        .app
        .ok(&w.staff.token, "mutation($c: ID!) { setPointsRate(communityId: $c, pointsPerHour: 12) { pointsPerHour } }", json!({ "c": w.demo.community }))
        .await;
    assert_eq!(rate["setPointsRate"]["pointsPerHour"], 12);
    serve_order(&w, 4).await;

    let points = points_of(&w.app, &w.member.token).await;
    // floor(45 × 12 / 60) = 9
    assert_eq!(points["balance"], 9);
    assert_eq!(points["lifetimeEarned"], 9);
    assert_eq!(points["confirmedHours"], 0.75);
    assert_eq!(points["ledger"]["edges"][0]["node"]["kind"], "EARN");
    assert_eq!(points["ledger"]["edges"][0]["node"]["rate"], 12);
    let records = w.app.ok(&w.member.token, MY_RECORDS, json!({})).await;
    let record = &records["myServiceRecords"]["edges"][0]["node"];
    assert_eq!(
        (
            record["source"].clone(),
            record["status"].clone(),
            record["points"].clone()
        ),
        (json!("ORDER"), json!("CONFIRMED"), json!(9))
    );
    // The rate in force when confirmed stays on the record.
    w.app
        .ok(&w.staff.token, "mutation($c: ID!) { setPointsRate(communityId: $c, pointsPerHour: 30) { pointsPerHour } }", json!({ "c": w.demo.community }))
        .await;
    assert_eq!(points_of(&w.app, &w.member.token).await["balance"], 9);
}

#[tokio::test]
async fn a_low_rating_leaves_the_time_pending_until_staff_review_it() {
    let w = World::new().await;
    serve_order(&w, 2).await;
    assert_eq!(points_of(&w.app, &w.member.token).await["balance"], 0);
    let pending = w
        .app
        .ok(&w.staff.token, "query($c: ID!) { pendingServiceRecords(communityId: $c) { edges { node { id minutes status } } } }", json!({ "c": w.demo.community }))
        .await;
    let record = pending["pendingServiceRecords"]["edges"][0]["node"]["id"]
        .as_str()
        .expect("record")
        .to_owned();
    let by_member = w
        .app
        .refused(
            Some(&w.member.token),
            REVIEW,
            json!({ "id": record, "ok": true }),
        )
        .await;
    assert_eq!(by_member, "FORBIDDEN");
    let reject_without_reason = w
        .app
        .refused(
            Some(&w.staff.token),
            REVIEW,
            json!({ "id": record, "ok": false }),
        )
        .await;
    assert_eq!(reject_without_reason, "BAD_USER_INPUT");

    let approved = w
        .app
        .ok(
            &w.staff.token,
            REVIEW,
            json!({ "id": record, "ok": true, "minutes": 30, "reason": "回访核实" }),
        )
        .await;
    assert_eq!(
        approved["reviewServiceRecord"],
        json!({ "status": "CONFIRMED", "minutes": 30, "points": 5, "rate": 10 })
    );
    assert_eq!(points_of(&w.app, &w.member.token).await["balance"], 5);
    let again = w
        .app
        .refused(
            Some(&w.staff.token),
            REVIEW,
            json!({ "id": record, "ok": true }),
        )
        .await;
    assert_eq!(again, "CONFLICT");
    assert_eq!(points_of(&w.app, &w.member.token).await["balance"], 5);
}

#[tokio::test]
async fn order_time_is_capped() {
    let app = spawn_app_with(|settings| settings.order_minutes_cap = 30).await;
    let w = World::on(app).await;
    serve_order(&w, 5).await;
    let records = w.app.ok(&w.member.token, MY_RECORDS, json!({})).await;
    assert_eq!(
        records["myServiceRecords"]["edges"][0]["node"]["minutes"],
        30
    );
}

const CREATE_ACTIVITY: &str = "mutation($input: CreateActivityInput!) { createActivity(input: $input) { id capacity placesLeft } }";

async fn create_activity(w: &World, capacity: i32, rate: Option<i32>) -> String {
    let now = chrono::Utc::now();
    let data = w
        .app
        .ok(
            &w.staff.token,
            CREATE_ACTIVITY,
            json!({ "input": {
                "communityId": w.demo.community, "title": "清理楼道小广告", "place": "3号楼",
                "startsAt": (now - chrono::Duration::minutes(30)).to_rfc3339(),
                "endsAt": (now + chrono::Duration::hours(2)).to_rfc3339(),
                "capacity": capacity, "pointsPerHourOverride": rate,
            }}),
        )
        .await;
    data["createActivity"]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

const SIGN_UP: &str = "mutation($a: ID!) { signUpActivity(activityId: $a) { status } }";
const CONFIRM: &str = "mutation($a: ID!, $u: ID!, $m: Int!) { confirmAttendance(activityId: $a, userId: $u, minutes: $m) { status points rate source } }";

#[tokio::test]
async fn activity_time_becomes_confirmed_points() {
    let w = World::new().await;
    let member_create = w.app.refused(Some(&w.member.token), CREATE_ACTIVITY, json!({ "input": {
        "communityId": w.demo.community, "title": "x", "place": "y", "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2026-01-01T01:00:00Z", "capacity": 1
    }})).await;
    assert_eq!(member_create, "FORBIDDEN");
    let activity = create_activity(&w, 10, Some(20)).await;

    w.app
        .ok(&w.resident.token, SIGN_UP, json!({ "a": activity }))
        .await;
    let twice = w
        .app
        .refused(Some(&w.resident.token), SIGN_UP, json!({ "a": activity }))
        .await;
    assert_eq!(twice, "CONFLICT");
    let checked_in = w
        .app
        .ok(
            &w.resident.token,
            "mutation($a: ID!) { checkIn(activityId: $a) { checkedInAt } }",
            json!({ "a": activity }),
        )
        .await;
    assert!(checked_in["checkIn"]["checkedInAt"].is_string());
    w.app
        .ok(
            &w.resident.token,
            "mutation($a: ID!) { checkOut(activityId: $a) { checkedOutAt } }",
            json!({ "a": activity }),
        )
        .await;

    let not_signed_up = w
        .app
        .refused(
            Some(&w.staff.token),
            CONFIRM,
            json!({ "a": activity, "u": w.member.user_id, "m": 60 }),
        )
        .await;
    assert_eq!(not_signed_up, "BAD_USER_INPUT");
    let by_resident = w
        .app
        .refused(
            Some(&w.resident.token),
            CONFIRM,
            json!({ "a": activity, "u": w.resident.user_id, "m": 90 }),
        )
        .await;
    assert_eq!(by_resident, "FORBIDDEN");
    let confirmed = w
        .app
        .ok(
            &w.staff.token,
            CONFIRM,
            json!({ "a": activity, "u": w.resident.user_id, "m": 90 }),
        )
        .await;
    // 90 minutes at the activity's 20 points per hour.
    assert_eq!(
        confirmed["confirmAttendance"],
        json!({ "status": "CONFIRMED", "points": 30, "rate": 20, "source": "ACTIVITY" })
    );
    let twice = w
        .app
        .refused(
            Some(&w.staff.token),
            CONFIRM,
            json!({ "a": activity, "u": w.resident.user_id, "m": 90 }),
        )
        .await;
    assert_eq!(twice, "CONFLICT");
    assert_eq!(points_of(&w.app, &w.resident.token).await["balance"], 30);
}

#[tokio::test]
async fn cancelling_a_sign_up_frees_the_place() {
    let w = World::new().await;
    let activity = create_activity(&w, 1, None).await;
    w.app
        .ok(&w.resident.token, SIGN_UP, json!({ "a": activity }))
        .await;
    let full = w
        .app
        .refused(Some(&w.member.token), SIGN_UP, json!({ "a": activity }))
        .await;
    assert_eq!(full, "CONFLICT");
    w.app
        .ok(
            &w.resident.token,
            "mutation($a: ID!) { cancelSignUp(activityId: $a) { status } }",
            json!({ "a": activity }),
        )
        .await;
    w.app
        .ok(&w.member.token, SIGN_UP, json!({ "a": activity }))
        .await;
}

#[tokio::test]
async fn capacity_is_never_exceeded_under_concurrent_sign_ups() {
    let w = World::new().await;
    let activity = create_activity(&w, 3, None).await;
    let mut people = Vec::new();
    for i in 0..12 {
        people.push(w.app.login(&format!("volunteer-{i}")).await);
    }
    let attempts = people.iter().map(|p| {
        w.app
            .graphql(Some(&p.token), SIGN_UP, json!({ "a": activity }))
    });
    let results = futures::future::join_all(attempts).await;
    let signed_up = results.iter().filter(|r| r.get("errors").is_none()).count();
    assert_eq!(signed_up, 3, "{results:?}");
    assert!(
        results
            .iter()
            .filter(|r| r.get("errors").is_some())
            .all(|r| error_code(r) == "CONFLICT")
    );
    let data = w
        .app
        .ok(
            &w.staff.token,
            "query($a: ID!) { activity(id: $a) { signedUp placesLeft } }",
            json!({ "a": activity }),
        )
        .await;
    assert_eq!(data["activity"], json!({ "signedUp": 3, "placesLeft": 0 }));
}

#[tokio::test]
async fn adjustments_are_idempotent_explained_and_never_go_negative() {
    let w = World::new().await;
    let resident = &w.resident.user_id;
    let first = w
        .app
        .ok(
            &w.staff.token,
            ADJUST,
            json!({ "u": resident, "amount": 50, "reason": "补录活动积分", "key": "adjust-0001" }),
        )
        .await;
    let retry = w
        .app
        .ok(
            &w.staff.token,
            ADJUST,
            json!({ "u": resident, "amount": 50, "reason": "补录活动积分", "key": "adjust-0001" }),
        )
        .await;
    assert_eq!(first["adjustPoints"]["id"], retry["adjustPoints"]["id"]);
    assert_eq!(points_of(&w.app, &w.resident.token).await["balance"], 50);
    let reused = w
        .app
        .refused(
            Some(&w.staff.token),
            ADJUST,
            json!({ "u": resident, "amount": 60, "reason": "x", "key": "adjust-0001" }),
        )
        .await;
    assert_eq!(reused, "BAD_USER_INPUT");

    let overdraw = w
        .app
        .refused(
            Some(&w.staff.token),
            ADJUST,
            json!({ "u": resident, "amount": -80, "reason": "更正" }),
        )
        .await;
    assert_eq!(overdraw, "CONFLICT");
    let no_reason = w
        .app
        .refused(
            Some(&w.staff.token),
            ADJUST,
            json!({ "u": resident, "amount": 5, "reason": " " }),
        )
        .await;
    assert_eq!(no_reason, "BAD_USER_INPUT");
    let by_resident = w
        .app
        .refused(
            Some(&w.resident.token),
            ADJUST,
            json!({ "u": resident, "amount": 5, "reason": "gift" }),
        )
        .await;
    assert_eq!(by_resident, "FORBIDDEN");
    w.app
        .grant("far-staff", Role::Staff, Some(&w.demo.other_community))
        .await;
    let far = w.app.login("far-staff").await;
    let by_far_staff = w
        .app
        .refused(
            Some(&far.token),
            ADJUST,
            json!({ "u": resident, "amount": 5, "reason": "gift" }),
        )
        .await;
    assert_eq!(by_far_staff, "FORBIDDEN");

    let corrected = w
        .app
        .ok(
            &w.staff.token,
            ADJUST,
            json!({ "u": resident, "amount": -30, "reason": "重复录入" }),
        )
        .await;
    assert_eq!(corrected["adjustPoints"]["balanceAfter"], 20);
    let points = points_of(&w.app, &w.resident.token).await;
    assert_eq!(points["balance"], 20);
    assert_eq!(points["ledger"]["edges"][0]["node"]["reason"], "重复录入");
}

#[tokio::test]
async fn a_mistaken_earn_is_reversed_by_an_entry_not_deleted() {
    let w = World::new().await;
    serve_order(&w, 5).await;
    let points = points_of(&w.app, &w.member.token).await;
    let earn = points["ledger"]["edges"][0]["node"]["id"]
        .as_str()
        .expect("entry")
        .to_owned();
    let reverse = "mutation($e: ID!) { reversePointsEntry(entryId: $e, reason: \"误录\") { id kind amount balanceAfter } }";
    let reversed = w
        .app
        .ok(&w.staff.token, reverse, json!({ "e": earn }))
        .await;
    let first = &reversed["reversePointsEntry"];
    assert_eq!(
        (&first["kind"], &first["amount"], &first["balanceAfter"]),
        (&json!("REVERSAL"), &json!(-7), &json!(0))
    );
    // Reversing again (a retry) returns the same reversal and moves nothing.
    let again = w
        .app
        .ok(&w.staff.token, reverse, json!({ "e": earn }))
        .await;
    assert_eq!(again["reversePointsEntry"]["id"], first["id"]);
    let points = points_of(&w.app, &w.member.token).await;
    let kinds: Vec<&Value> = points["ledger"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| &e["node"]["kind"])
        .collect();
    assert_eq!(kinds, vec!["REVERSAL", "EARN"]);
    assert_eq!(points["lifetimeEarned"], 0);
}

#[tokio::test]
async fn a_reversal_that_would_overdraw_is_refused() {
    let w = World::new().await;
    serve_order(&w, 5).await;
    let earn = points_of(&w.app, &w.member.token).await["ledger"]["edges"][0]["node"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    w.app
        .ok(
            &w.staff.token,
            ADJUST,
            json!({ "u": w.member.user_id, "amount": -7, "reason": "兑换线下礼品" }),
        )
        .await;
    let body = w
        .app
        .refused(
            Some(&w.staff.token),
            "mutation($e: ID!) { reversePointsEntry(entryId: $e, reason: \"误录\") { id } }",
            json!({ "e": earn }),
        )
        .await;
    assert_eq!(body, "CONFLICT");
    assert_eq!(points_of(&w.app, &w.member.token).await["balance"], 0);
}

#[tokio::test]
async fn concurrent_moves_leave_the_balance_equal_to_the_sum_of_entries() {
    let w = World::new().await;
    let resident = w.resident.user_id.clone();
    w.app
        .ok(
            &w.staff.token,
            ADJUST,
            json!({ "u": resident, "amount": 100, "reason": "开户" }),
        )
        .await;
    let moves = (0..24).map(|i| {
        let amount = if i % 3 == 0 { 7 } else { -15 };
        w.app.graphql(
            Some(&w.staff.token),
            ADJUST,
            json!({ "u": resident, "amount": amount, "reason": "并发" }),
        )
    });
    let results = futures::future::join_all(moves).await;
    for body in results.iter().filter(|r| r.get("errors").is_some()) {
        assert_eq!(error_code(body), "CONFLICT", "{body}");
    }
    let points = points_of(&w.app, &w.resident.token).await;
    let amounts: Vec<i64> = points["ledger"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["amount"].as_i64().expect("amount"))
        .collect();
    let sum: i64 = amounts.iter().sum();
    assert_eq!(points["balance"].as_i64(), Some(sum));
    assert!(sum >= 0);
    assert_eq!(
        amounts.len(),
        1 + results.iter().filter(|r| r.get("errors").is_none()).count()
    );
}

#[tokio::test]
async fn leaderboards_and_notices_respect_privacy() {
    let w = World::new().await;
    let activity = create_activity(&w, 10, None).await;
    for (who, minutes) in [(&w.member, 120), (&w.other_member, 60)] {
        w.app
            .ok(&who.token, SIGN_UP, json!({ "a": activity }))
            .await;
        w.app
            .ok(
                &w.staff.token,
                CONFIRM,
                json!({ "a": activity, "u": who.user_id, "m": minutes }),
            )
            .await;
    }
    w.app
        .ok(
            &w.other_member.token,
            "mutation { updateMyProfile(input: { showOnLeaderboard: false }) { id } }",
            json!({}),
        )
        .await;

    let board = w
        .app
        .ok(&w.resident.token, "query($c: ID!) { volunteerLeaderboard(communityId: $c, period: YEAR) { rank name confirmedHours } }", json!({ "c": w.demo.community }))
        .await;
    assert_eq!(
        board["volunteerLeaderboard"],
        json!([{ "rank": 1, "name": "李建国", "confirmedHours": 2.0 }, { "rank": 2, "name": "王**", "confirmedHours": 1.0 }])
    );
    let month = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("offset"))
        .format("%Y-%m")
        .to_string();
    let notice = w
        .app
        .ok(&w.resident.token, "query($c: ID!, $m: String!) { communityPointsNotice(communityId: $c, month: $m) { totalMinutes totalPoints lines { name minutes points source } } }", json!({ "c": w.demo.community, "m": month }))
        .await;
    assert_eq!(notice["communityPointsNotice"]["totalMinutes"], 180);
    assert_eq!(notice["communityPointsNotice"]["totalPoints"], 30);
    assert_eq!(notice["communityPointsNotice"]["lines"][1]["name"], "王**");
    let bad = w.app.refused(Some(&w.resident.token), "query($c: ID!) { communityPointsNotice(communityId: $c, month: \"November\") { totalPoints } }", json!({ "c": w.demo.community })).await;
    assert_eq!(bad, "BAD_USER_INPUT");
}

#[tokio::test]
async fn staff_only_points_operations_refuse_others() {
    let w = World::new().await;
    let c = json!({ "c": w.demo.community });
    for query in [
        "mutation($c: ID!) { setPointsRate(communityId: $c, pointsPerHour: 99) { id } }",
        "query($c: ID!) { pendingServiceRecords(communityId: $c) { edges { cursor } } }",
    ] {
        for who in [&w.resident, &w.member] {
            let body = w.app.refused(Some(&who.token), query, c.clone()).await;
            assert_eq!(body, "FORBIDDEN", "{query}");
        }
    }
    let invalid_rate = w
        .app
        .refused(
            Some(&w.staff.token),
            "mutation($c: ID!) { setPointsRate(communityId: $c, pointsPerHour: 0) { id } }",
            c,
        )
        .await;
    assert_eq!(invalid_rate, "BAD_USER_INPUT");
}

#[tokio::test]
async fn every_month_argument_is_read_by_one_parser() {
    let w = World::new().await;
    let notice = "query($c: ID!, $m: String!) { communityPointsNotice(communityId: $c, month: $m) { month publishedAt } }";
    let statement = "query($m: ID!, $month: String!) { merchantStatement(merchantId: $m, month: $month) { month } }";
    let (merchant, _) =
        crate::helpers::merchant_with_cashier(&w, &w.demo.community, &w.staff, "months").await;
    // Old apps send 2026-1: both fields take it, and answer the month as YYYY-MM.
    let shown = w
        .app
        .ok(
            &w.staff.token,
            notice,
            json!({ "c": w.demo.community, "m": "2026-1" }),
        )
        .await;
    assert_eq!(shown["communityPointsNotice"]["month"], "2026-01");
    assert_eq!(
        shown["communityPointsNotice"]["publishedAt"],
        "2026-01-31T16:00:00+00:00"
    );
    let shown = w
        .app
        .ok(
            &w.staff.token,
            statement,
            json!({ "m": merchant, "month": "2026-1" }),
        )
        .await;
    assert_eq!(shown["merchantStatement"]["month"], "2026-01");
    for bad in ["2026-13", "2026-1-1", "一月"] {
        let refused = w
            .app
            .graphql(
                Some(&w.staff.token),
                notice,
                json!({ "c": w.demo.community, "m": bad }),
            )
            .await;
        assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{bad}: {refused}");
        let refused = w
            .app
            .graphql(
                Some(&w.staff.token),
                statement,
                json!({ "m": merchant, "month": bad }),
            )
            .await;
        assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{bad}: {refused}");
    }
}

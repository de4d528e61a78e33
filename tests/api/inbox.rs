//! Nothing depends on a live socket: what is meant for someone waits in their inbox, written
//! with the change it reports (or, for a community's Party members, right after it).
use serde_json::{Value, json};

use crate::helpers::{Login, PUBLISH, TAKE, TestApp, World};

const INBOX: &str = "{ myInbox(first: 20) { edges { node { id kind orderId message readAt } } } me { unreadCount } }";

async fn inbox(app: &TestApp, who: &Login) -> (Vec<Value>, u64) {
    app.fanned_out().await;
    let data = app.ok(&who.token, INBOX, json!({})).await;
    let messages = data["myInbox"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| edge["node"].clone())
        .collect();
    (messages, data["me"]["unreadCount"].as_u64().expect("count"))
}

fn kinds(messages: &[Value]) -> Vec<&str> {
    messages
        .iter()
        .map(|m| m["kind"].as_str().expect("kind"))
        .collect()
}

#[tokio::test]
async fn what_happens_while_the_app_is_closed_waits_in_the_inbox() {
    let w = World::new().await;
    let order = w.place().await;
    let (staff_inbox, _) = inbox(&w.app, &w.staff).await;
    assert_eq!(kinds(&staff_inbox), ["NEW_ORDER"]);
    // The database made this row's id (its recipients are found by the statement that files
    // it): a UUIDv7 like every other id, time-ordered.
    let id: uuid::Uuid = staff_inbox[0]["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");
    assert_eq!(id.get_version_num(), 7);
    let (seconds, _) = id.get_timestamp().expect("a v7 timestamp").to_unix();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock");
    assert!(now.as_secs().abs_diff(seconds) < 60, "made now: {seconds}");

    w.app
        .ok(
            &w.staff.token,
            "mutation($id: ID!, $to: ID!) { dispatchOrder(orderId: $id, assigneeId: $to) { status } }",
            json!({ "id": order, "to": w.member.user_id }),
        )
        .await;
    let (member_inbox, unread) = inbox(&w.app, &w.member).await;
    assert_eq!(kinds(&member_inbox), ["ORDER_DISPATCHED_TO_YOU"]);
    assert_eq!(member_inbox[0]["orderId"], order.as_str());
    assert_eq!(unread, 1);
    let (other_inbox, _) = inbox(&w.app, &w.other_member).await;
    assert!(other_inbox.is_empty(), "dispatched to one member only");

    let second = w.place().await;
    w.publish(&second).await;
    for member in [&w.member, &w.other_member] {
        let (messages, _) = inbox(&w.app, member).await;
        assert_eq!(
            kinds(&messages)[0],
            "NEW_OPEN_ORDER",
            "every member hears of it"
        );
    }
    w.app
        .ok(&w.other_member.token, TAKE, json!({ "id": second }))
        .await;
    let (resident_inbox, unread) = inbox(&w.app, &w.resident).await;
    assert_eq!(
        kinds(&resident_inbox),
        ["ORDER_ACCEPTED"],
        "no mere 'order changed' rows"
    );
    assert_eq!(unread, 1);

    // Read: only one's own messages.
    let mark = "mutation($ids: [ID!]!) { markInboxRead(ids: $ids) }";
    let theirs = json!({ "ids": [member_inbox[0]["id"]] });
    let marked = w.app.ok(&w.resident.token, mark, theirs.clone()).await;
    assert_eq!(marked["markInboxRead"], 0, "not the resident's message");
    let marked = w.app.ok(&w.member.token, mark, theirs).await;
    assert_eq!(marked["markInboxRead"], 1);
    let (member_inbox, unread) = inbox(&w.app, &w.member).await;
    assert_eq!(unread, 1, "the NEW_OPEN_ORDER one is still unread");
    assert!(member_inbox.iter().any(|m| !m["readAt"].is_null()));
}

#[tokio::test]
async fn a_refused_step_tells_no_one() {
    let w = World::new().await;
    let order = w.place().await;
    w.publish(&order).await;
    let (before, _) = inbox(&w.app, &w.resident).await;
    // The requester cannot take their own order: nothing is stored, nothing is filed.
    assert_eq!(
        w.app
            .refused(Some(&w.resident.token), TAKE, json!({ "id": order }))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        w.app
            .refused(Some(&w.staff.token), PUBLISH, json!({ "id": order }))
            .await,
        "CONFLICT"
    );
    let (after, _) = inbox(&w.app, &w.resident).await;
    assert_eq!(before, after);
}

#[tokio::test]
async fn applicants_hear_the_decision_on_their_application() {
    let w = World::new().await;
    let applicant = w.app.resident("inbox-applicant", &w.demo.community).await;
    let applied = w
        .app
        .ok(
            &applicant.token,
            "mutation($c: ID!) { applyPartyMember(input: { branch: \"第一党支部\", employer: \"区税务局\", reportedCommunityId: $c }) { id } }",
            json!({ "c": w.demo.community }),
        )
        .await;
    w.app
        .ok(
            &w.staff.token,
            "mutation($id: ID!) { reviewPartyMemberApplication(applicationId: $id, approve: false, note: \"材料不全\") { status } }",
            json!({ "id": applied["applyPartyMember"]["id"] }),
        )
        .await;
    let merchant = w
        .app
        .ok(
            &applicant.token,
            "mutation($c: ID!) { applyMerchant(input: { communityId: $c, name: \"小店\", category: \"超市\", address: \"1号\", latitude: 36.66, longitude: 117.02, phone: \"13700000000\", openingHours: \"全天\" }) { id } }",
            json!({ "c": w.demo.community }),
        )
        .await;
    w.app
        .ok(
            &w.staff.token,
            "mutation($m: ID!) { approveMerchant(merchantId: $m) { id } }",
            json!({ "m": merchant["applyMerchant"]["id"] }),
        )
        .await;
    let (messages, unread) = inbox(&w.app, &applicant).await;
    let texts: Vec<(&str, &str)> = messages
        .iter()
        .map(|m| {
            (
                m["kind"].as_str().expect("kind"),
                m["message"].as_str().expect("message"),
            )
        })
        .collect();
    assert_eq!(
        texts,
        [
            ("APPLICATION_REVIEWED", "您的商户已通过审核"),
            ("APPLICATION_REVIEWED", "您的党员报到申请未通过"),
        ]
    );
    assert_eq!(unread, 2);
}

#[tokio::test]
async fn volunteers_are_reminded_once_the_day_before() {
    let w = World::new().await;
    let create = "mutation($input: CreateActivityInput!) { createActivity(input: $input) { id } }";
    let now = chrono::Utc::now();
    let mut activities = Vec::new();
    for (title, hours) in [("明天的活动", 10), ("下周的活动", 72)] {
        let made = w
            .app
            .ok(
                &w.staff.token,
                create,
                json!({ "input": {
                    "communityId": w.demo.community, "title": title, "place": "社区广场",
                    "startsAt": (now + chrono::Duration::hours(hours)).to_rfc3339(),
                    "endsAt": (now + chrono::Duration::hours(hours + 2)).to_rfc3339(),
                    "capacity": 10,
                }}),
            )
            .await;
        activities.push(made["createActivity"]["id"].clone());
    }
    let sign_up = "mutation($a: ID!) { signUpActivity(activityId: $a) { status } }";
    w.app
        .ok(&w.resident.token, sign_up, json!({ "a": activities[0] }))
        .await;
    w.app
        .ok(&w.member.token, sign_up, json!({ "a": activities[1] }))
        .await;

    // Every instance runs the job, again and again: one reminder each.
    for _ in 0..3 {
        hongfan::points::activities::remind_upcoming(&w.app.db, chrono::Utc::now())
            .await
            .expect("reminders");
    }
    let (resident, _) = inbox(&w.app, &w.resident).await;
    assert_eq!(kinds(&resident), ["ACTIVITY_REMINDER"]);
    assert!(
        resident[0]["message"]
            .as_str()
            .expect("message")
            .contains("明天的活动")
    );
    let (member, _) = inbox(&w.app, &w.member).await;
    assert!(member.is_empty(), "next week's activity is not due yet");
}

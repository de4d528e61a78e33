//! The four-list workflow end to end, and every refusal on the way.
use entity::{enums::Role, order};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};

use crate::helpers::{PLACE, PUBLISH, TAKE, World, error_code, grids_of};

const DISPATCH: &str = "mutation($id: ID!, $to: ID!) { dispatchOrder(orderId: $id, assigneeId: $to, note: \"请尽快处理\") { status assignee { id } } }";
const DECLINE: &str = "mutation($id: ID!) { declineOrder(orderId: $id, reason: \"今天在外地\") { status assignee { id } } }";
const COMPLETE: &str = "mutation($id: ID!) { completeOrder(orderId: $id, input: { summary: \"更换了水管接头\", minutesSpent: 45 }) { status minutesSpent photos { fileKey } } }";
const RATE: &str = "mutation($id: ID!, $stars: Int!) { rateOrder(orderId: $id, input: { stars: $stars, comment: \"很及时\" }) { status ratingStars needsFollowUp } }";
const CANCEL: &str = "mutation($id: ID!) { cancelOrder(orderId: $id, reason: \"已自行解决\") { status cancelReason } }";
const ORDER: &str = "query($id: ID!) { order(id: $id) { status contactPhone isOverdue needsFollowUp requester { phone } events { action fromStatus toStatus note actor { id } at } } }";

#[tokio::test]
async fn an_order_goes_from_placed_to_rated_with_a_full_timeline() {
    let w = World::new().await;
    let order = w.place().await;

    let dispatched = w
        .app
        .ok(
            &w.staff.token,
            DISPATCH,
            json!({ "id": order, "to": w.member.user_id }),
        )
        .await;
    assert_eq!(dispatched["dispatchOrder"]["status"], "DISPATCHED");
    assert_eq!(
        dispatched["dispatchOrder"]["assignee"]["id"],
        w.member.user_id.as_str()
    );

    let tasks = w
        .app
        .ok(
            &w.member.token,
            "{ myTasks { edges { node { id status } } } }",
            json!({}),
        )
        .await;
    assert_eq!(tasks["myTasks"]["edges"][0]["node"]["id"], order.as_str());

    let taken = w
        .app
        .ok(&w.member.token, TAKE, json!({ "id": order }))
        .await;
    assert_eq!(taken["takeOrder"]["status"], "ACCEPTED");
    let completed = w
        .app
        .ok(&w.member.token, COMPLETE, json!({ "id": order }))
        .await;
    assert_eq!(completed["completeOrder"]["status"], "COMPLETED");
    assert_eq!(completed["completeOrder"]["minutesSpent"], 45);
    let rated = w
        .app
        .ok(&w.resident.token, RATE, json!({ "id": order, "stars": 5 }))
        .await;
    assert_eq!(
        rated["rateOrder"],
        json!({ "status": "RATED", "ratingStars": 5, "needsFollowUp": false })
    );

    let timeline = w
        .app
        .ok(&w.resident.token, ORDER, json!({ "id": order }))
        .await;
    let steps: Vec<(Value, Value, Value)> = timeline["order"]["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["action"].clone(),
                e["fromStatus"].clone(),
                e["toStatus"].clone(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        vec![
            (json!("PLACE"), Value::Null, json!("PENDING_DISPATCH")),
            (
                json!("DISPATCH"),
                json!("PENDING_DISPATCH"),
                json!("DISPATCHED")
            ),
            (json!("TAKE"), json!("DISPATCHED"), json!("ACCEPTED")),
            (json!("COMPLETE"), json!("ACCEPTED"), json!("COMPLETED")),
            (json!("RATE"), json!("COMPLETED"), json!("RATED")),
        ]
    );
    assert_eq!(timeline["order"]["events"][1]["note"], "请尽快处理");
    assert_eq!(
        timeline["order"]["events"][1]["actor"]["id"],
        w.staff.user_id.as_str()
    );
}

#[tokio::test]
async fn an_order_is_filed_by_its_requesters_profile_as_changed_on_another_instance() {
    let w = World::new().await;
    // This instance files the resident's next order from what their first one read, and
    // the statement that files it must notice the profile changing behind its back.
    w.place().await;
    let elsewhere = w.app.another_instance().await;
    let grids = grids_of(&w.app, &w.staff.token, &w.demo.community).await;
    let profile = "mutation($p: UpdateProfileInput!) { updateMyProfile(input: $p) { id } }";
    let filed = async |order: String| {
        let query = "query($id: ID!) { order(id: $id) { grid { id } community { id } } }";
        let data = w
            .app
            .ok(&w.resident.token, query, json!({ "id": order }))
            .await;
        data["order"].clone()
    };
    elsewhere
        .ok(
            &w.resident.token,
            profile,
            json!({ "p": { "gridId": grids[0] } }),
        )
        .await;
    let order = filed(w.place().await).await;
    assert_eq!(order["grid"]["id"], grids[0]);
    assert_eq!(order["community"]["id"], w.demo.community);
    elsewhere
        .ok(
            &w.resident.token,
            profile,
            json!({ "p": { "communityId": w.demo.other_community } }),
        )
        .await;
    let order = filed(w.place().await).await;
    assert_eq!(order["community"]["id"], w.demo.other_community);
    assert_eq!(order["grid"], Value::Null);
}

#[tokio::test]
async fn published_orders_appear_in_the_pool_of_that_community_only() {
    let w = World::new().await;
    let order = w.place().await;
    w.publish(&order).await;
    let pool = w
        .app
        .ok(
            &w.member.token,
            "{ orderPool { edges { node { id status contactPhone } } } }",
            json!({}),
        )
        .await;
    let node = &pool["orderPool"]["edges"][0]["node"];
    assert_eq!(node["id"], order.as_str());
    // Not theirs yet: the contact phone is masked.
    assert_eq!(node["contactPhone"], "138****0001");

    w.app
        .grant(
            "far-member",
            Role::PartyMember,
            Some(&w.demo.other_community),
        )
        .await;
    let far = w.app.login("far-member").await;
    let far_pool = w
        .app
        .ok(
            &far.token,
            "{ orderPool { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(far_pool["orderPool"]["edges"], json!([]));
    assert_eq!(
        w.app
            .refused(Some(&far.token), TAKE, json!({ "id": order }))
            .await,
        "FORBIDDEN"
    );

    let resident_pool = w
        .app
        .refused(
            Some(&w.resident.token),
            "{ orderPool { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(resident_pool, "FORBIDDEN");
}

#[tokio::test]
async fn a_member_cannot_take_an_order_already_taken() {
    let w = World::new().await;
    let order = w.place().await;
    w.publish(&order).await;
    w.app
        .ok(&w.member.token, TAKE, json!({ "id": order }))
        .await;
    let late = w
        .app
        .refused(Some(&w.other_member.token), TAKE, json!({ "id": order }))
        .await;
    assert_eq!(late, "CONFLICT");
    assert_eq!(status(&w, &order).await["status"], "ACCEPTED");
}

async fn tasks(w: &World, token: &str) -> Value {
    let tasks = w
        .app
        .ok(token, "{ myTasks { edges { node { id } } } }", json!({}))
        .await;
    tasks["myTasks"]["edges"].clone()
}

#[tokio::test]
async fn a_declined_order_returns_to_the_dispatch_queue() {
    let w = World::new().await;
    let order = w.place().await;
    w.app
        .ok(
            &w.staff.token,
            DISPATCH,
            json!({ "id": order, "to": w.member.user_id }),
        )
        .await;
    let not_theirs = w
        .app
        .refused(Some(&w.other_member.token), TAKE, json!({ "id": order }))
        .await;
    assert_eq!(not_theirs, "FORBIDDEN");
    assert_eq!(
        tasks(&w, &w.member.token).await,
        json!([{ "node": { "id": order } }])
    );
    assert_eq!(tasks(&w, &w.other_member.token).await, json!([]));
    let declined = w
        .app
        .ok(&w.member.token, DECLINE, json!({ "id": order }))
        .await;
    assert_eq!(
        declined["declineOrder"],
        json!({ "status": "PENDING_DISPATCH", "assignee": null })
    );
    assert_eq!(tasks(&w, &w.member.token).await, json!([]));
    let queue = w
        .app
        .ok(&w.staff.token, "query($c: ID!) { dispatchQueue(communityId: $c, status: PENDING_DISPATCH) { edges { node { id } } } }", json!({ "c": w.demo.community }))
        .await;
    assert_eq!(
        queue["dispatchQueue"]["edges"][0]["node"]["id"],
        order.as_str()
    );
}

#[tokio::test]
async fn refused_steps_change_nothing() {
    let w = World::new().await;
    let order = w.place().await;
    let before = status(&w, &order).await;

    let cases = [
        (
            &w.resident,
            DISPATCH,
            json!({ "id": order, "to": w.member.user_id }),
            "FORBIDDEN",
        ),
        (&w.member, TAKE, json!({ "id": order }), "CONFLICT"),
        (
            &w.resident,
            RATE,
            json!({ "id": order, "stars": 5 }),
            "CONFLICT",
        ),
        (
            &w.resident,
            RATE,
            json!({ "id": order, "stars": 9 }),
            "BAD_USER_INPUT",
        ),
        (&w.member, COMPLETE, json!({ "id": order }), "FORBIDDEN"),
        (
            &w.staff,
            DISPATCH,
            json!({ "id": order, "to": w.resident.user_id }),
            "BAD_USER_INPUT",
        ),
        (
            &w.staff,
            TAKE,
            json!({ "id": uuid::Uuid::now_v7().to_string() }),
            "NOT_FOUND",
        ),
        (&w.staff, TAKE, json!({ "id": "12345" }), "BAD_USER_INPUT"),
    ];
    for (who, mutation, variables, code) in cases {
        let body = w
            .app
            .graphql(Some(&who.token), mutation, variables.clone())
            .await;
        assert_eq!(error_code(&body), code, "{mutation} {variables}: {body}");
    }
    assert_eq!(status(&w, &order).await, before);
}

#[tokio::test]
async fn staff_of_another_community_cannot_touch_the_order() {
    let w = World::new().await;
    let order = w.place().await;
    w.app
        .grant("far-staff", Role::Staff, Some(&w.demo.other_community))
        .await;
    let far = w.app.login("far-staff").await;
    assert_eq!(
        w.app
            .refused(Some(&far.token), PUBLISH, json!({ "id": order }))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        w.app
            .refused(Some(&far.token), ORDER, json!({ "id": order }))
            .await,
        "FORBIDDEN"
    );
    let queue = w
        .app
        .refused(
            Some(&far.token),
            "query($c: ID!) { dispatchQueue(communityId: $c) { edges { node { id } } } }",
            json!({ "c": w.demo.community }),
        )
        .await;
    assert_eq!(queue, "FORBIDDEN");
    let neighbour = w.app.resident("neighbour", &w.demo.community).await;
    assert_eq!(
        w.app
            .refused(Some(&neighbour.token), ORDER, json!({ "id": order }))
            .await,
        "FORBIDDEN"
    );
}

#[tokio::test]
async fn bad_order_input_is_refused_with_a_clear_message() {
    let w = World::new().await;
    let valid = json!({
        "categoryId": w.demo.repair, "title": "修灯", "description": "", "address": "3号楼", "contactPhone": "13800000001"
    });
    let with = |field: &str, value: Value| {
        let mut input = valid.clone();
        input[field] = value;
        json!({ "input": input })
    };
    for (variables, needle) in [
        (with("title", json!("  ")), "title"),
        (
            with("description", json!("a".repeat(1_000_000))),
            "description",
        ),
        (with("contactPhone", json!("call me")), "contactPhone"),
        (with("categoryId", json!("nope")), "categoryId"),
    ] {
        let body = w
            .app
            .graphql(Some(&w.resident.token), PLACE, variables)
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{message}");
    }
    let homeless = w.app.login("no-community").await;
    let body = w
        .app
        .refused(Some(&homeless.token), PLACE, json!({ "input": valid }))
        .await;
    assert_eq!(body, "BAD_USER_INPUT");
    let mine = w
        .app
        .ok(
            &w.resident.token,
            "{ myOrders { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(mine["myOrders"]["edges"], json!([]));
}

#[tokio::test]
async fn requesters_cancel_before_acceptance_and_staff_after() {
    let w = World::new().await;
    let order = w.place().await;
    let cancelled = w
        .app
        .ok(&w.resident.token, CANCEL, json!({ "id": order }))
        .await;
    assert_eq!(
        cancelled["cancelOrder"],
        json!({ "status": "CANCELLED", "cancelReason": "已自行解决" })
    );
    assert_eq!(
        w.app
            .refused(Some(&w.staff.token), PUBLISH, json!({ "id": order }))
            .await,
        "CONFLICT"
    );

    let accepted = w.place().await;
    w.publish(&accepted).await;
    w.app
        .ok(&w.member.token, TAKE, json!({ "id": accepted }))
        .await;
    assert_eq!(
        w.app
            .refused(Some(&w.resident.token), CANCEL, json!({ "id": accepted }))
            .await,
        "CONFLICT"
    );
    w.app
        .ok(&w.staff.token, CANCEL, json!({ "id": accepted }))
        .await;
}

#[tokio::test]
async fn an_order_is_rated_once_and_low_ratings_are_flagged_for_follow_up() {
    let w = World::new().await;
    let order = w.place().await;
    w.publish(&order).await;
    w.app
        .ok(&w.member.token, TAKE, json!({ "id": order }))
        .await;
    w.app
        .ok(&w.member.token, COMPLETE, json!({ "id": order }))
        .await;
    let rated = w
        .app
        .ok(&w.resident.token, RATE, json!({ "id": order, "stars": 2 }))
        .await;
    assert_eq!(rated["rateOrder"]["needsFollowUp"], true);
    let again = w
        .app
        .refused(
            Some(&w.resident.token),
            RATE,
            json!({ "id": order, "stars": 5 }),
        )
        .await;
    assert_eq!(again, "CONFLICT");
    let flagged = w
        .app
        .ok(&w.staff.token, "query($c: ID!) { dispatchQueue(communityId: $c, needsFollowUp: true) { edges { node { id ratingStars } } } }", json!({ "c": w.demo.community }))
        .await;
    assert_eq!(
        flagged["dispatchQueue"]["edges"],
        json!([{ "node": { "id": order, "ratingStars": 2 } }])
    );
}

#[tokio::test]
async fn orders_past_their_response_time_show_as_overdue() {
    let w = World::new().await;
    let late = w.place().await;
    let fresh = w.place().await;
    order::ActiveModel {
        id: sea_orm::ActiveValue::Unchanged(late.parse().expect("uuid")),
        response_due_at: Set(chrono::Utc::now() - chrono::Duration::minutes(5)),
        ..Default::default()
    }
    .update(&w.app.db)
    .await
    .expect("backdate");
    let queue = w
        .app
        .ok(&w.staff.token, "query($c: ID!) { dispatchQueue(communityId: $c, overdueOnly: true) { edges { node { id isOverdue } } } }", json!({ "c": w.demo.community }))
        .await;
    assert_eq!(
        queue["dispatchQueue"]["edges"],
        json!([{ "node": { "id": late, "isOverdue": true } }])
    );
    assert_eq!(status(&w, &fresh).await["isOverdue"], false);
    assert!(
        order::Entity::find()
            .all(&w.app.db)
            .await
            .expect("orders")
            .len()
            == 2
    );
}

#[tokio::test]
async fn lists_are_paginated_newest_first() {
    let w = World::new().await;
    let mut placed = Vec::new();
    for _ in 0..3 {
        placed.push(w.place().await);
    }
    let query = "query($after: String) { myOrders(first: 2, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }";
    let first = w.app.ok(&w.resident.token, query, json!({})).await;
    let ids: Vec<&str> = first["myOrders"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, vec![placed[2].as_str(), placed[1].as_str()]);
    assert_eq!(first["myOrders"]["pageInfo"]["hasNextPage"], true);
    let cursor = first["myOrders"]["pageInfo"]["endCursor"].clone();
    let second = w
        .app
        .ok(&w.resident.token, query, json!({ "after": cursor }))
        .await;
    assert_eq!(
        second["myOrders"]["edges"],
        json!([{ "node": { "id": placed[0] } }])
    );
    assert_eq!(second["myOrders"]["pageInfo"]["hasNextPage"], false);
    let too_many = w
        .app
        .refused(
            Some(&w.resident.token),
            "{ myOrders(first: 1000) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(too_many, "BAD_USER_INPUT");
}

#[tokio::test]
async fn phones_are_masked_for_members_but_not_for_staff() {
    let w = World::new().await;
    let order = w.place().await;
    w.publish(&order).await;
    let as_member = w
        .app
        .ok(&w.member.token, ORDER, json!({ "id": order }))
        .await;
    assert_eq!(as_member["order"]["requester"]["phone"], "138****0001");
    assert_eq!(as_member["order"]["contactPhone"], "138****0001");
    let as_staff = w
        .app
        .ok(&w.staff.token, ORDER, json!({ "id": order }))
        .await;
    assert_eq!(as_staff["order"]["requester"]["phone"], "13800000001");
    w.app
        .ok(&w.member.token, TAKE, json!({ "id": order }))
        .await;
    let as_taker = w
        .app
        .ok(&w.member.token, ORDER, json!({ "id": order }))
        .await;
    assert_eq!(as_taker["order"]["contactPhone"], "13800000001");
}

async fn status(w: &World, order: &str) -> Value {
    let data = w
        .app
        .ok(&w.staff.token, ORDER, json!({ "id": order }))
        .await;
    data["order"].clone()
}

/// The documents a mini-program from before photo uploads sends: `photoUrls` on placing and
/// completing. They still run; a link is refused with what to do, and nothing is written.
#[tokio::test]
async fn documents_with_the_old_photo_links_still_run() {
    let w = World::new().await;
    let input = |urls: Value| {
        json!({ "input": {
            "categoryId": w.demo.repair,
            "title": "楼道灯坏了",
            "description": "三楼的灯不亮",
            "address": "凤凰社区3号楼",
            "photoUrls": urls,
        }})
    };
    let refused = w
        .app
        .graphql(
            Some(&w.resident.token),
            PLACE,
            input(json!(["https://example.com/a.jpg"])),
        )
        .await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .is_some_and(|message| message.contains("update the mini-program")),
        "{refused}"
    );
    let mine = w
        .app
        .ok(
            &w.resident.token,
            "{ myOrders { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(mine["myOrders"]["edges"], json!([]), "nothing written");

    let placed = w.app.ok(&w.resident.token, PLACE, input(json!([]))).await;
    let order = placed["placeOrder"]["id"].as_str().expect("id");
    w.publish(order).await;
    w.app
        .ok(&w.member.token, TAKE, json!({ "id": order }))
        .await;
    let completed = w
        .app
        .ok(
            &w.member.token,
            "mutation($id: ID!) { completeOrder(orderId: $id, input: { summary: \"换了灯泡\", minutesSpent: 20, photoUrls: [] }) { status } }",
            json!({ "id": order }),
        )
        .await;
    assert_eq!(completed["completeOrder"]["status"], "COMPLETED");
}

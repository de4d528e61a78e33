//! The governance loop around the four lists: hand-back, re-dispatch and transfer, orders
//! placed on a resident's behalf, reopening with points held, and callback visits.
use chrono::Utc;
use entity::{enums::Role, order, role_grant};
use hongfan::content::ContentGuard;
use hongfan::orders::alerts::SWEEP_BATCH;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::{Value, json};

use crate::helpers::{CANCEL, Login, PUBLISH, TAKE, World, error_code, inbox_kinds, offer_of};

const DISPATCH: &str = "mutation($id: ID!, $to: ID!) { dispatchOrder(orderId: $id, assigneeId: $to) { status assignee { id } } }";
const HAND_BACK: &str = "mutation($id: ID!) { handBackOrder(orderId: $id, reason: \"家里有急事\") { status taker { id } assignee { id } } }";
const TRANSFER: &str = "mutation($id: ID!, $c: ID!) { transferOrder(orderId: $id, communityId: $c, reason: \"地址属于隔壁社区\") { status community { id } events { action note } } }";
const COMPLETE: &str = "mutation($id: ID!) { completeOrder(orderId: $id, input: { summary: \"修好了\", minutesSpent: 60 }) { status } }";
const RATE: &str =
    "mutation($id: ID!, $s: Int!) { rateOrder(orderId: $id, input: { stars: $s }) { status } }";
const REOPEN: &str = "mutation($id: ID!) { reopenOrder(orderId: $id, reason: \"又漏水了\") { status taker { id } ratingStars } }";
const CALLBACK: &str = "mutation($id: ID!, $r: Boolean!, $s: Boolean) { recordCallback(orderId: $id, reached: $r, satisfied: $s, note: \"已电话回访\") { reached satisfied staff { id } } }";
const BALANCE: &str =
    "{ myPoints { balance ledger(first: 10) { edges { node { kind amount } } } } }";

async fn taken(w: &World) -> String {
    let order = w.place().await;
    w.publish(&order).await;
    w.app
        .ok(&w.member.token, TAKE, json!({ "id": order }))
        .await;
    order
}

/// An order taken, completed in an hour and rated 5 stars: its time is confirmed as points.
async fn served(w: &World) -> String {
    let order = taken(w).await;
    w.app
        .ok(&w.member.token, COMPLETE, json!({ "id": order }))
        .await;
    w.app
        .ok(&w.resident.token, RATE, json!({ "id": order, "s": 5 }))
        .await;
    order
}

async fn code_of(w: &World, who: &Login, query: &str, variables: Value) -> String {
    w.app.refused(Some(&who.token), query, variables).await
}

#[tokio::test]
async fn a_taker_hands_an_order_back_and_staff_dispatch_it_again() {
    let w = World::new().await;
    let order = taken(&w).await;
    let id = json!({ "id": order });
    assert_eq!(
        code_of(&w, &w.other_member, HAND_BACK, id.clone()).await,
        "FORBIDDEN"
    );
    let back = w.app.ok(&w.member.token, HAND_BACK, id.clone()).await;
    assert_eq!(back["handBackOrder"]["status"], "PENDING_DISPATCH");
    assert!(back["handBackOrder"]["taker"].is_null());
    assert_eq!(
        code_of(&w, &w.member, HAND_BACK, id.clone()).await,
        "FORBIDDEN"
    );

    // Dispatched to one member, then re-dispatched to another, who alone may take it.
    let to = |member: &Login| json!({ "id": order, "to": member.user_id });
    w.app.ok(&w.staff.token, DISPATCH, to(&w.member)).await;
    assert_eq!(
        code_of(&w, &w.staff, DISPATCH, to(&w.member)).await,
        "BAD_USER_INPUT"
    );
    let again = w
        .app
        .ok(&w.staff.token, DISPATCH, to(&w.other_member))
        .await;
    assert_eq!(
        again["dispatchOrder"]["assignee"]["id"],
        w.other_member.user_id.as_str()
    );
    assert_eq!(code_of(&w, &w.member, TAKE, id.clone()).await, "FORBIDDEN");
    w.app.ok(&w.other_member.token, TAKE, id.clone()).await;
    // Dispatching an accepted order is refused.
    assert_eq!(
        code_of(&w, &w.staff, DISPATCH, to(&w.member)).await,
        "CONFLICT"
    );
}

#[tokio::test]
async fn staff_transfer_an_order_to_another_community_with_its_timeline() {
    let w = World::new().await;
    let other_staff = w.app.login("staff-of-the-other-community").await;
    w.app
        .grant(
            "staff-of-the-other-community",
            Role::Staff,
            Some(&w.demo.other_community),
        )
        .await;
    let order = w.place().await;
    let to_other = json!({ "id": order, "c": w.demo.other_community });
    assert_eq!(
        code_of(&w, &w.resident, TRANSFER, to_other.clone()).await,
        "FORBIDDEN"
    );
    assert_eq!(
        code_of(
            &w,
            &w.staff,
            TRANSFER,
            json!({ "id": order, "c": w.demo.community })
        )
        .await,
        "BAD_USER_INPUT"
    );
    let moved = w.app.ok(&w.staff.token, TRANSFER, to_other.clone()).await["transferOrder"].clone();
    assert_eq!(moved["status"], "PENDING_DISPATCH");
    assert_eq!(moved["community"]["id"], w.demo.other_community.as_str());
    let actions: Vec<&str> = moved["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(actions, ["PLACE", "TRANSFER"]);
    // Now the other community's STAFF run it, and the first community's no longer may.
    let queue = "query($c: ID!) { dispatchQueue(communityId: $c) { edges { node { id } } } }";
    let theirs = w
        .app
        .ok(
            &other_staff.token,
            queue,
            json!({ "c": w.demo.other_community }),
        )
        .await;
    assert_eq!(
        theirs["dispatchQueue"]["edges"][0]["node"]["id"],
        order.as_str()
    );
    assert_eq!(
        code_of(&w, &w.staff, PUBLISH, json!({ "id": order })).await,
        "FORBIDDEN"
    );
    // An accepted order is handed back before it can move.
    let accepted = taken(&w).await;
    assert_eq!(
        code_of(
            &w,
            &w.staff,
            TRANSFER,
            json!({ "id": accepted, "c": w.demo.other_community })
        )
        .await,
        "CONFLICT"
    );
}

#[tokio::test]
async fn a_reopened_order_holds_its_points_until_it_is_rated_again() {
    let w = World::new().await;
    let order = served(&w).await;
    let id = json!({ "id": order });
    let balance = |data: &Value| data["myPoints"]["balance"].as_i64().expect("balance");
    let earned = balance(&w.app.ok(&w.member.token, BALANCE, json!({})).await);
    assert!(earned > 0);

    assert_eq!(
        code_of(&w, &w.member, REOPEN, id.clone()).await,
        "FORBIDDEN"
    );
    let reopened = w.app.ok(&w.resident.token, REOPEN, id.clone()).await;
    assert_eq!(reopened["reopenOrder"]["status"], "ACCEPTED");
    assert_eq!(
        reopened["reopenOrder"]["taker"]["id"],
        w.member.user_id.as_str()
    );
    assert!(reopened["reopenOrder"]["ratingStars"].is_null());
    let held = w.app.ok(&w.member.token, BALANCE, json!({})).await;
    assert_eq!(balance(&held), 0, "held while reopened: {held}");
    assert_eq!(
        held["myPoints"]["ledger"]["edges"][0]["node"]["kind"],
        "HOLD"
    );
    assert_eq!(
        code_of(&w, &w.resident, REOPEN, id.clone()).await,
        "CONFLICT"
    );

    w.app.ok(&w.member.token, COMPLETE, id.clone()).await;
    w.app
        .ok(&w.resident.token, RATE, json!({ "id": order, "s": 4 }))
        .await;
    let released = w.app.ok(&w.member.token, BALANCE, json!({})).await;
    assert_eq!(
        balance(&released),
        earned,
        "released, not earned twice: {released}"
    );
    assert_eq!(
        released["myPoints"]["ledger"]["edges"][0]["node"]["kind"],
        "RELEASE"
    );

    // Once: reopening again would take the member's points back at every completion.
    let again = w
        .app
        .graphql(Some(&w.resident.token), REOPEN, id.clone())
        .await;
    assert_eq!(error_code(&again), "CONFLICT", "{again}");
    assert!(
        again["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("reopened once already")),
        "{again}"
    );
    let kept = w.app.ok(&w.member.token, BALANCE, json!({})).await;
    assert_eq!(balance(&kept), earned, "nothing held again: {kept}");

    // Seven days after completion it stays closed.
    let row = order::Entity::find_by_id(order.parse::<uuid::Uuid>().expect("id"))
        .one(&w.app.db)
        .await
        .expect("read")
        .expect("order");
    let mut row: order::ActiveModel = row.into();
    row.completed_at = Set(Some(Utc::now() - chrono::Duration::days(8)));
    row.update(&w.app.db).await.expect("backdate");
    assert_eq!(code_of(&w, &w.resident, REOPEN, id).await, "CONFLICT");
}

/// A step's changes come from what its own transaction reads: here the taker leaves the
/// community while the reopen waits for the order, so it goes back to dispatch rather than to
/// a member who is no longer there.
#[tokio::test]
async fn a_step_is_worked_out_from_what_its_transaction_reads_not_from_an_earlier_read() {
    let w = World::new().await;
    let order = served(&w).await;
    let order_id: uuid::Uuid = order.parse().expect("id");
    let member: uuid::Uuid = w.member.user_id.parse().expect("id");
    // Another writer holds the order (its row on PostgreSQL, the write lock on SQLite) and
    // takes the member off the community meanwhile.
    let writer = hongfan::infra::db::begin_write(&w.app.db)
        .await
        .expect("begin");
    order::Entity::find_by_id(order_id)
        .lock_exclusive()
        .one(&writer)
        .await
        .expect("lock");
    role_grant::Entity::delete_many()
        .filter(role_grant::Column::UserId.eq(member))
        .filter(role_grant::Column::Role.eq(Role::PartyMember))
        .exec(&writer)
        .await
        .expect("revoke");
    let (reopened, ()) = tokio::join!(
        w.app
            .graphql(Some(&w.resident.token), REOPEN, json!({ "id": order })),
        async {
            // Long enough for the reopen to have read everything it reads before waiting.
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            writer.commit().await.expect("commit");
        }
    );
    assert!(reopened["errors"].is_null(), "{reopened}");
    assert_eq!(
        reopened["data"]["reopenOrder"]["status"], "PENDING_DISPATCH",
        "{reopened}"
    );
    assert!(
        reopened["data"]["reopenOrder"]["taker"].is_null(),
        "{reopened}"
    );
}

#[tokio::test]
async fn reopening_twice_at_once_reopens_once_and_holds_once() {
    let w = World::new().await;
    let order = taken(&w).await;
    w.app
        .ok(&w.member.token, COMPLETE, json!({ "id": order }))
        .await;
    w.app
        .ok(&w.resident.token, RATE, json!({ "id": order, "s": 5 }))
        .await;
    let attempts = (0..2).map(|_| {
        w.app
            .graphql(Some(&w.resident.token), REOPEN, json!({ "id": order }))
    });
    let results = futures::future::join_all(attempts).await;
    let succeeded = results.iter().filter(|r| r["errors"].is_null()).count();
    assert_eq!(succeeded, 1, "{results:?}");
    let failed = results
        .iter()
        .find(|r| !r["errors"].is_null())
        .expect("one refused");
    assert_eq!(error_code(failed), "CONFLICT");
    let ledger = w.app.ok(&w.member.token, BALANCE, json!({})).await;
    let holds = ledger["myPoints"]["ledger"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter(|e| e["node"]["kind"] == "HOLD")
        .count();
    assert_eq!(holds, 1);
}

#[tokio::test]
async fn low_ratings_wait_in_the_follow_up_queue_until_a_callback_is_recorded() {
    let w = World::new().await;
    let order = taken(&w).await;
    let id = json!({ "id": order, "r": true, "s": false });
    assert_eq!(
        code_of(&w, &w.staff, CALLBACK, id.clone()).await,
        "CONFLICT"
    );
    w.app
        .ok(&w.member.token, COMPLETE, json!({ "id": order }))
        .await;
    w.app
        .ok(&w.resident.token, RATE, json!({ "id": order, "s": 1 }))
        .await;
    let queue = "query($c: ID!) { dispatchQueue(communityId: $c, needsFollowUp: true) { edges { node { id needsFollowUp } } } }";
    let waiting = w
        .app
        .ok(&w.staff.token, queue, json!({ "c": w.demo.community }))
        .await;
    assert_eq!(
        waiting["dispatchQueue"]["edges"][0]["node"]["id"],
        order.as_str()
    );
    assert_eq!(
        waiting["dispatchQueue"]["edges"][0]["node"]["needsFollowUp"],
        true
    );

    assert_eq!(
        code_of(&w, &w.member, CALLBACK, id.clone()).await,
        "FORBIDDEN"
    );
    assert_eq!(
        code_of(
            &w,
            &w.staff,
            CALLBACK,
            json!({ "id": order, "r": false, "s": true })
        )
        .await,
        "BAD_USER_INPUT"
    );
    let recorded = w.app.ok(&w.staff.token, CALLBACK, id).await;
    assert_eq!(recorded["recordCallback"]["satisfied"], false);
    let after = w
        .app
        .ok(&w.staff.token, queue, json!({ "c": w.demo.community }))
        .await;
    assert_eq!(after["dispatchQueue"]["edges"], json!([]));

    let callbacks =
        "query($id: ID!) { order(id: $id) { callbacks { note reached } events { action } } }";
    let seen = w
        .app
        .ok(&w.staff.token, callbacks, json!({ "id": order }))
        .await;
    assert_eq!(seen["order"]["callbacks"][0]["note"], "已电话回访");
    let last = seen["order"]["events"]
        .as_array()
        .expect("events")
        .last()
        .cloned();
    assert_eq!(last.expect("event")["action"], "CALLBACK");
    let resident = w
        .app
        .ok(&w.resident.token, callbacks, json!({ "id": order }))
        .await;
    assert_eq!(resident["order"]["callbacks"], json!([]), "for STAFF only");
}

#[tokio::test]
async fn staff_place_orders_for_residents_without_the_app() {
    let w = World::new().await;
    let on_behalf = "mutation($input: PlaceOrderOnBehalfInput!) { placeOrderOnBehalf(input: $input) { id channel residentName requester { id } placedBy { id } contactPhone } }";
    let input = |phone: &str, channel: &str| {
        json!({ "input": {
            "communityId": w.demo.community, "residentName": "王奶奶", "phone": phone, "channel": channel,
            "order": { "categoryId": w.demo.repair, "title": "灯不亮了", "description": "客厅的灯", "address": "凤凰社区5号楼101" },
        }})
    };
    // Nobody of the community has this phone: STAFF hold the order for her.
    let held = w
        .app
        .ok(&w.staff.token, on_behalf, input("13700001111", "HOTLINE"))
        .await["placeOrderOnBehalf"]
        .clone();
    assert_eq!(held["channel"], "HOTLINE");
    assert_eq!(held["residentName"], "王奶奶");
    assert_eq!(held["requester"]["id"], w.staff.user_id.as_str());
    assert_eq!(held["placedBy"]["id"], w.staff.user_id.as_str());
    assert_eq!(held["contactPhone"], "13700001111");

    // A resident of the community with that phone gets it as her own.
    let grandma = w.app.login("grandma-with-phone").await;
    w.app
        .grant(
            "grandma-with-phone",
            Role::Resident,
            Some(&w.demo.community),
        )
        .await;
    w.app
        .ok(
            &grandma.token,
            "mutation($c: ID!) { updateMyProfile(input: { name: \"王奶奶\", phone: \"13700002222\", communityId: $c }) { id } }",
            json!({ "c": w.demo.community }),
        )
        .await;
    let hers = w
        .app
        .ok(&w.staff.token, on_behalf, input("13700002222", "STAFF"))
        .await["placeOrderOnBehalf"]
        .clone();
    assert_eq!(hers["requester"]["id"], grandma.user_id.as_str());
    assert!(hers["residentName"].is_null());
    let mine = w
        .app
        .ok(
            &grandma.token,
            "{ myOrders { edges { node { id channel } } } }",
            json!({}),
        )
        .await;
    assert_eq!(mine["myOrders"]["edges"][0]["node"]["id"], hers["id"]);
    assert_eq!(mine["myOrders"]["edges"][0]["node"]["channel"], "STAFF");

    assert_eq!(
        code_of(&w, &w.staff, on_behalf, input("13700001111", "APP")).await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        code_of(&w, &w.member, on_behalf, input("13700001111", "STAFF")).await,
        "FORBIDDEN"
    );
}

/// One sweep of the alert job at `now`, its news settled like the running job's.
async fn sweep_at(w: &World, now: chrono::DateTime<Utc>) -> usize {
    hongfan::orders::alerts::sweep(&w.app.db, &w.app.dispatcher, now)
        .await
        .expect("sweep")
}

/// A sweep reads its candidates a batch at a time: the late orders past the first batch
/// change too, each once.
#[tokio::test]
async fn a_sweep_reaches_every_late_order_however_many_batches_they_fill() {
    let w = World::new().await;
    let placed = w.place().await;
    let template = order::Entity::find_by_id(placed.parse::<uuid::Uuid>().expect("id"))
        .one(&w.app.db)
        .await
        .expect("read")
        .expect("order");
    let copies: Vec<order::ActiveModel> = (0..SWEEP_BATCH)
        .map(|_| {
            order::Model {
                id: uuid::Uuid::now_v7(),
                ..template.clone()
            }
            .into()
        })
        .collect();
    for chunk in copies.chunks(100) {
        order::Entity::insert_many(chunk.to_vec())
            .exec(&w.app.db)
            .await
            .expect("insert");
    }
    let late = Utc::now() + chrono::Duration::hours(26);
    assert_eq!(sweep_at(&w, late).await, SWEEP_BATCH as usize + 1);
    assert_eq!(
        sweep_at(&w, late).await,
        0,
        "every one changed the first time"
    );
}

const ALERTS: &str = "query($c: ID!, $l: AlertLevel) { alerts(communityId: $c, level: $l) { edges { node { id alertLevel } } } }";

async fn alerted(w: &World, level: Option<&str>) -> usize {
    let variables = json!({ "c": w.demo.community, "l": level });
    w.app.ok(&w.staff.token, ALERTS, variables).await["alerts"]["edges"]
        .as_array()
        .expect("edges")
        .len()
}

async fn alert_messages(w: &World) -> usize {
    inbox_kinds(&w.app, &w.staff.token)
        .await
        .iter()
        .filter(|kind| *kind == "ORDER_ALERT")
        .count()
}

#[tokio::test]
async fn late_orders_turn_yellow_then_red_and_staff_hear_it_once() {
    let w = World::new().await;
    let order = w.place().await;
    assert_eq!(sweep_at(&w, Utc::now()).await, 0, "on time: still green");
    assert_eq!(alerted(&w, None).await, 0);

    // Past the response deadline, swept by two instances at once: one change, one message.
    let late = Utc::now() + chrono::Duration::hours(26);
    let (a, b) = tokio::join!(sweep_at(&w, late), sweep_at(&w, late));
    assert_eq!(a + b, 1);
    assert_eq!(alert_messages(&w).await, 1);
    assert_eq!(alerted(&w, Some("YELLOW")).await, 1);
    assert_eq!(alerted(&w, Some("RED")).await, 0);
    assert_eq!(sweep_at(&w, late).await, 0, "unchanged: nothing new");

    // Accepted, then three days without any step: RED, and past its completion deadline.
    w.publish(&order).await;
    w.app
        .ok(&w.member.token, TAKE, json!({ "id": order }))
        .await;
    sweep_at(&w, Utc::now() + chrono::Duration::days(4)).await;
    assert_eq!(alerted(&w, Some("RED")).await, 1);
    assert_eq!(alert_messages(&w).await, 2);
    let queue = "query($c: ID!) { dispatchQueue(communityId: $c, alertLevel: RED) { edges { node { id } } } }";
    let red = w
        .app
        .ok(&w.staff.token, queue, json!({ "c": w.demo.community }))
        .await;
    assert_eq!(
        red["dispatchQueue"]["edges"][0]["node"]["id"],
        order.as_str()
    );

    // Completed: green again, without a message.
    w.app
        .ok(&w.member.token, COMPLETE, json!({ "id": order }))
        .await;
    assert_eq!(sweep_at(&w, Utc::now()).await, 1);
    assert_eq!(alerted(&w, None).await, 0);
    assert_eq!(alert_messages(&w).await, 2);
    assert_eq!(
        w.app
            .refused(
                Some(&w.member.token),
                ALERTS,
                json!({ "c": w.demo.community, "l": null })
            )
            .await,
        "FORBIDDEN"
    );
}

#[tokio::test]
async fn dispatchers_choose_members_by_skill_and_current_load() {
    let w = World::new().await;
    let skills = "mutation($s: [String!]!) { updateMyProfile(input: { skills: $s }) { skills } }";
    let set = w
        .app
        .ok(
            &w.member.token,
            skills,
            json!({ "s": ["水电", "电器", "水电"] }),
        )
        .await;
    assert_eq!(set["updateMyProfile"]["skills"], json!(["水电", "电器"]));
    w.app
        .ok(&w.other_member.token, skills, json!({ "s": ["法律咨询"] }))
        .await;

    let members = "query($c: ID!, $s: String) { communityMembers(communityId: $c, skill: $s) { edges { node { member { id } openTasks completedLast30Days } } } }";
    let list = |skill: Option<&'static str>| {
        let variables = json!({ "c": w.demo.community, "s": skill });
        let (app, token) = (&w.app, w.staff.token.clone());
        async move {
            app.ok(&token, members, variables).await["communityMembers"]["edges"]
                .as_array()
                .expect("edges")
                .iter()
                .map(|e| e["node"].clone())
                .collect::<Vec<Value>>()
        }
    };
    let plumbers = list(Some("水电")).await;
    assert_eq!(plumbers.len(), 1);
    assert_eq!(plumbers[0]["member"]["id"], w.member.user_id.as_str());
    assert!(list(Some("水")).await.is_empty(), "a skill matches whole");
    assert!(list(None).await.len() >= 2);

    let order = taken(&w).await;
    let second = w.place().await;
    w.app
        .ok(
            &w.staff.token,
            DISPATCH,
            json!({ "id": second, "to": w.other_member.user_id }),
        )
        .await;
    let load_of = |nodes: &[Value], who: &Login| {
        nodes
            .iter()
            .find(|n| n["member"]["id"] == who.user_id.as_str())
            .cloned()
            .expect("listed")
    };
    let all = list(None).await;
    assert_eq!(load_of(&all, &w.member)["openTasks"], 1);
    assert_eq!(load_of(&all, &w.other_member)["openTasks"], 1);
    w.app
        .ok(&w.member.token, COMPLETE, json!({ "id": order }))
        .await;
    let all = list(None).await;
    assert_eq!(load_of(&all, &w.member)["openTasks"], 0);
    assert_eq!(load_of(&all, &w.member)["completedLast30Days"], 1);
    assert_eq!(
        code_of(
            &w,
            &w.member,
            members,
            json!({ "c": w.demo.community, "s": null })
        )
        .await,
        "FORBIDDEN"
    );
}

#[tokio::test]
async fn street_offices_see_response_resolution_and_satisfaction() {
    let w = World::new().await;
    let admin = w.app.login("demo-admin").await;
    let rated = |stars: i64| {
        let w = &w;
        async move {
            let order = taken(w).await;
            w.app
                .ok(&w.member.token, COMPLETE, json!({ "id": order }))
                .await;
            w.app
                .ok(&w.resident.token, RATE, json!({ "id": order, "s": stars }))
                .await;
            order
        }
    };
    let happy = rated(5).await;
    let unhappy = rated(2).await;
    w.app
        .ok(
            &w.staff.token,
            CALLBACK,
            json!({ "id": unhappy, "r": true, "s": true }),
        )
        .await;
    let cancelled = w.place().await;
    w.app
        .ok(&w.resident.token, CANCEL, json!({ "id": cancelled }))
        .await;
    w.app
        .ok(
            &w.staff.token,
            "mutation($input: PlaceOrderOnBehalfInput!) { placeOrderOnBehalf(input: $input) { id } }",
            json!({ "input": {
                "communityId": w.demo.community, "residentName": "李大爷", "phone": "13700003333", "channel": "HOTLINE",
                "order": { "categoryId": w.demo.repair, "title": "门锁坏了", "description": "", "address": "6号楼" },
            }}),
        )
        .await;
    // The two served orders waited 90 and 30 minutes for acceptance.
    for (order, waited) in [(&happy, 90), (&unhappy, 30)] {
        let row = order::Entity::find_by_id(order.parse::<uuid::Uuid>().expect("id"))
            .one(&w.app.db)
            .await
            .expect("read")
            .expect("order");
        let accepted = row.accepted_at.expect("accepted");
        let mut row: order::ActiveModel = row.into();
        row.created_at = Set(accepted - chrono::Duration::minutes(waited));
        row.update(&w.app.db).await.expect("backdate");
    }
    // Written around the API: the rollup is rebuilt, as `hongfan rebuild-stats` does.
    hongfan::orders::stats::rebuild(&w.app.db)
        .await
        .expect("rebuild");

    let stats = "query($scope: StatsScope!, $from: DateTime!, $to: DateTime!) { governanceStats(scope: $scope, from: $from, to: $to) {
        total { placed cancelled placedOnBehalf rated responseRate resolutionRate satisfactionRate callbackRate averageResponseMinutes yellow red }
        byStatus { key orders } byChannel { key orders }
        byCommunity { community { id } counts { placed } } byCategory { category { id } counts { placed } } byMonth { month counts { placed } } } }";
    let period = |scope: Value| json!({ "scope": scope, "from": (Utc::now() - chrono::Duration::days(1)).to_rfc3339(), "to": (Utc::now() + chrono::Duration::days(1)).to_rfc3339() });
    let mine = w
        .app
        .ok(
            &w.staff.token,
            stats,
            period(json!({ "communityId": w.demo.community })),
        )
        .await["governanceStats"]
        .clone();
    let total = &mine["total"];
    assert_eq!(total["placed"], 4, "{mine}");
    assert_eq!(total["cancelled"], 1);
    assert_eq!(total["placedOnBehalf"], 1);
    assert_eq!(total["rated"], 2);
    assert_eq!(total["responseRate"], 1.0);
    assert_eq!(total["resolutionRate"], 1.0);
    assert_eq!(total["satisfactionRate"], 0.5);
    assert_eq!(total["callbackRate"], 0.5);
    assert_eq!(total["averageResponseMinutes"], 60.0);
    let keyed = |list: &Value| -> Vec<(String, i64)> {
        list.as_array()
            .expect("list")
            .iter()
            .map(|e| {
                (
                    e["key"].as_str().expect("key").to_owned(),
                    e["orders"].as_i64().expect("n"),
                )
            })
            .collect()
    };
    assert_eq!(
        keyed(&mine["byStatus"]),
        [
            ("CANCELLED".to_owned(), 1),
            ("PENDING_DISPATCH".to_owned(), 1),
            ("RATED".to_owned(), 2)
        ]
    );
    assert_eq!(
        keyed(&mine["byChannel"]),
        [("APP".to_owned(), 3), ("HOTLINE".to_owned(), 1)]
    );
    assert_eq!(
        mine["byCommunity"][0]["community"]["id"],
        w.demo.community.as_str()
    );
    assert_eq!(mine["byCategory"][0]["counts"]["placed"], 4);
    let china_month = (Utc::now() + chrono::Duration::hours(8))
        .format("%Y-%m")
        .to_string();
    assert_eq!(mine["byMonth"][0]["month"], china_month.as_str());

    // The district office sees the same orders; STAFF see only their community.
    let district = w
        .app
        .ok(
            &admin.token,
            "query($c: ID!) { community(id: $c) { street { district { id } } } }",
            json!({ "c": w.demo.community }),
        )
        .await["community"]["street"]["district"]["id"]
        .clone();
    let wide = w
        .app
        .ok(
            &admin.token,
            stats,
            period(json!({ "districtId": district })),
        )
        .await;
    assert_eq!(wide["governanceStats"]["total"]["placed"], 4);
    assert_eq!(
        code_of(
            &w,
            &w.staff,
            stats,
            period(json!({ "districtId": district }))
        )
        .await,
        "FORBIDDEN"
    );
    assert_eq!(
        code_of(
            &w,
            &w.member,
            stats,
            period(json!({ "communityId": w.demo.community }))
        )
        .await,
        "FORBIDDEN"
    );
    let backwards = json!({ "scope": { "communityId": w.demo.community }, "from": Utc::now().to_rfc3339(), "to": (Utc::now() - chrono::Duration::days(1)).to_rfc3339() });
    assert_eq!(
        code_of(&w, &w.staff, stats, backwards).await,
        "BAD_USER_INPUT"
    );
}

#[tokio::test]
async fn residents_object_to_a_published_notice_and_staff_resolve_with_a_reversal() {
    use entity::service_record;
    use sea_orm::{ColumnTrait, QueryFilter};

    let w = World::new().await;
    let order = taken(&w).await;
    w.app
        .ok(&w.member.token, COMPLETE, json!({ "id": order }))
        .await;
    w.app
        .ok(&w.resident.token, RATE, json!({ "id": order, "s": 5 }))
        .await;
    let record = service_record::Entity::find()
        .filter(service_record::Column::OrderId.eq(order.parse::<uuid::Uuid>().expect("id")))
        .one(&w.app.db)
        .await
        .expect("read")
        .expect("record");
    let object =
        "mutation($r: ID!) { objectToNotice(recordId: $r, reason: \"他那天不在社区\") { id } }";
    let line = json!({ "r": record.id.to_string() });
    // This month's notice is not published until the month ends.
    assert_eq!(
        code_of(&w, &w.resident, object, line.clone()).await,
        "CONFLICT"
    );

    // The line as if confirmed last month; residents object during the five days after
    // publication (the window is decided by the moment passed in).
    let last_month = Utc::now() - chrono::Duration::days(40);
    let mut backdated: service_record::ActiveModel = record.clone().into();
    backdated.confirmed_at = Set(Some(last_month));
    backdated.update(&w.app.db).await.expect("backdate");
    assert_eq!(
        code_of(&w, &w.resident, object, line.clone()).await,
        "CONFLICT",
        "closed by now"
    );
    let month = hongfan::values::Month::of(last_month);
    let (published, _) = hongfan::points::rules::objection_window(month);
    let resident =
        hongfan::identity::load_actor(&w.app.db, w.resident.user_id.parse().expect("id"))
            .await
            .expect("actor");
    let during = published + chrono::Duration::days(2);
    let objection = hongfan::points::objections::object(
        &w.app.db,
        &ContentGuard::Off,
        &resident,
        record.id,
        "他那天不在社区".into(),
        during,
    )
    .await
    .expect("objection filed");
    let after = published + chrono::Duration::days(6);
    assert!(
        hongfan::points::objections::object(
            &w.app.db,
            &ContentGuard::Off,
            &resident,
            record.id,
            "再次异议".into(),
            after
        )
        .await
        .is_err()
    );
    let outsider = w
        .app
        .resident("objector-elsewhere", &w.demo.other_community)
        .await;
    let outsider = hongfan::identity::load_actor(&w.app.db, outsider.user_id.parse().expect("id"))
        .await
        .expect("actor");
    let refused = hongfan::points::objections::object(
        &w.app.db,
        &ContentGuard::Off,
        &outsider,
        record.id,
        "看不惯".into(),
        during,
    )
    .await
    .expect_err("not their community");
    assert_eq!(refused.code(), "FORBIDDEN");

    let notice = "query($c: ID!, $m: String!) { communityPointsNotice(communityId: $c, month: $m) { lines { recordId } objectionsCloseAt objections { id reason resolvedAt resolution reversed } } }";
    let shown = w
        .app
        .ok(
            &w.resident.token,
            notice,
            json!({ "c": w.demo.community, "m": month.to_string() }),
        )
        .await["communityPointsNotice"]
        .clone();
    assert_eq!(
        shown["lines"][0]["recordId"],
        record.id.to_string().as_str()
    );
    assert_eq!(shown["objections"][0]["reason"], "他那天不在社区");
    assert!(shown["objections"][0]["resolvedAt"].is_null());

    let resolve = "mutation($o: ID!) { resolveNoticeObjection(objectionId: $o, note: \"核实无误，撤销积分\", reverse: true) { reversed resolution } }";
    let id = json!({ "o": objection.id.to_string() });
    assert_eq!(
        code_of(&w, &w.member, resolve, id.clone()).await,
        "FORBIDDEN"
    );
    let before = w.app.ok(&w.member.token, BALANCE, json!({})).await["myPoints"]["balance"]
        .as_i64()
        .expect("balance");
    w.app.ok(&w.staff.token, resolve, id.clone()).await;
    let after = w.app.ok(&w.member.token, BALANCE, json!({})).await;
    assert_eq!(
        after["myPoints"]["ledger"]["edges"][0]["node"]["kind"],
        "REVERSAL"
    );
    assert!(after["myPoints"]["balance"].as_i64().expect("balance") < before);
    assert_eq!(
        code_of(&w, &w.staff, resolve, id).await,
        "CONFLICT",
        "resolved once"
    );
    let shown = w
        .app
        .ok(
            &w.resident.token,
            notice,
            json!({ "c": w.demo.community, "m": month.to_string() }),
        )
        .await;
    assert_eq!(
        shown["communityPointsNotice"]["objections"][0]["reversed"],
        true
    );
}

#[tokio::test]
async fn staff_export_their_orders_as_csv_that_excel_opens() {
    let w = World::new().await;
    let first = w.place().await;
    let tricky = w
        .app
        .ok(
            &w.resident.token,
            crate::helpers::PLACE,
            json!({ "input": {
                "categoryId": w.demo.repair, "title": "=HYPERLINK(\"http://x\"),点我", "description": "",
                "address": "3号楼, 2单元", "contactPhone": "13800000001",
            }}),
        )
        .await["placeOrder"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let export = |token: Option<&str>, community: &str| {
        let mut request = w
            .app
            .http
            .get(format!("{}/exports/orders.csv", w.app.address))
            .query(&[
                ("communityId", community.to_owned()),
                (
                    "from",
                    (Utc::now() - chrono::Duration::days(1)).to_rfc3339(),
                ),
                ("to", (Utc::now() + chrono::Duration::days(1)).to_rfc3339()),
            ]);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let response = export(Some(&w.staff.token), &w.demo.community)
        .await
        .expect("export");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/csv")
    );
    let text = response.text().await.expect("body");
    assert!(text.starts_with('\u{feff}'), "a byte-order mark for Excel");
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].contains("订单号"));
    assert!(lines[1].starts_with(&first));
    assert!(lines[2].starts_with(&tricky));
    assert!(
        lines[2].contains("\"'=HYPERLINK(\"\"http://x\"\"),点我\""),
        "{}",
        lines[2]
    );
    assert!(lines[2].contains("\"3号楼, 2单元\""));
    assert!(lines[2].contains("PENDING_DISPATCH"));

    assert_eq!(
        export(None, &w.demo.community)
            .await
            .expect("export")
            .status(),
        reqwest::StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        export(Some(&w.resident.token), &w.demo.community)
            .await
            .expect("export")
            .status(),
        reqwest::StatusCode::FORBIDDEN
    );
    assert_eq!(
        export(Some(&w.staff.token), &w.demo.other_community)
            .await
            .expect("export")
            .status(),
        reqwest::StatusCode::FORBIDDEN
    );
}

/// `GET /exports/{file}` for `area` (`communityId`, `streetId` or `districtId`) over the last
/// and next day: its status and body.
async fn export_as(
    w: &World,
    token: &str,
    file: &str,
    area: (&str, &str),
) -> (reqwest::StatusCode, String) {
    let response = w
        .app
        .http
        .get(format!("{}/exports/{file}", w.app.address))
        .query(&[
            (area.0, area.1.to_owned()),
            (
                "from",
                (Utc::now() - chrono::Duration::days(1)).to_rfc3339(),
            ),
            ("to", (Utc::now() + chrono::Duration::days(1)).to_rfc3339()),
        ])
        .bearer_auth(token)
        .send()
        .await
        .expect("export");
    let status = response.status();
    (status, response.text().await.expect("body"))
}

#[tokio::test]
async fn each_export_covers_its_area_and_masks_phones_for_those_above_the_community() {
    let w = World::new().await;
    // An order served and rated (a service record and its points), and a redemption.
    let order = served(&w).await;
    let (merchant, _) =
        crate::helpers::merchant_with_cashier(&w, &w.demo.community, &w.staff, "export").await;
    let owner = w.app.login("export-owner").await;
    let offer = offer_of(&w.app, &owner, &merchant).await;
    w.app
        .ok(
            &w.staff.token,
            "mutation($u: ID!) { adjustPoints(userId: $u, amount: 50, reason: \"志愿服务\") { id } }",
            json!({ "u": w.resident.user_id }),
        )
        .await;
    w.app
        .ok(
            &w.resident.token,
            "mutation($o: ID!) { redeemOffer(offerId: $o, idempotencyKey: \"export-redeem-1\") { id } }",
            json!({ "o": offer }),
        )
        .await;

    let community = ("communityId", w.demo.community.as_str());
    let expected = [
        ("orders.csv", "13800000001", "理发"),
        ("service-records.csv", "13800000002", "ORDER"),
        ("points-ledger.csv", "13800000001", "SPEND"),
        ("redemptions.csv", "13800000001", "理发一次"),
    ];
    for (file, phone, content) in expected {
        let (status, text) = export_as(&w, &w.staff.token, file, community).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{file}: {text}");
        assert!(text.starts_with('\u{feff}'), "{file}");
        assert!(text.contains(phone), "{file} in full for STAFF: {text}");
        if file != "orders.csv" {
            assert!(text.contains(content), "{file}: {text}");
        }
    }

    // The street's staff export the street, with phones masked.
    let street_staff = w.app.login("demo-street").await;
    let street = w
        .app
        .ok(
            &w.staff.token,
            "query($c: ID!) { community(id: $c) { street { id district { id } } } }",
            json!({ "c": w.demo.community }),
        )
        .await["community"]["street"]
        .clone();
    let street_id = street["id"].as_str().expect("street");
    for file in ["orders.csv", "service-records.csv", "redemptions.csv"] {
        let (status, text) =
            export_as(&w, &street_staff.token, file, ("streetId", street_id)).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{file}");
        assert!(text.contains("138****000"), "{file} masked: {text}");
        assert!(!text.contains("13800000001"), "{file}: {text}");
        assert!(!text.contains("13800000002"), "{file}: {text}");
    }
    let admin = w.app.login("demo-admin").await;
    let district = street["district"]["id"].as_str().expect("district");
    let (status, text) = export_as(&w, &admin.token, "orders.csv", ("districtId", district)).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert!(text.contains(&order), "{text}");

    // Refusals.
    assert_eq!(
        export_as(&w, &street_staff.token, "orders.csv", community)
            .await
            .0,
        reqwest::StatusCode::FORBIDDEN,
        "STREET_STAFF are not STAFF of the community"
    );
    assert_eq!(
        export_as(&w, &w.staff.token, "orders.csv", ("streetId", street_id))
            .await
            .0,
        reqwest::StatusCode::FORBIDDEN
    );
    assert_eq!(
        export_as(&w, &w.staff.token, "users.csv", community)
            .await
            .0,
        reqwest::StatusCode::NOT_FOUND
    );
    let both = w
        .app
        .http
        .get(format!("{}/exports/orders.csv", w.app.address))
        .query(&[
            ("communityId", w.demo.community.as_str()),
            ("streetId", street_id),
            ("from", "2026-01-01T00:00:00Z"),
            ("to", "2026-02-01T00:00:00Z"),
        ])
        .bearer_auth(&w.staff.token)
        .send()
        .await
        .expect("export");
    assert_eq!(both.status(), reqwest::StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn orders_of_a_category_go_in_turn_to_members_with_the_skill_when_staff_enable_it() {
    let w = World::new().await;
    let set = "mutation($c: ID!, $k: ID!, $s: String) { setAutoRouting(communityId: $c, categoryId: $k, skill: $s) { skill category { id } enabledBy { id } } }";
    let rule =
        |skill: Option<&str>| json!({ "c": w.demo.community, "k": w.demo.repair, "s": skill });
    for who in [&w.resident, &w.member] {
        assert_eq!(code_of(&w, who, set, rule(Some("水电"))).await, "FORBIDDEN");
    }
    let rules = w.app.ok(&w.staff.token, set, rule(Some("水电"))).await;
    assert_eq!(rules["setAutoRouting"][0]["skill"], "水电");
    assert_eq!(
        rules["setAutoRouting"][0]["enabledBy"]["id"],
        w.staff.user_id.as_str()
    );

    // Nobody has the skill yet: the order waits for STAFF.
    let waiting = w.place().await;
    let status = "query($id: ID!) { order(id: $id) { status assignee { id } events { action note actor { id } } } }";
    let seen = w
        .app
        .ok(&w.staff.token, status, json!({ "id": waiting }))
        .await;
    assert_eq!(seen["order"]["status"], "PENDING_DISPATCH");

    let skills = "mutation { updateMyProfile(input: { skills: [\"水电\", \"助老\"] }) { id } }";
    for member in [&w.member, &w.other_member] {
        w.app.ok(&member.token, skills, json!({})).await;
    }
    let mut assignees = Vec::new();
    for _ in 0..3 {
        let order = w.place().await;
        let seen = w
            .app
            .ok(&w.staff.token, status, json!({ "id": order }))
            .await["order"]
            .clone();
        assert_eq!(seen["status"], "DISPATCHED");
        let dispatch = &seen["events"][1];
        assert_eq!(dispatch["action"], "DISPATCH");
        assert_eq!(dispatch["note"], "按类别自动派单");
        assert_eq!(dispatch["actor"]["id"], w.staff.user_id.as_str());
        assignees.push(
            seen["assignee"]["id"]
                .as_str()
                .expect("assignee")
                .to_owned(),
        );
    }
    assert_ne!(assignees[0], assignees[1], "in turn");
    assert_eq!(assignees[0], assignees[2], "and round again");
    assert!(assignees.contains(&w.member.user_id) && assignees.contains(&w.other_member.user_id));
    assert!(
        inbox_kinds(&w.app, &w.member.token)
            .await
            .contains(&"ORDER_DISPATCHED_TO_YOU".to_owned())
    );

    // Switched off: back to the dispatch queue.
    let off = w.app.ok(&w.staff.token, set, rule(None)).await;
    assert_eq!(off["setAutoRouting"], json!([]));
    let queued = w.place().await;
    let seen = w
        .app
        .ok(&w.staff.token, status, json!({ "id": queued }))
        .await;
    assert_eq!(seen["order"]["status"], "PENDING_DISPATCH");
}

/// governanceStats over `from..to` for the demo community, as STAFF see it.
async fn numbers(w: &World, from: chrono::DateTime<Utc>, to: chrono::DateTime<Utc>) -> Value {
    let stats = "query($c: ID!, $from: DateTime!, $to: DateTime!) { governanceStats(scope: { communityId: $c }, from: $from, to: $to) {
        total { placed cancelled placedOnBehalf rated responseRate resolutionRate satisfactionRate callbackRate averageResponseMinutes averageCompletionMinutes yellow red }
        byStatus { key orders } byChannel { key orders } byMonth { month counts { placed rated } } } }";
    w.app
        .ok(
            &w.staff.token,
            stats,
            json!({ "c": w.demo.community, "from": from.to_rfc3339(), "to": to.to_rfc3339() }),
        )
        .await["governanceStats"]
        .clone()
}

#[tokio::test]
async fn the_rollup_of_closed_orders_counts_what_the_orders_themselves_say() {
    let w = World::new().await;
    // Closed every way there is, and changed again once closed.
    let happy = served(&w).await;
    let unhappy = taken(&w).await;
    w.app
        .ok(&w.member.token, COMPLETE, json!({ "id": unhappy }))
        .await;
    w.app
        .ok(&w.resident.token, RATE, json!({ "id": unhappy, "s": 1 }))
        .await;
    w.app
        .ok(
            &w.staff.token,
            CALLBACK,
            json!({ "id": unhappy, "r": true, "s": false }),
        )
        .await;
    w.app
        .ok(
            &w.staff.token,
            CALLBACK,
            json!({ "id": unhappy, "r": false, "s": null }),
        )
        .await;
    let reopened = served(&w).await;
    w.app
        .ok(&w.resident.token, REOPEN, json!({ "id": reopened }))
        .await;
    let unrated = taken(&w).await;
    w.app
        .ok(&w.member.token, COMPLETE, json!({ "id": unrated }))
        .await;
    let cancelled_late = taken(&w).await;
    w.app
        .ok(
            &w.staff.token,
            "mutation($id: ID!) { cancelOrder(orderId: $id, reason: \"居民已自行解决\") { status } }",
            json!({ "id": cancelled_late }),
        )
        .await;
    w.place().await;
    // An open order turns red, a closed one back to green.
    let late = Utc::now() + chrono::Duration::days(10);
    hongfan::orders::alerts::sweep(&w.app.db, &w.app.dispatcher, late)
        .await
        .expect("sweep");
    let _ = happy;

    let now = Utc::now();
    // Whole days: closed orders from the rollup. Under a day: every order counted live.
    let rolled_up = numbers(
        &w,
        now - chrono::Duration::days(3),
        now + chrono::Duration::days(3),
    )
    .await;
    let live = numbers(
        &w,
        now - chrono::Duration::hours(1),
        now + chrono::Duration::hours(1),
    )
    .await;
    // 80 days hold a whole month or two: theirs from the month rollup.
    let months = |w| {
        numbers(
            w,
            now - chrono::Duration::days(40),
            now + chrono::Duration::days(40),
        )
    };
    assert_eq!(rolled_up["total"]["placed"], 6, "{rolled_up}");
    assert_eq!(rolled_up["total"]["callbackRate"], 0.5, "{rolled_up}");
    assert_eq!(rolled_up, live);
    assert_eq!(months(&w).await, live);
    // A rebuild from the orders table finds the same.
    hongfan::orders::stats::rebuild(&w.app.db)
        .await
        .expect("rebuild");
    let rebuilt = numbers(
        &w,
        now - chrono::Duration::days(3),
        now + chrono::Duration::days(3),
    )
    .await;
    assert_eq!(rebuilt, live);
    assert_eq!(months(&w).await, live);
}

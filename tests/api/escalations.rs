//! Escalation up and back (吹哨报到): a community sends an order it cannot solve to a street
//! department, which accepts, reports progress and resolves it; a street passes one on to the
//! district, whose department returns it; refusals; two officers answering at once.
use chrono::Utc;
use entity::{enums::Role, order};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};

use crate::helpers::{TAKE, World, inbox_kinds};

const ESCALATE: &str = "mutation($o: ID!, $to: EscalationLevel!, $d: ID!) { escalateOrder(input: { orderId: $o, to: $to, departmentId: $d, reason: \"占道经营，社区无执法权\" }) { id status level dueAt department { id name } order { status alertLevel completionDueAt } } }";
const RESPOND: &str = "mutation($e: ID!, $a: EscalationAction!, $n: String!, $d: ID) { respondToEscalation(input: { escalationId: $e, action: $a, note: $n, departmentId: $d }) { id status level outcome acceptedAt closedAt department { id } order { status completionSummary } } }";
const ORDER: &str = "query($id: ID!) { order(id: $id) { status contactPhone completedAt escalations { status level department { name } } events { action fromStatus toStatus note } } }";

/// The demo's departments: (street department, district department).
async fn departments(w: &World) -> (String, String) {
    let tree = w
        .app
        .ok(
            &w.staff.token,
            "query($c: ID!) { community(id: $c) { street { id } } }",
            json!({ "c": w.demo.community }),
        )
        .await;
    let found = w
        .app
        .ok(
            &w.staff.token,
            "query($s: ID!) { departments(streetId: $s) { id name level } }",
            json!({ "s": tree["community"]["street"]["id"] }),
        )
        .await;
    let id_of = |name: &str| {
        found["departments"]
            .as_array()
            .expect("departments")
            .iter()
            .find(|d| d["name"] == name)
            .expect(name)["id"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    (id_of("文昌街道城管中队"), id_of("长清区住建局"))
}

fn escalate(order: &str, to: &str, department: &str) -> Value {
    json!({ "o": order, "to": to, "d": department })
}

/// A new order of the demo resident, escalated by STAFF to `department` of the street: the
/// order's id and the escalation's.
async fn placed_and_escalated(w: &World, department: &str) -> (String, String) {
    let order = w.place().await;
    let hop = w
        .app
        .ok(
            &w.staff.token,
            ESCALATE,
            escalate(&order, "STREET", department),
        )
        .await["escalateOrder"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    (order, hop)
}

fn respond(escalation: &str, action: &str, note: &str) -> Value {
    json!({ "e": escalation, "a": action, "n": note, "d": null })
}

#[tokio::test]
async fn a_street_department_solves_what_the_community_cannot_and_the_resident_rates_it() {
    let w = World::new().await;
    let officer = w.app.login("demo-department").await;
    let (street_department, _) = departments(&w).await;
    let order = w.place().await;
    // Taken by a member, who finds it needs law enforcement.
    w.publish(&order).await;
    w.app
        .ok(&w.member.token, TAKE, json!({ "id": order }))
        .await;

    let escalated = w
        .app
        .ok(
            &w.staff.token,
            ESCALATE,
            escalate(&order, "STREET", &street_department),
        )
        .await["escalateOrder"]
        .clone();
    assert_eq!(escalated["status"], "OPEN");
    assert_eq!(escalated["order"]["status"], "ESCALATED");
    assert_eq!(
        escalated["order"]["completionDueAt"], escalated["dueAt"],
        "the street's deadline is the order's now"
    );
    let hop = escalated["id"].as_str().expect("id").to_owned();
    assert!(
        inbox_kinds(&w.app, &officer.token)
            .await
            .contains(&"ORDER_ESCALATED".to_owned())
    );

    // The department sees it in its list, with the phone to call.
    let list = w
        .app
        .ok(
            &officer.token,
            "query($d: ID!) { escalations(scope: { departmentId: $d }, status: OPEN) { edges { node { id reason order { contactPhone } } } } }",
            json!({ "d": street_department }),
        )
        .await;
    let listed = &list["escalations"]["edges"][0]["node"];
    assert_eq!(listed["id"], hop.as_str());
    assert_eq!(listed["order"]["contactPhone"], "13800000001");
    // The member who had it is off it.
    assert_eq!(
        w.app
            .refused(Some(&w.member.token), ORDER, json!({ "id": order }))
            .await,
        "FORBIDDEN"
    );

    let accepted = w
        .app
        .ok(&officer.token, RESPOND, respond(&hop, "ACCEPT", "已受理"))
        .await;
    assert_eq!(accepted["respondToEscalation"]["status"], "ACCEPTED");
    assert_eq!(
        w.app
            .refused(
                Some(&officer.token),
                RESPOND,
                respond(&hop, "ACCEPT", "再次受理")
            )
            .await,
        "CONFLICT"
    );
    w.app
        .ok(
            &officer.token,
            RESPOND,
            respond(&hop, "PROGRESS", "已约谈商户"),
        )
        .await;
    let resolved = w
        .app
        .ok(
            &officer.token,
            RESPOND,
            respond(&hop, "RESOLVE", "摊位已清理"),
        )
        .await["respondToEscalation"]
        .clone();
    assert_eq!(resolved["status"], "RESOLVED");
    assert_eq!(resolved["outcome"], "摊位已清理");
    assert_eq!(resolved["order"]["status"], "COMPLETED");
    assert_eq!(resolved["order"]["completionSummary"], "摊位已清理");
    assert!(
        inbox_kinds(&w.app, &w.staff.token)
            .await
            .contains(&"ESCALATION_ANSWERED".to_owned())
    );
    assert!(
        inbox_kinds(&w.app, &w.resident.token)
            .await
            .contains(&"ORDER_COMPLETED".to_owned())
    );
    // Closed: no more answers, and the department no longer sees the order itself.
    assert_eq!(
        w.app
            .refused(
                Some(&officer.token),
                RESPOND,
                respond(&hop, "PROGRESS", "补充")
            )
            .await,
        "CONFLICT"
    );

    // Back with the community: the resident rates it, STAFF call back.
    w.app
        .ok(
            &w.resident.token,
            "mutation($id: ID!) { rateOrder(orderId: $id, input: { stars: 5 }) { status } }",
            json!({ "id": order }),
        )
        .await;
    w.app
        .ok(
            &w.staff.token,
            "mutation($id: ID!) { recordCallback(orderId: $id, reached: true, satisfied: true) { id } }",
            json!({ "id": order }),
        )
        .await;
    let seen = w
        .app
        .ok(&w.resident.token, ORDER, json!({ "id": order }))
        .await["order"]
        .clone();
    assert_eq!(seen["status"], "RATED");
    assert_eq!(seen["escalations"][0]["status"], "RESOLVED");
    assert_eq!(
        seen["escalations"][0]["department"]["name"],
        "文昌街道城管中队"
    );
    let actions: Vec<&str> = seen["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| event["action"].as_str().expect("action"))
        .collect();
    assert_eq!(
        actions,
        [
            "PLACE",
            "PUBLISH",
            "TAKE",
            "ESCALATE",
            "ESCALATION_ACCEPT",
            "ESCALATION_PROGRESS",
            "ESCALATION_RESOLVE",
            "RATE",
            "CALLBACK"
        ]
    );
    // The member who handed it up earned nothing for it.
    let points = w
        .app
        .ok(&w.member.token, "{ myPoints { balance } }", json!({}))
        .await;
    assert_eq!(points["myPoints"]["balance"], 0);
}

#[tokio::test]
async fn the_street_passes_an_order_on_to_the_district_which_returns_it_to_the_community() {
    let w = World::new().await;
    let street_staff = w.app.login("demo-street").await;
    let admin = w.app.login("demo-admin").await;
    let (street_department, district_department) = departments(&w).await;
    let (order, hop) = placed_and_escalated(&w, &street_department).await;

    // The street's staff act for its departments: it needs the district's 住建局.
    let pass_on =
        |to: &str| json!({ "e": hop, "a": "PASS_ON", "n": "涉及房屋结构，需区住建局", "d": to });
    assert_eq!(
        w.app
            .refused(
                Some(&street_staff.token),
                RESPOND,
                pass_on(&street_department)
            )
            .await,
        "BAD_USER_INPUT",
        "passed on to a district department only"
    );
    let passed = w
        .app
        .ok(&street_staff.token, RESPOND, pass_on(&district_department))
        .await["respondToEscalation"]
        .clone();
    assert_eq!(passed["level"], "DISTRICT");
    assert_eq!(passed["status"], "OPEN");
    assert_eq!(passed["department"]["id"], district_department.as_str());
    let district_hop = passed["id"].as_str().expect("id").to_owned();
    // The street's list shows both hops; the street no longer acts on it.
    let street_list = w
        .app
        .ok(
            &street_staff.token,
            "query($s: ID!) { escalations(scope: { streetId: $s }) { edges { node { level status } } } }",
            json!({ "s": street_of(&w).await }),
        )
        .await;
    let statuses: Vec<(String, String)> = street_list["escalations"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| {
            let node = &edge["node"];
            (node["level"].to_string(), node["status"].to_string())
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("\"DISTRICT\"".to_owned(), "\"OPEN\"".to_owned()),
            ("\"STREET\"".to_owned(), "\"PASSED_ON\"".to_owned())
        ]
    );
    assert_eq!(
        w.app
            .refused(
                Some(&street_staff.token),
                RESPOND,
                respond(&district_hop, "ACCEPT", "受理")
            )
            .await,
        "FORBIDDEN"
    );
    // The district cannot pass it further.
    assert_eq!(
        w.app
            .refused(
                Some(&admin.token),
                RESPOND,
                json!({ "e": district_hop, "a": "PASS_ON", "n": "再转", "d": district_department })
            )
            .await,
        "CONFLICT"
    );
    let returned = w
        .app
        .ok(
            &admin.token,
            RESPOND,
            respond(&district_hop, "RETURN", "属物业维修范围，请社区协调物业"),
        )
        .await["respondToEscalation"]
        .clone();
    assert_eq!(returned["status"], "RETURNED");
    assert_eq!(returned["order"]["status"], "PENDING_DISPATCH");
    // Back in dispatch: STAFF publish it and a member takes it.
    w.publish(&order).await;
    w.app
        .ok(&w.member.token, TAKE, json!({ "id": order }))
        .await;
}

async fn street_of(w: &World) -> String {
    w.app
        .ok(
            &w.staff.token,
            "query($c: ID!) { community(id: $c) { street { id } } }",
            json!({ "c": w.demo.community }),
        )
        .await["community"]["street"]["id"]
        .as_str()
        .expect("street")
        .to_owned()
}

#[tokio::test]
async fn escalations_are_refused_to_the_wrong_people_levels_and_states() {
    let w = World::new().await;
    let (street_department, district_department) = departments(&w).await;
    let officer = w.app.login("demo-department").await;
    let other_staff = w.app.login("staff-of-the-other-community").await;
    w.app
        .grant(
            "staff-of-the-other-community",
            Role::Staff,
            Some(&w.demo.other_community),
        )
        .await;
    let order = w.place().await;
    let to_street = escalate(&order, "STREET", &street_department);
    for who in [&w.resident, &w.member, &other_staff, &officer] {
        assert_eq!(
            w.app
                .refused(Some(&who.token), ESCALATE, to_street.clone())
                .await,
            "FORBIDDEN"
        );
    }
    for wrong_level in [
        escalate(&order, "STREET", &district_department),
        escalate(&order, "DISTRICT", &street_department),
    ] {
        assert_eq!(
            w.app
                .refused(Some(&w.staff.token), ESCALATE, wrong_level)
                .await,
            "BAD_USER_INPUT"
        );
    }
    let hop = w.app.ok(&w.staff.token, ESCALATE, to_street.clone()).await["escalateOrder"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        w.app
            .refused(Some(&w.staff.token), ESCALATE, to_street.clone())
            .await,
        "CONFLICT",
        "already escalated"
    );
    // Only the department answers; the community cannot cancel it under them.
    for who in [&w.staff, &w.resident, &other_staff] {
        assert_eq!(
            w.app
                .refused(Some(&who.token), RESPOND, respond(&hop, "RESOLVE", "好了"))
                .await,
            "FORBIDDEN"
        );
    }
    assert_eq!(
        w.app
            .refused(
                Some(&w.staff.token),
                "mutation($id: ID!) { cancelOrder(orderId: $id, reason: \"不办了\") { status } }",
                json!({ "id": order })
            )
            .await,
        "CONFLICT"
    );
    // Lists: each sees their own scope only.
    let list =
        "query($d: ID!) { escalations(scope: { departmentId: $d }) { edges { node { id } } } }";
    for who in [&w.resident, &w.staff, &other_staff] {
        assert_eq!(
            w.app
                .refused(Some(&who.token), list, json!({ "d": street_department }))
                .await,
            "FORBIDDEN"
        );
    }
    assert_eq!(
        w.app
            .refused(
                Some(&officer.token),
                list,
                json!({ "d": district_department })
            )
            .await,
        "FORBIDDEN"
    );
    let community_list = w
        .app
        .ok(
            &w.staff.token,
            "query($c: ID!) { escalations(scope: { communityId: $c }) { edges { node { id } } } }",
            json!({ "c": w.demo.community }),
        )
        .await;
    assert_eq!(
        community_list["escalations"]["edges"][0]["node"]["id"],
        hop.as_str()
    );
    // Departments are ADMIN's to create.
    let create = "mutation($s: ID!) { createDepartment(name: \"市场监管所\", seat: { streetId: $s }) { id level } }";
    let street = street_of(&w).await;
    assert_eq!(
        w.app
            .refused(Some(&w.staff.token), create, json!({ "s": street }))
            .await,
        "FORBIDDEN"
    );
    let admin = w.app.login("demo-admin").await;
    let created = w.app.ok(&admin.token, create, json!({ "s": street })).await;
    assert_eq!(created["createDepartment"]["level"], "STREET");
}

#[tokio::test]
async fn two_officers_answering_at_once_answer_once() {
    let w = World::new().await;
    let (street_department, _) = departments(&w).await;
    let first = w.app.login("demo-department").await;
    let second = w.app.login("second-officer").await;
    let admin = w.app.login("demo-admin").await;
    w.app
        .ok(
            &admin.token,
            "mutation($u: ID!, $d: ID!) { grantRole(userId: $u, role: DEPARTMENT_STAFF, departmentId: $d) { roles { role departmentId } } }",
            json!({ "u": second.user_id, "d": street_department }),
        )
        .await;
    let (order, hop) = placed_and_escalated(&w, &street_department).await;
    let resolve = respond(&hop, "RESOLVE", "已处理");
    let give_back = respond(&hop, "RETURN", "不属于本部门");
    let (a, b) = tokio::join!(
        w.app.graphql(Some(&first.token), RESPOND, resolve),
        w.app.graphql(Some(&second.token), RESPOND, give_back),
    );
    let answered = [&a, &b]
        .iter()
        .filter(|body| body["errors"].is_null())
        .count();
    assert_eq!(answered, 1, "{a}\n{b}");
    let loser = if a["errors"].is_null() { &b } else { &a };
    assert_eq!(loser["errors"][0]["extensions"]["code"], "CONFLICT");
    let seen = w
        .app
        .ok(&w.staff.token, ORDER, json!({ "id": order }))
        .await;
    let closing: Vec<&Value> = seen["order"]["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|event| {
            matches!(
                event["action"].as_str(),
                Some("ESCALATION_RESOLVE" | "ESCALATION_RETURN")
            )
        })
        .collect();
    assert_eq!(closing.len(), 1);
}

#[tokio::test]
async fn red_alerts_reach_the_street_and_escalations_count_in_the_street_numbers() {
    let w = World::new().await;
    let street_staff = w.app.login("demo-street").await;
    let (street_department, _) = departments(&w).await;
    let (order, _) = placed_and_escalated(&w, &street_department).await;
    // The department lets the street's three days pass.
    let id: uuid::Uuid = order.parse().expect("uuid");
    let row = order::Entity::find_by_id(id)
        .one(&w.app.db)
        .await
        .expect("read")
        .expect("order");
    let mut late: order::ActiveModel = row.into();
    late.completion_due_at = Set(Some(Utc::now() - chrono::Duration::hours(1)));
    late.update(&w.app.db).await.expect("update");
    hongfan::orders::alerts::sweep(&w.app.db, &w.app.dispatcher, Utc::now())
        .await
        .expect("sweep");
    assert!(
        inbox_kinds(&w.app, &street_staff.token)
            .await
            .contains(&"ORDER_ALERT".to_owned())
    );

    let street = street_of(&w).await;
    let stats = "query($s: ID!, $from: DateTime!, $to: DateTime!) { governanceStats(scope: { streetId: $s }, from: $from, to: $to) { escalationsByLevel { key orders } total { red } } }";
    let period = json!({
        "s": street,
        "from": (Utc::now() - chrono::Duration::days(1)).to_rfc3339(),
        "to": (Utc::now() + chrono::Duration::days(1)).to_rfc3339(),
    });
    assert_eq!(
        w.app
            .refused(Some(&w.staff.token), stats, period.clone())
            .await,
        "FORBIDDEN"
    );
    let numbers = w.app.ok(&street_staff.token, stats, period).await;
    assert_eq!(
        numbers["governanceStats"]["escalationsByLevel"],
        json!([{ "key": "STREET", "orders": 1 }])
    );
    assert_eq!(numbers["governanceStats"]["total"]["red"], 1);
}

/// An OPEN order escalated out of the pool leaves every cached page of it on the next read.
#[tokio::test]
async fn an_open_order_escalated_leaves_the_cached_pool() {
    let w = World::new().await;
    let (street, _) = departments(&w).await;
    let order = w.listed_in_the_pool().await;
    w.app
        .ok(
            &w.staff.token,
            ESCALATE,
            escalate(&order, "STREET", &street),
        )
        .await;
    assert_eq!(w.member_pool().await["orderPool"]["edges"], json!([]));
}

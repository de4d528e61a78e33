//! Metrics, request ids, and a bounded number of SQL statements per list request.
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::{
    helpers::{PUBLISH, World, spawn_app_with},
    helpers::{captured_logs, error_code},
};

#[tokio::test]
async fn order_lists_cost_a_constant_number_of_statements_however_long_they_are() {
    // One resident files the 30 orders the lists need: past her own placing budget.
    let w = World::on(
        spawn_app_with(|s| {
            s.orders_per_resident_per_hour = 30;
            s.open_orders_per_resident = 30;
        })
        .await,
    )
    .await;
    for _ in 0..30 {
        let order = w.place().await;
        w.app
            .ok(&w.staff.token, PUBLISH, json!({ "id": order }))
            .await;
    }
    // Categories come from the catalogue, loaded once per process; each caller's roles from
    // the shared store once read.
    let warm = "{ myOrders(first: 1) { edges { node { category { name } } } } }";
    for who in [&w.member, &w.resident, &w.staff] {
        w.app.ok(&who.token, warm, json!({})).await;
    }
    // Nodes reading only the listed columns of an order and of its requester, or more of
    // either: whatever the shape, the page is one statement.
    for node in [
        "id title status urgency responseDueAt createdAt requester { name } category { name }",
        "id title description address contactPhone channel requester { name phone } category { name }",
        "id title description requester { name } category { name }",
        "id title requester { id name skills phone } category { name }",
        "id title",
    ] {
        let edges = format!("edges {{ node {{ {node} }} }}");
        for (who, list) in [
            (
                &w.member,
                format!("{{ orderPool(first: 50) {{ {edges} }} }}"),
            ),
            (
                &w.resident,
                format!("{{ myOrders(first: 50) {{ {edges} }} }}"),
            ),
            (
                &w.staff,
                format!(
                    "{{ dispatchQueue(communityId: \"{}\", first: 50) {{ {edges} }} }}",
                    w.demo.community
                ),
            ),
        ] {
            let name = list[2..].split('(').next().unwrap_or_default().to_owned();
            let before = w.app.statements().await;
            let data = w.app.ok(&who.token, &list, json!({})).await;
            let statements = w.app.statements().await - before;
            let nodes = data[&name]["edges"].as_array().expect("edges");
            assert_eq!(nodes.len(), 30);
            assert_eq!(
                statements, 1,
                "{name} {{ {node} }}: the page with its requesters joined, in one statement"
            );
            let first = &nodes[0]["node"];
            assert_eq!(first["title"], "厨房水管漏水", "{first}");
            if node.contains("requester") {
                assert_eq!(first["requester"]["name"], "张秀兰", "{first}");
            }
            if node.contains("description") {
                assert_eq!(first["description"], "水槽下面的管子一直滴水", "{first}");
            }
            if node.contains("channel") {
                assert_eq!(first["address"], "凤凰社区3号楼2单元401", "{first}");
                assert_eq!(first["channel"], "APP", "{first}");
            }
            if node.contains("status") {
                assert_eq!(first["status"], "OPEN", "{first}");
                assert_eq!(first["urgency"], "NORMAL", "{first}");
            }
            if node.contains("phone") {
                let phone = first["requester"]["phone"].as_str().expect("phone");
                assert!(
                    phone.starts_with("138") && phone.ends_with("0001"),
                    "{first}"
                );
            }
        }
    }
}

#[tokio::test]
async fn requests_are_counted_by_operation_and_carry_a_request_id() {
    let w = World::new().await;
    let response = w
        .app
        .http
        .post(format!("{}/graphql", w.app.address))
        .bearer_auth(&w.resident.token)
        .header("x-request-id", "trace-me-123")
        .json(&json!({ "query": "query MyOrders { myOrders { edges { cursor } } }", "operationName": "MyOrders" }))
        .send()
        .await
        .expect("send");
    assert_eq!(response.headers()["x-request-id"], "trace-me-123");
    let generated = w
        .app
        .http
        .get(format!("{}/healthz", w.app.address))
        .send()
        .await
        .expect("send");
    assert!(!generated.headers()["x-request-id"].is_empty());
    let counted = w
        .app
        .metric("hongfan_graphql_requests_total{operation=\"MyOrders\",outcome=\"ok\"}")
        .await;
    assert_eq!(counted, 1);
}

/// A fault in the database answers "internal error" and nothing more, while the log keeps the
/// whole cause for whoever runs the service.
#[tokio::test]
async fn an_internal_error_is_logged_with_its_cause_and_answered_without_it() {
    captured_logs();
    let w = World::new().await;
    let order = w.place().await;
    w.app
        .db
        .execute_unprepared("ALTER TABLE order_events RENAME TO order_events_moved_away")
        .await
        .expect("rename");
    let body = w
        .app
        .graphql(
            Some(&w.resident.token),
            "query($id: ID!) { order(id: $id) { events { action } } }",
            json!({ "id": order }),
        )
        .await;
    assert_eq!(error_code(&body), "INTERNAL");
    assert_eq!(body["errors"][0]["message"], "internal error");
    assert!(!body.to_string().contains("order_events"), "{body}");
    let logs = captured_logs();
    let logged = logs
        .lines()
        .find(|line| line.contains("internal error") && line.contains("order_events"));
    assert!(logged.is_some(), "the cause is not in the logs:\n{logs}");
}

/// Each order's timeline comes from one batched statement for the whole page, not one per order.
#[tokio::test]
async fn timelines_in_a_list_cost_the_same_however_many_orders_it_shows() {
    let w = World::new().await;
    let mine = "{ myOrders(first: 50) { edges { node { id events { action actor { name } } } } } }";
    let mut statements = Vec::new();
    for _ in 0..2 {
        for _ in 0..5 {
            w.place().await;
        }
        w.app.ok(&w.resident.token, mine, json!({})).await;
        let before = w.app.statements().await;
        let data = w.app.ok(&w.resident.token, mine, json!({})).await;
        statements.push(w.app.statements().await - before);
        let events = data["myOrders"]["edges"][0]["node"]["events"].clone();
        assert_eq!(events[0]["action"], "PLACE", "{data}");
    }
    assert_eq!(
        statements[0], statements[1],
        "5 orders vs 10: {statements:?}"
    );
}

/// An app paging through its points ledger runs the page's query only; the totals are summed
/// when asked for.
#[tokio::test]
async fn paging_through_the_points_ledger_sums_nothing() {
    let w = World::new().await;
    crate::points::serve_order(&w, 5).await;
    let ledger = "{ myPoints { ledger(first: 20) { edges { node { kind amount } } } } }";
    w.app.ok(&w.member.token, ledger, json!({})).await;
    let before = w.app.statements().await;
    let data = w.app.ok(&w.member.token, ledger, json!({})).await;
    let statements = w.app.statements().await - before;
    assert_eq!(
        data["myPoints"]["ledger"]["edges"][0]["node"]["kind"],
        "EARN"
    );
    assert_eq!(statements, 1, "the ledger page and nothing else");
    let both =
        "{ myPoints { balance lifetimeEarned ledger(first: 20) { edges { node { amount } } } } }";
    let data = w.app.ok(&w.member.token, both, json!({})).await;
    let amount = &data["myPoints"]["ledger"]["edges"][0]["node"]["amount"];
    assert_eq!(&data["myPoints"]["balance"], amount);
    assert_eq!(&data["myPoints"]["lifetimeEarned"], amount);
}

#[tokio::test]
async fn placing_an_order_costs_a_fixed_short_list_of_statements() {
    let w = World::new().await;
    w.place().await;
    let before = w.app.statements().await;
    w.place().await;
    let statements = w.app.statements().await - before;
    // On PostgreSQL ONE statement outside an explicit transaction: the check that the requester,
    // their community and its routing are still what the first order read, the budget row's
    // compare-and-set (the first order counted the orders; this one does not), the order, its
    // PLACE event and its inbox rows for the community's STAFF. SQLite reads the requester with
    // their community and whether a rule routes the category there, and takes its transaction
    // (BEGIN and COMMIT are not counted): the budget row, the order, its event, the inbox rows.
    // No photo named: no photo looked up; no routing rule: none read. Then the answer's
    // `community { name }`.
    w.app.assert_statements("placeOrder", statements, (2, 6));
}

#[tokio::test]
async fn grabbing_an_order_from_the_pool_costs_a_read_and_one_statement_on_postgres() {
    let w = World::new().await;
    let order = w.place().await;
    w.publish(&order).await;
    let take = "mutation($id: ID!) { takeOrder(orderId: $id) { status } }";
    // The member's roles are read once and then cached: not this step's.
    w.app.ok(&w.member.token, "{ me { id } }", json!({})).await;
    let before = w.app.statements().await;
    let data = w
        .app
        .ok(&w.member.token, take, json!({ "id": order }))
        .await;
    let statements = w.app.statements().await - before;
    assert_eq!(data["takeOrder"]["status"], "ACCEPTED");
    // PostgreSQL: the order read without a lock, then the step, its event and the requester's
    // inbox row as one statement guarded by the version read. SQLite takes the transaction
    // (BEGIN and COMMIT are not counted): the order under its lock, its event, the step, the
    // inbox rows.
    w.app.assert_statements("takeOrder", statements, (2, 4));
}

#[tokio::test]
async fn dispatching_to_a_member_costs_a_read_and_one_statement_on_postgres() {
    let w = World::new().await;
    let order = w.place().await;
    let dispatch =
        "mutation($id: ID!, $to: ID!) { dispatchOrder(orderId: $id, assigneeId: $to) { status } }";
    // Someone who is not a Party member is refused by the statement's guard, then worded by the
    // transaction; the order stays as it was.
    let neighbour = w
        .app
        .resident("dispatch-neighbour", &w.demo.community)
        .await;
    let to = |who: &str| json!({ "id": order, "to": who });
    assert_eq!(
        w.app
            .refused(Some(&w.staff.token), dispatch, to(&neighbour.user_id))
            .await,
        "BAD_USER_INPUT"
    );
    let before = w.app.statements().await;
    let data = w
        .app
        .ok(&w.staff.token, dispatch, to(&w.member.user_id))
        .await;
    let statements = w.app.statements().await - before;
    assert_eq!(data["dispatchOrder"]["status"], "DISPATCHED");
    // PostgreSQL: the order read without a lock, then the step (guarded by the version read
    // and the assignee's membership), its event and the member's inbox row as one statement.
    // SQLite: the order under its lock, the membership, the event, the step, the inbox rows.
    w.app.assert_statements("dispatchOrder", statements, (2, 5));
}

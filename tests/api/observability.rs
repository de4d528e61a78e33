//! Metrics, request ids, and a bounded number of SQL statements per list request.
use serde_json::json;

use crate::orders::{PUBLISH, World};

#[tokio::test]
async fn the_order_pool_costs_a_constant_number_of_statements_however_long_it_is() {
    let w = World::new().await;
    for _ in 0..30 {
        let order = w.place().await;
        w.app
            .ok(&w.staff.token, PUBLISH, json!({ "id": order }))
            .await;
    }
    let pool = "{ orderPool(first: 50) { edges { node { id title requester { name } category { name } community { name } } } } }";
    let before = w.app.metric("hongfan_db_statements_total").await;
    let data = w.app.ok(&w.member.token, pool, json!({})).await;
    let statements = w.app.metric("hongfan_db_statements_total").await - before;
    assert_eq!(
        data["orderPool"]["edges"].as_array().map(Vec::len),
        Some(30)
    );
    // actor (user + roles), the page, then one batched load each for users, categories, communities
    assert!(
        statements <= 8,
        "{statements} statements for one page of 30 orders"
    );
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

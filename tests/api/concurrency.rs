//! Races that must have exactly one winner, on SQLite and on PostgreSQL alike.
use entity::{enums::Role, order_event};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::{
    helpers::error_code,
    helpers::{TAKE, World},
};

#[tokio::test]
async fn twenty_members_grab_one_open_order_and_exactly_one_wins() {
    let w = World::new().await;
    let order = w.place().await;
    w.publish(&order).await;
    let mut members = Vec::new();
    for i in 0..20 {
        let openid = format!("racer-{i}");
        w.app
            .grant(&openid, Role::PartyMember, Some(&w.demo.community))
            .await;
        members.push(w.app.login(&openid).await);
    }
    let attempts = members
        .iter()
        .map(|m| w.app.graphql(Some(&m.token), TAKE, json!({ "id": order })));
    let results = futures::future::join_all(attempts).await;

    let winners: Vec<usize> = (0..results.len())
        .filter(|&i| results[i].get("errors").is_none())
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for (i, body) in results.iter().enumerate() {
        if i != winners[0] {
            assert_eq!(error_code(body), "CONFLICT", "{body}");
        }
    }
    let winner = &members[winners[0]];
    assert_eq!(
        results[winners[0]]["data"]["takeOrder"]["taker"]["id"],
        winner.user_id.as_str()
    );
    let takes = order_event::Entity::find()
        .filter(order_event::Column::OrderId.eq(order.parse::<uuid::Uuid>().expect("uuid")))
        .filter(order_event::Column::Action.eq("TAKE"))
        .count(&w.app.db)
        .await
        .expect("count");
    assert_eq!(takes, 1);
}

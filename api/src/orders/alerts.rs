//! Alert levels (亮灯): how late each open order is running. A job recomputes them every
//! minute, run by one instance at a time; each change is also a compare-and-set on the order's
//! level, so even when several instances sweep at once a change is made, and told, once.
use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entity::{
    enums::{AlertLevel, OrderStatus},
    order,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::{stats, workflow::AWAITING_ACCEPTANCE};
use crate::{
    error::AppResult,
    infra::db::begin_write,
    notify::{Dispatcher, DomainEvent, Events},
    organisation,
};

/// No step for this long after acceptance: YELLOW.
const QUIET_YELLOW: Duration = Duration::hours(24);
/// No step for this long after acceptance: RED.
const QUIET_RED: Duration = Duration::days(3);
/// A requester who rated this many orders ≤ 2 stars …
const UNHAPPY_RATINGS: u64 = 2;
/// … within this window has every open order shown RED.
const UNHAPPY_WINDOW: Duration = Duration::days(90);
/// Orders someone is working on.
const IN_HAND: [OrderStatus; 2] = [OrderStatus::Accepted, OrderStatus::Escalated];
/// Orders read per round trip while sweeping. A batch of whole rows is what a sweep holds,
/// every minute on one instance: 2,000 rows lifted an idle server's RSS by 8–10 MB at each
/// sweep, 500 by 2 MB (bench/RESULTS.md).
pub const SWEEP_BATCH: u64 = 500;

/// The level an order should show now. `unhappy_requester`: its requester rated two orders
/// ≤ 2 stars within 90 days.
pub fn level(order: &order::Model, now: DateTime<Utc>, unhappy_requester: bool) -> AlertLevel {
    // With a department, the escalation's deadline is the completion deadline.
    let accepted = IN_HAND.contains(&order.status);
    if !(accepted || AWAITING_ACCEPTANCE.contains(&order.status)) {
        return AlertLevel::Green;
    }
    let past_completion = order.completion_due_at.is_some_and(|due| now > due);
    // Every step (progress reports too) moves `updated_at`.
    let quiet = now - order.updated_at;
    if unhappy_requester || past_completion || (accepted && quiet > QUIET_RED) {
        AlertLevel::Red
    } else if (!accepted && now > order.response_due_at) || (accepted && quiet > QUIET_YELLOW) {
        AlertLevel::Yellow
    } else {
        AlertLevel::Green
    }
}

/// Recomputes the levels of open orders (and of those that show a colour but have closed),
/// changing each that differs in its own transaction with the news for its STAFF. The news of
/// each batch is settled as soon as the batch is done, so a sweep that changes tens of
/// thousands of orders holds one batch's news at a time, and an error keeps what committed
/// before it told. How many orders changed.
pub async fn sweep(
    db: &DatabaseConnection,
    dispatcher: &Dispatcher,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let open: Vec<_> = [AWAITING_ACCEPTANCE.as_slice(), IN_HAND.as_slice()].concat();
    let streets = organisation::street_of_each_community(db).await?;
    let mut changed = 0;
    let mut after: Option<Uuid> = None;
    // Every candidate is looked at once per sweep, a batch at a time in id order.
    loop {
        let mut select = order::Entity::find()
            .filter(
                Condition::any()
                    .add(order::Column::Status.is_in(open.clone()))
                    .add(order::Column::AlertLevel.ne(AlertLevel::Green)),
            )
            .order_by_asc(order::Column::Id)
            .limit(SWEEP_BATCH);
        if let Some(after) = after {
            select = select.filter(order::Column::Id.gt(after));
        }
        let candidates = select.all(db).await?;
        let full = candidates.len() as u64 == SWEEP_BATCH;
        after = candidates.last().map(|order| order.id);
        let unhappy = unhappy_requesters(db, &candidates, now).await?;
        let mut news = Events::default();
        let mut in_batch = 0;
        for order in candidates {
            let to = level(&order, now, unhappy.contains_key(&order.requester_id));
            if to == order.alert_level {
                continue;
            }
            let street_id = streets.get(&order.community_id).copied();
            match change(db, order, to, street_id, now, &mut news).await {
                Ok(made) => in_batch += usize::from(made),
                Err(error) => {
                    dispatcher.settle(news.committed(())).await;
                    return Err(error);
                }
            }
        }
        changed += dispatcher.settle(news.committed(in_batch)).await;
        if !full {
            return Ok(changed);
        }
    }
}

/// Sets `order`'s level to `to` unless another instance changed it first, filing the news
/// for its STAFF in the same transaction; whether this call made the change.
async fn change(
    db: &DatabaseConnection,
    order: order::Model,
    to: AlertLevel,
    street_id: Option<Uuid>,
    now: DateTime<Utc>,
    all: &mut Events,
) -> AppResult<bool> {
    let txn = begin_write(db).await?;
    let updated = order::Entity::update_many()
        .set(order::ActiveModel {
            alert_level: Set(to),
            alert_changed_at: Set(Some(now)),
            ..Default::default()
        })
        .filter(order::Column::Id.eq(order.id))
        .filter(order::Column::AlertLevel.eq(order.alert_level))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Ok(false);
    }
    let changed = order::Model {
        alert_level: to,
        alert_changed_at: Some(now),
        ..order.clone()
    };
    stats::restate_order(&txn, &order, &changed).await?;
    let mut events = Events::default();
    events.push(DomainEvent::AlertChanged {
        order: Box::new(changed),
        street_id,
    });
    all.absorb(events.commit(txn, ()).await?);
    Ok(true)
}

/// Requesters among these orders' who rated `UNHAPPY_RATINGS` orders ≤ 2 stars lately.
async fn unhappy_requesters(
    db: &DatabaseConnection,
    orders: &[order::Model],
    now: DateTime<Utc>,
) -> AppResult<HashMap<Uuid, u64>> {
    let requesters: Vec<Uuid> = orders.iter().map(|order| order.requester_id).collect();
    if requesters.is_empty() {
        return Ok(HashMap::new());
    }
    let counts: Vec<(Uuid, i64)> = order::Entity::find()
        .select_only()
        .column(order::Column::RequesterId)
        .column_as(order::Column::Id.count(), "ratings")
        .filter(order::Column::RequesterId.is_in(requesters))
        .filter(order::Column::RatingStars.lte(2))
        .filter(order::Column::RatedAt.gt(now - UNHAPPY_WINDOW))
        .group_by(order::Column::RequesterId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(counts
        .into_iter()
        .filter(|(_, count)| *count as u64 >= UNHAPPY_RATINGS)
        .map(|(id, count)| (id, count as u64))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(status: OrderStatus, placed_hours_ago: i64, last_step_hours_ago: i64) -> order::Model {
        let now = Utc::now();
        let placed = now - Duration::hours(placed_hours_ago);
        order::Model {
            status,
            response_due_at: placed + Duration::hours(2),
            created_at: placed,
            updated_at: now - Duration::hours(last_step_hours_ago),
            completion_due_at: Some(placed + Duration::days(5)),
            ..crate::orders::sample_order()
        }
    }

    #[test]
    fn waiting_past_the_response_deadline_is_yellow() {
        let now = Utc::now();
        assert_eq!(
            level(&order(OrderStatus::Open, 1, 1), now, false),
            AlertLevel::Green
        );
        assert_eq!(
            level(&order(OrderStatus::Open, 3, 3), now, false),
            AlertLevel::Yellow
        );
    }

    #[test]
    fn accepted_orders_turn_yellow_then_red_without_progress() {
        let now = Utc::now();
        let accepted = |quiet| order(OrderStatus::Accepted, 80, quiet);
        assert_eq!(level(&accepted(2), now, false), AlertLevel::Green);
        assert_eq!(level(&accepted(25), now, false), AlertLevel::Yellow);
        assert_eq!(level(&accepted(73), now, false), AlertLevel::Red);
    }

    #[test]
    fn past_completion_or_an_unhappy_requester_is_red_and_closed_orders_are_green() {
        let now = Utc::now();
        assert_eq!(
            level(&order(OrderStatus::Accepted, 24 * 6, 1), now, false),
            AlertLevel::Red
        );
        assert_eq!(
            level(&order(OrderStatus::Open, 1, 1), now, true),
            AlertLevel::Red
        );
        assert_eq!(
            level(&order(OrderStatus::Escalated, 80, 25), now, false),
            AlertLevel::Yellow
        );
        for closed in [
            OrderStatus::Completed,
            OrderStatus::Rated,
            OrderStatus::Cancelled,
        ] {
            assert_eq!(
                level(&order(closed, 24 * 6, 100), now, true),
                AlertLevel::Green
            );
        }
    }
}

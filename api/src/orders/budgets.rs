//! How many orders one requester may place an hour and have open at once. Each requester's
//! use of a budget is a row (`placing_budgets`) that placing checks and bumps in one
//! compare-and-set; its orders are counted only when the row cannot say yes (missing, its hour
//! over, a cap reached). The row may count more than the orders hold — it is not lowered when
//! an order closes — never less, so every refusal comes from counting the orders themselves.
use chrono::{DateTime, Utc};
use entity::{
    enums::{OrderChannel, PlacingLane},
    order, placing_budget,
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, UpdateMany,
    sea_query::{Expr, ExprTrait, OnConflict, UpdateStatement},
};
use uuid::Uuid;

use super::workflow;
use crate::{
    error::{AppError, AppResult},
    infra::db::count_where,
};

/// How many orders one resident may place (`ORDERS_PER_RESIDENT_PER_HOUR`) and have open
/// (`OPEN_ORDERS_PER_RESIDENT`). Orders STAFF or a hotline place for a resident's account
/// count apart, so neither budget can use up the other; walk-ins without an account are
/// bounded by their placer's request rate. A grid worker's patrol findings have an hourly
/// budget of their own (`PATROL_FINDINGS_PER_HOUR`): the queue, not the worker, closes them.
#[derive(Debug, Clone, Copy)]
pub struct PlacingLimits {
    pub per_hour: u64,
    pub open: u64,
    pub findings_per_hour: u64,
}

/// The budget an order counts against; `None` for a walk-in its placer holds for a resident
/// without an account.
pub fn lane_of(
    channel: OrderChannel,
    requester_id: Uuid,
    placed_by_id: Option<Uuid>,
) -> Option<PlacingLane> {
    match placed_by_id {
        _ if channel == OrderChannel::Patrol => Some(PlacingLane::Patrol),
        None => Some(PlacingLane::Own),
        Some(placer) if placer == requester_id => None,
        Some(_) => Some(PlacingLane::OnBehalf),
    }
}

/// The orders of a requester that count against `lane`, as `lane_of` sorts them.
fn orders_of(requester_id: Uuid, lane: PlacingLane) -> sea_orm::Select<order::Entity> {
    let orders = order::Entity::find().filter(order::Column::RequesterId.eq(requester_id));
    let not_patrol = order::Column::Channel.ne(OrderChannel::Patrol);
    match lane {
        PlacingLane::Patrol => orders.filter(order::Column::Channel.eq(OrderChannel::Patrol)),
        PlacingLane::Own => orders
            .filter(order::Column::PlacedById.is_null())
            .filter(not_patrol),
        PlacingLane::OnBehalf => orders
            .filter(order::Column::PlacedById.ne(requester_id))
            .filter(not_patrol),
    }
}

/// An update of one requester's row of one budget.
fn budget_row(requester_id: Uuid, lane: PlacingLane) -> UpdateMany<placing_budget::Entity> {
    placing_budget::Entity::update_many()
        .filter(placing_budget::Column::RequesterId.eq(requester_id))
        .filter(placing_budget::Column::Lane.eq(lane))
}

impl PlacingLimits {
    fn caps(self, lane: PlacingLane) -> (i64, i64, &'static str) {
        let cap = |limit: u64| i64::try_from(limit).unwrap_or(i64::MAX);
        match lane {
            PlacingLane::Patrol => (cap(self.findings_per_hour), i64::MAX, "patrol findings"),
            _ => (cap(self.per_hour), cap(self.open), "orders"),
        }
    }

    /// The compare-and-set that takes one order of `lane` from the requester's row when the
    /// row can say yes on its own; it changes no row otherwise, and `admit` decides.
    pub(super) fn take_one(
        self,
        requester_id: Uuid,
        lane: PlacingLane,
        now: DateTime<Utc>,
    ) -> UpdateStatement {
        use placing_budget::Column;
        let (per_hour, open, _) = self.caps(lane);
        budget_row(requester_id, lane)
            .col_expr(
                Column::PlacedInWindow,
                Expr::col(Column::PlacedInWindow).add(1),
            )
            .col_expr(Column::OpenOrders, Expr::col(Column::OpenOrders).add(1))
            .filter(Column::WindowStartedAt.gt(now - chrono::Duration::hours(1)))
            .filter(Column::PlacedInWindow.lt(per_hour))
            .filter(Column::OpenOrders.lt(open))
            .into_query()
    }

    /// Takes one order of `lane` from the requester's budgets, or refuses it. Run in the
    /// transaction that files the order: the budget's row stays locked until it commits, so
    /// concurrent requests cannot each see room for one more.
    pub(super) async fn admit(
        self,
        txn: &DatabaseTransaction,
        requester_id: Uuid,
        lane: PlacingLane,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        use placing_budget::Column;
        let (per_hour, open, what) = self.caps(lane);
        let hour_ago = now - chrono::Duration::hours(1);
        let taken = txn.execute(&self.take_one(requester_id, lane, now)).await?;
        if taken.rows_affected() == 1 {
            return Ok(());
        }
        // Hold the row (made here on first use) before counting, so that the count, a
        // statement of its own, sees every order placed under it.
        placing_budget::Entity::insert(placing_budget::ActiveModel {
            requester_id: Set(requester_id),
            lane: Set(lane),
            open_orders: Set(0),
            window_started_at: Set(now),
            placed_in_window: Set(0),
        })
        .on_conflict(
            OnConflict::columns([Column::RequesterId, Column::Lane])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
        placing_budget::Entity::find_by_id((requester_id, lane))
            .lock_exclusive()
            .one(txn)
            .await?;
        let in_last_hour = order::Column::CreatedAt.gt(hour_ago);
        let (in_hour, open_now): (Option<i64>, Option<i64>) = orders_of(requester_id, lane)
            .select_only()
            .column_as(count_where(in_last_hour.clone()), "in_hour")
            .column_as(
                count_where(order::Column::Status.is_in(workflow::OPEN_WORK)),
                "open",
            )
            .into_tuple()
            .one(txn)
            .await?
            .unwrap_or_default();
        let (in_hour, open_now) = (in_hour.unwrap_or(0), open_now.unwrap_or(0));
        if in_hour >= per_hour {
            let oldest = orders_of(requester_id, lane)
                .filter(in_last_hour)
                .order_by_asc(order::Column::CreatedAt)
                .one(txn)
                .await?
                .map_or(now, |order| order.created_at);
            let wait = (oldest - hour_ago).to_std().unwrap_or_default();
            return Err(AppError::RateLimited {
                message: format!(
                    "at most {per_hour} {what} an hour; try again in {} minutes",
                    wait.as_secs().div_ceil(60)
                ),
                retry_after: Some(wait.max(std::time::Duration::from_secs(1))),
            });
        }
        if open_now >= open {
            return Err(AppError::RateLimited {
                message: format!(
                    "{open_now} orders are still open: at most {open} at once; place more once \
                     one is done or cancelled"
                ),
                retry_after: None,
            });
        }
        // From now on the row counts the last hour's orders as if placed now: more than there
        // are once the oldest ages, which only sends a later order back to this count.
        budget_row(requester_id, lane)
            .col_expr(Column::PlacedInWindow, Expr::value(in_hour + 1))
            .col_expr(Column::OpenOrders, Expr::value(open_now + 1))
            .col_expr(Column::WindowStartedAt, Expr::value(now))
            .exec(txn)
            .await?;
        Ok(())
    }
}

/// An order that is open again (reopened) counts against its requester's open budget again,
/// so that the row never counts fewer open orders than there are. Run in the step's
/// transaction; a requester without a row is counted when they next place one.
pub(super) async fn reopened(txn: &impl ConnectionTrait, order: &order::Model) -> AppResult<()> {
    use placing_budget::Column;
    let Some(lane) = lane_of(order.channel, order.requester_id, order.placed_by_id) else {
        return Ok(());
    };
    budget_row(order.requester_id, lane)
        .col_expr(Column::OpenOrders, Expr::col(Column::OpenOrders).add(1))
        .exec(txn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_order_counts_against_one_budget_and_walk_ins_against_none() {
        let (resident, staff) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(
            lane_of(OrderChannel::App, resident, None),
            Some(PlacingLane::Own)
        );
        for channel in [OrderChannel::Staff, OrderChannel::Hotline] {
            assert_eq!(
                lane_of(channel, resident, Some(staff)),
                Some(PlacingLane::OnBehalf)
            );
            // A walk-in without an account: its placer holds it, within their request rate.
            assert_eq!(lane_of(channel, staff, Some(staff)), None);
        }
        // A grid worker's finding is theirs and placed by them, yet has a budget of its own.
        assert_eq!(
            lane_of(OrderChannel::Patrol, staff, Some(staff)),
            Some(PlacingLane::Patrol)
        );
    }
}

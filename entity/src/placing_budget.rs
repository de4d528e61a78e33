use sea_orm::entity::prelude::*;

use crate::enums::PlacingLane;

/// What one requester has used of a placing budget, kept beside the orders so that placing
/// checks one row instead of counting them. It may count more than the orders hold (it is
/// never lowered when an order closes); every refusal is decided by counting the orders.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "placing_budgets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub requester_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub lane: PlacingLane,
    /// Orders of the lane open at the last count, plus those placed or reopened since.
    pub open_orders: i64,
    /// The oldest order of the lane placed in the hour before the last count.
    pub window_started_at: DateTimeUtc,
    /// Orders of the lane placed since `window_started_at`.
    pub placed_in_window: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

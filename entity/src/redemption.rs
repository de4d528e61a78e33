use sea_orm::entity::prelude::*;

use crate::enums::RedemptionStatus;

/// Points spent on an offer, waiting to be verified at the counter (核销) exactly once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "redemptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub offer_id: Uuid,
    pub merchant_id: Uuid,
    pub user_id: Uuid,
    pub points_cost: i64,
    /// Ten digits, read aloud or typed at the counter.
    #[sea_orm(unique)]
    pub code: String,
    pub status: RedemptionStatus,
    pub expires_at: DateTimeUtc,
    pub verified_at: Option<DateTimeUtc>,
    pub verified_by: Option<Uuid>,
    /// When it was cancelled or expired.
    pub closed_at: Option<DateTimeUtc>,
    #[sea_orm(unique)]
    pub idempotency_key: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

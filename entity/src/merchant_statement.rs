use sea_orm::entity::prelude::*;

/// A merchant's monthly statement marked paid by STAFF: the month's verified redemptions were
/// settled at the community's rate. No row: not paid yet.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "merchant_statements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub merchant_id: Uuid,
    /// `YYYY-MM`, China time.
    #[sea_orm(primary_key, auto_increment = false)]
    pub month: String,
    pub points: i64,
    pub yuan_cents: i64,
    pub paid_by: Uuid,
    pub paid_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

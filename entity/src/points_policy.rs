use sea_orm::entity::prelude::*;

use crate::enums::PointsExpiry;

/// A community's rules for points beyond earning and spending: how many a resident may give
/// to family in a month, and when points expire.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "points_policies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub community_id: Uuid,
    pub gift_monthly_cap: i64,
    pub expiry: PointsExpiry,
    pub updated_by: Uuid,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

use crate::enums::DeedStatus;

/// A good deed a resident reports: checked by their grid worker, confirmed by STAFF with
/// points from the community's table of deed kinds.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "good_deeds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub community_id: Uuid,
    /// The resident's grid when they reported it, for its worker to check.
    pub grid_id: Option<Uuid>,
    pub resident_id: Uuid,
    pub kind_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub happened_at: DateTimeUtc,
    pub status: DeedStatus,
    pub checked_by: Option<Uuid>,
    pub checked_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub check_note: Option<String>,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<DateTimeUtc>,
    /// Why it was rejected (the resident sees it).
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    /// Credited on confirmation.
    pub points: Option<i64>,
    pub version: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

use crate::enums::{Claimer, WishStatus};

/// A resident's small wish (微心愿): posted, put on the wall by STAFF, claimed by one Party
/// member or merchant, delivered, and confirmed by the resident.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "wishes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub community_id: Uuid,
    pub resident_id: Uuid,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    /// Unclaimed by then, it closes itself.
    pub needed_by: DateTimeUtc,
    pub status: WishStatus,
    pub reviewed_by: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub review_note: Option<String>,
    pub claimer_id: Option<Uuid>,
    pub claimed_as: Option<Claimer>,
    /// The unit a representative claimed it for (claimed_as UNIT).
    pub unit_id: Option<Uuid>,
    pub claimed_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub delivery_note: Option<String>,
    /// The time a Party member says it took, for their service record.
    pub minutes_spent: Option<i32>,
    pub delivered_at: Option<DateTimeUtc>,
    pub fulfilled_at: Option<DateTimeUtc>,
    /// Bumped by every step: two claims cannot both succeed.
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

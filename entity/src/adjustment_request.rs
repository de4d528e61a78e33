use sea_orm::entity::prelude::*;

use crate::enums::ApplicationStatus;

/// A manual points adjustment past the requesting STAFF member's daily cap, waiting for a
/// second member's decision; approved, it posts an ADJUST entry.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "adjustment_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub amount: i64,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    pub status: ApplicationStatus,
    pub requested_by: Uuid,
    pub decided_by: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub decision_reason: Option<String>,
    /// The ADJUST entry an approval posted.
    pub entry_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

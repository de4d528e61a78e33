use sea_orm::entity::prelude::*;

/// A community's rule that orders of one category go straight to its Party members with a
/// skill, in turn (round-robin), instead of waiting for STAFF to dispatch them.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "auto_routes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub community_id: Uuid,
    pub category_id: Uuid,
    pub skill: String,
    /// The STAFF member who set it: dispatches it makes are theirs in the timeline.
    pub enabled_by: Uuid,
    /// Whom it sent the last order to; the next goes to the member after them.
    pub last_assignee_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

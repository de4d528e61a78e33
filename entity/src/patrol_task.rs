use sea_orm::entity::prelude::*;

use crate::enums::PatrolStatus;

/// One patrol of a grid's points by its worker, within a time window.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "patrol_tasks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub community_id: Uuid,
    pub grid_id: Uuid,
    pub worker_id: Uuid,
    /// The points to sign off, as a JSON list of ids.
    pub point_ids: Json,
    pub window_starts_at: DateTimeUtc,
    pub window_ends_at: DateTimeUtc,
    pub status: PatrolStatus,
    /// Who handed it over to `worker_id`, and why.
    pub handed_over_from: Option<Uuid>,
    pub handover_reason: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

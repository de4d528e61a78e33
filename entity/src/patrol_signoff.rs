use sea_orm::entity::prelude::*;

use crate::enums::PatrolTiming;

/// A point signed off on a patrol: where the worker was, when, and what they checked.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "patrol_signoffs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub task_id: Uuid,
    pub point_id: Uuid,
    pub worker_id: Uuid,
    pub latitude: f64,
    pub longitude: f64,
    pub distance_meters: i32,
    /// Why it was signed off outside the point's radius: such sign-offs are flagged.
    pub off_site_reason: Option<String>,
    pub timing: PatrolTiming,
    /// The checklist's answers, in its order, as a JSON list of booleans.
    pub answers: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

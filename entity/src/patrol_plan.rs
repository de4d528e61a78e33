use sea_orm::entity::prelude::*;

/// A grid's points patrolled every `every_days` days, in a window starting
/// `window_start_minute` minutes after midnight (China time) and lasting `window_minutes`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "patrol_plans")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub community_id: Uuid,
    pub grid_id: Uuid,
    /// The points, as a JSON list of ids.
    pub point_ids: Json,
    pub every_days: i32,
    pub window_start_minute: i32,
    pub window_minutes: i32,
    /// The China-time day whose patrol is filed next.
    pub next_day: Date,
    pub active: bool,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

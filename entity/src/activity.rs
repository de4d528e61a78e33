use sea_orm::entity::prelude::*;

/// A volunteer activity (志愿活动) residents and members sign up for.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "activities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub community_id: Uuid,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub place: String,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub capacity: i32,
    /// Active sign-ups; raised only while below `capacity`, in the same statement.
    pub signed_up: i32,
    pub points_per_hour_override: Option<i32>,
    /// Where check-in happens; with `check_in_radius_meters`, a volunteer checking themselves
    /// in must be within that many meters of it.
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub check_in_radius_meters: Option<i32>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

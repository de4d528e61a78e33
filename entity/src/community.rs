use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "communities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub street_id: Uuid,
    pub name: String,
    pub created_at: DateTimeUtc,
    /// Points earned per hour of confirmed volunteer time (以时长认定积分).
    pub points_per_hour: i32,
    pub address: String,
    /// The community's centre, for maps and "near me".
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// When set, how long any order here may wait for acceptance, instead of its category's.
    pub response_minutes: Option<i32>,
    /// Archived communities take no new residents or orders; their history stays.
    pub archived_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

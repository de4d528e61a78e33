use sea_orm::entity::prelude::*;

use crate::enums::{RecordStatus, ServiceSource};

/// Volunteer time credited to someone, from a rated order or an attended activity.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub community_id: Uuid,
    pub source: ServiceSource,
    pub order_id: Option<Uuid>,
    pub activity_id: Option<Uuid>,
    pub wish_id: Option<Uuid>,
    pub minutes: i32,
    pub status: RecordStatus,
    /// Points per hour in force when it was confirmed.
    pub rate: Option<i32>,
    /// Points it earned when confirmed.
    pub points: Option<i64>,
    pub reviewed_by: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub review_reason: Option<String>,
    pub confirmed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

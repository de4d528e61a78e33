use sea_orm::entity::prelude::*;

use crate::enums::RectificationStatus;

/// A black-listed company's rectification task (整改) from a round: the company reports what
/// it did, the street accepts it or sends it back.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "property_rectifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub round_id: Uuid,
    pub company_id: Uuid,
    pub status: RectificationStatus,
    pub due_at: DateTimeUtc,
    #[sea_orm(column_type = "Text", nullable)]
    pub report: Option<String>,
    pub reported_by: Option<Uuid>,
    pub reported_at: Option<DateTimeUtc>,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub review_note: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

use crate::enums::UnitStatus;

/// A unit stationed in a community (驻区单位) that reports to it (双报到), with its Party
/// organisation and what it can offer.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "units")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub community_id: Uuid,
    pub name: String,
    pub party_organisation: String,
    pub contact_name: String,
    pub contact_phone: String,
    /// What the unit can offer the community (venues, volunteers, skills), as it wrote it.
    #[sea_orm(column_type = "Text")]
    pub resources: String,
    pub status: UnitStatus,
    pub review_note: Option<String>,
    /// Who registered it and acts for it (claims wishes in its name).
    pub representative_id: Uuid,
    pub reviewed_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

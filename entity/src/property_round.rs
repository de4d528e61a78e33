use sea_orm::entity::prelude::*;

use crate::enums::RoundStatus;

/// A street's rating of its property companies for one quarter (`2026-Q4`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "property_rounds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub street_id: Uuid,
    pub quarter: String,
    pub status: RoundStatus,
    pub closes_at: DateTimeUtc,
    /// A score at or above this puts a company on the red list…
    pub red_bar: i32,
    /// …and below this on the black list.
    pub black_bar: i32,
    /// SHA-256 over the published (receipt, company, scores) list, set at the close.
    pub digest: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
    /// The list is published at the close; companies may object until then.
    pub objections_close_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

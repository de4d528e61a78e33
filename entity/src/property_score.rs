use sea_orm::entity::prelude::*;

/// What one household scored, filed under a slot only the servers can find again: it names no
/// one. Published by its receipt after the close.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "property_scores")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub round_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub slot: String,
    pub receipt: String,
    pub company_id: Uuid,
    /// 1–5 for cleanliness, security, repairs, attitude and fee transparency, as a JSON list.
    pub scores: Json,
    pub rated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

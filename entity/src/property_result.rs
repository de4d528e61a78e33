use sea_orm::entity::prelude::*;

/// A company's sealed result in a round: written once at the close, never changed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "property_results")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub round_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub company_id: Uuid,
    pub households: i32,
    /// The five dimensions' averages, in hundredths, as a JSON list (empty without ratings).
    pub averages: Json,
    /// What the orders tell (`points::property::Facts`), as JSON.
    pub facts: Json,
    /// The combined score out of 100, in tenths.
    pub score_tenths: i32,
    /// RED, BLACK or NONE.
    pub listing: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

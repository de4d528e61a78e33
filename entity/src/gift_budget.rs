use sea_orm::entity::prelude::*;

/// How many points one resident gave away in a month, kept beside the ledger so that a gift
/// checks one row instead of summing the month's entries. Every gift since the row was made
/// went through it; a missing row is made from the entries.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "gift_budgets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub giver_id: Uuid,
    /// The first instant of the month `given` counts (China time).
    pub month_start: DateTimeUtc,
    pub given: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

/// What was chosen, under a receipt the voter holds: names no one. `slot` is a keyed digest
/// of the voter that only the servers' secret recomputes, so that a changed ballot replaces
/// the last one.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "topic_ballots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub topic_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub slot: String,
    pub receipt: String,
    /// The chosen options' indexes, as a JSON list.
    pub choices: Json,
    pub cast_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

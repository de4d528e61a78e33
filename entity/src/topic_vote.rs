use sea_orm::entity::prelude::*;

use crate::enums::BallotSource;

/// That a voter (household or person) voted, and where: never what they chose.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "topic_votes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub topic_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub voter_key: String,
    /// Who cast it last (a STAFF member's entry names the resident).
    pub user_id: Uuid,
    pub source: BallotSource,
    /// Which ballot-slot key filed it: a ballot can be changed only under the same key.
    pub key_epoch: String,
    pub cast_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

use crate::enums::{BallotKind, Electorate, TopicStatus, VotingUnit};

/// A consultation topic (议题) of one community, voted on between two set times.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "topics")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub community_id: Uuid,
    /// The grids whose residents vote, as a JSON list of ids; empty: the whole community.
    pub grid_ids: Json,
    pub title: String,
    pub body: String,
    pub raised_by: Uuid,
    pub status: TopicStatus,
    pub ballot_kind: BallotKind,
    /// The options' labels, as a JSON list of strings.
    pub options: Json,
    pub max_choices: i32,
    pub voting_unit: VotingUnit,
    pub electorate: Electorate,
    /// The share of eligible voters (households or persons) that must vote for a valid result.
    pub quorum_percent: i32,
    pub voting_starts_at: DateTimeUtc,
    pub voting_ends_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// When the result was published (公示); objections are taken until `objections_close_at`.
    pub published_at: Option<DateTimeUtc>,
    pub objections_close_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

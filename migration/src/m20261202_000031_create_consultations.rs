//! Consultations (议事): topics a community discusses and votes on. Who may vote is written
//! down when voting opens (`topic_electors`); who voted (`topic_votes`) is kept apart from what
//! was chosen (`topic_ballots`), which names no one; a result is sealed once at the close and
//! corrected only by further rows (`topic_results`).
use sea_orm_migration::{prelude::*, schema::*};

use crate::{index, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Topics {
    Table,
    Id,
    CommunityId,
    GridIds,
    Title,
    Body,
    RaisedBy,
    Status,
    BallotKind,
    Options,
    MaxChoices,
    VotingUnit,
    Electorate,
    QuorumPercent,
    VotingStartsAt,
    VotingEndsAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TopicElectors {
    Table,
    TopicId,
    UserId,
    VoterKey,
}

#[derive(DeriveIden)]
enum TopicVotes {
    Table,
    TopicId,
    VoterKey,
    UserId,
    Source,
    KeyEpoch,
    CastAt,
}

#[derive(DeriveIden)]
enum TopicBallots {
    Table,
    TopicId,
    Slot,
    Receipt,
    Choices,
    CastAt,
}

#[derive(DeriveIden)]
enum TopicResults {
    Table,
    Id,
    TopicId,
    Sequence,
    Counts,
    Eligible,
    Turnout,
    Valid,
    Digest,
    Reason,
    CreatedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Topics::Table)
                    .col(uuid(Topics::Id).primary_key())
                    .col(uuid(Topics::CommunityId))
                    .col(json(Topics::GridIds))
                    .col(string(Topics::Title))
                    .col(text(Topics::Body))
                    .col(uuid(Topics::RaisedBy))
                    .col(string(Topics::Status))
                    .col(string(Topics::BallotKind))
                    .col(json(Topics::Options))
                    .col(integer(Topics::MaxChoices))
                    .col(string(Topics::VotingUnit))
                    .col(string(Topics::Electorate))
                    .col(integer(Topics::QuorumPercent))
                    .col(timestamp_with_time_zone(Topics::VotingStartsAt))
                    .col(timestamp_with_time_zone(Topics::VotingEndsAt))
                    .col(timestamp_with_time_zone(Topics::CreatedAt))
                    .col(timestamp_with_time_zone(Topics::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_topics_community",
                Topics::Table,
                vec![Topics::CommunityId, Topics::Id],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TopicElectors::Table)
                    .col(uuid(TopicElectors::TopicId))
                    .col(uuid(TopicElectors::UserId))
                    .col(string(TopicElectors::VoterKey))
                    .primary_key(
                        Index::create()
                            .col(TopicElectors::TopicId)
                            .col(TopicElectors::UserId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TopicVotes::Table)
                    .col(uuid(TopicVotes::TopicId))
                    .col(string(TopicVotes::VoterKey))
                    .col(uuid(TopicVotes::UserId))
                    .col(string(TopicVotes::Source))
                    .col(string(TopicVotes::KeyEpoch))
                    .col(timestamp_with_time_zone(TopicVotes::CastAt))
                    .primary_key(
                        Index::create()
                            .name("uq_topic_votes_voter")
                            .col(TopicVotes::TopicId)
                            .col(TopicVotes::VoterKey),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TopicBallots::Table)
                    .col(uuid(TopicBallots::TopicId))
                    .col(string(TopicBallots::Slot))
                    .col(string(TopicBallots::Receipt))
                    .col(json(TopicBallots::Choices))
                    .col(timestamp_with_time_zone(TopicBallots::CastAt))
                    .primary_key(
                        Index::create()
                            .name("uq_topic_ballots_slot")
                            .col(TopicBallots::TopicId)
                            .col(TopicBallots::Slot),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "uq_topic_ballots_receipt",
                TopicBallots::Table,
                vec![TopicBallots::TopicId, TopicBallots::Receipt],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TopicResults::Table)
                    .col(uuid(TopicResults::Id).primary_key())
                    .col(uuid(TopicResults::TopicId))
                    .col(integer(TopicResults::Sequence))
                    .col(json(TopicResults::Counts))
                    .col(integer(TopicResults::Eligible))
                    .col(integer(TopicResults::Turnout))
                    .col(boolean(TopicResults::Valid))
                    .col(string(TopicResults::Digest))
                    .col(text_null(TopicResults::Reason))
                    .col(uuid_null(TopicResults::CreatedBy))
                    .col(timestamp_with_time_zone(TopicResults::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "uq_topic_results_sequence",
                TopicResults::Table,
                vec![TopicResults::TopicId, TopicResults::Sequence],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            TopicResults::Table.into_iden(),
            TopicBallots::Table.into_iden(),
            TopicVotes::Table.into_iden(),
            TopicElectors::Table.into_iden(),
            Topics::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

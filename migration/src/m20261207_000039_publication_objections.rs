//! Results published as notices (公示) with an objection window, as the monthly points notice
//! is: a topic's vote and a street's red/black list. Each records when it was published and
//! until when objections are taken; the objections, once per party (a person on the roll, a
//! listed company), with their answers, live in one table. Companies on the black list get a
//! rectification task (整改) that the street follows up.
use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Topics {
    Table,
    PublishedAt,
    ObjectionsCloseAt,
}

#[derive(DeriveIden)]
enum PropertyRounds {
    Table,
    ObjectionsCloseAt,
}

#[derive(DeriveIden)]
enum PublicationObjections {
    Table,
    Id,
    SubjectId,
    PartyId,
    ObjectorId,
    Reason,
    CreatedAt,
    AnsweredBy,
    AnsweredAt,
    Answer,
}

#[derive(DeriveIden)]
enum PropertyRectifications {
    Table,
    Id,
    RoundId,
    CompanyId,
    Status,
    DueAt,
    Report,
    ReportedBy,
    ReportedAt,
    ReviewedBy,
    ReviewedAt,
    ReviewNote,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for column in [
            timestamp_with_time_zone_null(Topics::PublishedAt),
            timestamp_with_time_zone_null(Topics::ObjectionsCloseAt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Topics::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(PropertyRounds::Table)
                    .add_column(timestamp_with_time_zone_null(
                        PropertyRounds::ObjectionsCloseAt,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PublicationObjections::Table)
                    .col(uuid(PublicationObjections::Id).primary_key())
                    .col(uuid(PublicationObjections::SubjectId))
                    .col(uuid(PublicationObjections::PartyId))
                    .col(uuid(PublicationObjections::ObjectorId))
                    .col(text(PublicationObjections::Reason))
                    .col(timestamp_with_time_zone(PublicationObjections::CreatedAt))
                    .col(uuid_null(PublicationObjections::AnsweredBy))
                    .col(timestamp_with_time_zone_null(
                        PublicationObjections::AnsweredAt,
                    ))
                    .col(text_null(PublicationObjections::Answer))
                    .to_owned(),
            )
            .await?;
        // One objection per party and notice, however often it is sent.
        manager
            .create_index(
                Index::create()
                    .name("uq_publication_objections_party")
                    .table(PublicationObjections::Table)
                    .col(PublicationObjections::SubjectId)
                    .col(PublicationObjections::PartyId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PropertyRectifications::Table)
                    .col(uuid(PropertyRectifications::Id).primary_key())
                    .col(uuid(PropertyRectifications::RoundId))
                    .col(uuid(PropertyRectifications::CompanyId))
                    .col(string(PropertyRectifications::Status))
                    .col(timestamp_with_time_zone(PropertyRectifications::DueAt))
                    .col(text_null(PropertyRectifications::Report))
                    .col(uuid_null(PropertyRectifications::ReportedBy))
                    .col(timestamp_with_time_zone_null(
                        PropertyRectifications::ReportedAt,
                    ))
                    .col(uuid_null(PropertyRectifications::ReviewedBy))
                    .col(timestamp_with_time_zone_null(
                        PropertyRectifications::ReviewedAt,
                    ))
                    .col(text_null(PropertyRectifications::ReviewNote))
                    .col(timestamp_with_time_zone(PropertyRectifications::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_property_rectifications_round",
                PropertyRectifications::Table,
                vec![
                    PropertyRectifications::RoundId,
                    PropertyRectifications::CompanyId,
                ],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PropertyRectifications::Table.into_iden(),
            PublicationObjections::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(PropertyRounds::Table)
                    .drop_column(PropertyRounds::ObjectionsCloseAt)
                    .to_owned(),
            )
            .await?;
        for column in [Topics::PublishedAt, Topics::ObjectionsCloseAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Topics::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

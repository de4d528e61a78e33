//! A closed topic's result is published as a notice (公示) with an objection window, as the
//! monthly points notice is: when it was published, until when those on the roll may object,
//! and their objections with STAFF's answers.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Topics {
    Table,
    PublishedAt,
    ObjectionsCloseAt,
}

#[derive(DeriveIden)]
enum TopicObjections {
    Table,
    Id,
    TopicId,
    ObjectorId,
    Reason,
    CreatedAt,
    AnsweredBy,
    AnsweredAt,
    Answer,
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
            .create_table(
                Table::create()
                    .table(TopicObjections::Table)
                    .col(uuid(TopicObjections::Id).primary_key())
                    .col(uuid(TopicObjections::TopicId))
                    .col(uuid(TopicObjections::ObjectorId))
                    .col(text(TopicObjections::Reason))
                    .col(timestamp_with_time_zone(TopicObjections::CreatedAt))
                    .col(uuid_null(TopicObjections::AnsweredBy))
                    .col(timestamp_with_time_zone_null(TopicObjections::AnsweredAt))
                    .col(text_null(TopicObjections::Answer))
                    .to_owned(),
            )
            .await?;
        // One objection per person and topic, however often it is sent.
        manager
            .create_index(
                Index::create()
                    .name("uq_topic_objections_objector")
                    .table(TopicObjections::Table)
                    .col(TopicObjections::TopicId)
                    .col(TopicObjections::ObjectorId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TopicObjections::Table).to_owned())
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

//! Residents' comments on a topic under discussion (议事), moderated by the community's STAFF:
//! a hidden comment keeps its row, with who hid it and why.
use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TopicComments {
    Table,
    Id,
    TopicId,
    AuthorId,
    Body,
    HiddenAt,
    HiddenBy,
    HiddenReason,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TopicComments::Table)
                    .col(uuid(TopicComments::Id).primary_key())
                    .col(uuid(TopicComments::TopicId))
                    .col(uuid(TopicComments::AuthorId))
                    .col(text(TopicComments::Body))
                    .col(timestamp_with_time_zone_null(TopicComments::HiddenAt))
                    .col(uuid_null(TopicComments::HiddenBy))
                    .col(string_null(TopicComments::HiddenReason))
                    .col(timestamp_with_time_zone(TopicComments::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_topic_comments_topic",
                TopicComments::Table,
                vec![TopicComments::TopicId, TopicComments::Id],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TopicComments::Table).to_owned())
            .await
    }
}

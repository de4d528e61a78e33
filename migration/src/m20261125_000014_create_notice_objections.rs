//! Objections to lines of the monthly points notice (一月一公示), and how STAFF resolved them.
use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum NoticeObjections {
    Table,
    Id,
    RecordId,
    CommunityId,
    Month,
    ObjectorId,
    Reason,
    CreatedAt,
    ResolvedBy,
    ResolvedAt,
    Resolution,
    Reversed,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(NoticeObjections::Table)
                    .col(pk_uuid(NoticeObjections::Id))
                    .col(uuid(NoticeObjections::RecordId))
                    .col(uuid(NoticeObjections::CommunityId))
                    .col(string(NoticeObjections::Month))
                    .col(uuid(NoticeObjections::ObjectorId))
                    .col(text(NoticeObjections::Reason))
                    .col(timestamp_with_time_zone(NoticeObjections::CreatedAt))
                    .col(uuid_null(NoticeObjections::ResolvedBy))
                    .col(timestamp_with_time_zone_null(NoticeObjections::ResolvedAt))
                    .col(text_null(NoticeObjections::Resolution))
                    .col(boolean(NoticeObjections::Reversed).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_notice_objections_notice",
                NoticeObjections::Table,
                vec![NoticeObjections::CommunityId, NoticeObjections::Month],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(NoticeObjections::Table).to_owned())
            .await
    }
}

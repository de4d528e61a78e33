//! Text that content security could not clear (WeChat unreachable, or its verdict "review"):
//! stored anyway under the fail-open policy, and listed here for the community's STAFF.
use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ContentFlags {
    Table,
    Id,
    AuthorId,
    CommunityId,
    Field,
    Excerpt,
    Reason,
    CreatedAt,
    ResolvedBy,
    ResolvedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ContentFlags::Table)
                    .col(pk_uuid(ContentFlags::Id))
                    .col(uuid(ContentFlags::AuthorId))
                    .col(uuid_null(ContentFlags::CommunityId))
                    .col(string(ContentFlags::Field))
                    .col(text(ContentFlags::Excerpt))
                    .col(string(ContentFlags::Reason))
                    .col(timestamp_with_time_zone(ContentFlags::CreatedAt))
                    .col(uuid_null(ContentFlags::ResolvedBy))
                    .col(timestamp_with_time_zone_null(ContentFlags::ResolvedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_content_flags_community",
                ContentFlags::Table,
                vec![ContentFlags::CommunityId, ContentFlags::Id],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ContentFlags::Table).to_owned())
            .await
    }
}

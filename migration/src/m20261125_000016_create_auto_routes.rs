//! Auto-routing: a community's orders of a category dispatched in turn to members with a skill.
use sea_orm_migration::{prelude::*, schema::*};

use crate::unique_index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AutoRoutes {
    Table,
    Id,
    CommunityId,
    CategoryId,
    Skill,
    EnabledBy,
    LastAssigneeId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AutoRoutes::Table)
                    .col(pk_uuid(AutoRoutes::Id))
                    .col(uuid(AutoRoutes::CommunityId))
                    .col(uuid(AutoRoutes::CategoryId))
                    .col(string(AutoRoutes::Skill))
                    .col(uuid(AutoRoutes::EnabledBy))
                    .col(uuid_null(AutoRoutes::LastAssigneeId))
                    .col(timestamp_with_time_zone(AutoRoutes::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "idx_auto_routes_category",
                AutoRoutes::Table,
                vec![AutoRoutes::CommunityId, AutoRoutes::CategoryId],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AutoRoutes::Table).to_owned())
            .await
    }
}

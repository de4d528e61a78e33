//! District → street → community → grid.
use sea_orm_migration::{prelude::*, schema::*};

use crate::drop_tables;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Districts {
    Table,
    Id,
    Name,
}

#[derive(DeriveIden)]
pub enum Streets {
    Table,
    Id,
    DistrictId,
    Name,
}

#[derive(DeriveIden)]
pub enum Communities {
    Table,
    Id,
    StreetId,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum Grids {
    Table,
    Id,
    CommunityId,
    Name,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Districts::Table)
                    .col(pk_uuid(Districts::Id))
                    .col(string(Districts::Name))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Streets::Table)
                    .col(pk_uuid(Streets::Id))
                    .col(uuid(Streets::DistrictId))
                    .col(string(Streets::Name))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Streets::Table, Streets::DistrictId)
                            .to(Districts::Table, Districts::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Communities::Table)
                    .col(pk_uuid(Communities::Id))
                    .col(uuid(Communities::StreetId))
                    .col(string(Communities::Name))
                    .col(timestamp_with_time_zone(Communities::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Communities::Table, Communities::StreetId)
                            .to(Streets::Table, Streets::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Grids::Table)
                    .col(pk_uuid(Grids::Id))
                    .col(uuid(Grids::CommunityId))
                    .col(string(Grids::Name))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Grids::Table, Grids::CommunityId)
                            .to(Communities::Table, Communities::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_grids_community")
                    .table(Grids::Table)
                    .col(Grids::CommunityId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            vec![
                Grids::Table.into_iden(),
                Communities::Table.into_iden(),
                Streets::Table.into_iden(),
                Districts::Table.into_iden(),
            ],
        )
        .await
    }
}

//! Residents' own good deeds (积分制): the community's table of deed kinds, and the deeds.
use sea_orm_migration::{prelude::*, schema::*};

use crate::{index, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DeedKinds {
    Table,
    Id,
    CommunityId,
    Name,
    BasePoints,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum GoodDeeds {
    Table,
    Id,
    CommunityId,
    GridId,
    ResidentId,
    KindId,
    Description,
    HappenedAt,
    Status,
    CheckedBy,
    CheckedAt,
    CheckNote,
    ReviewedBy,
    ReviewedAt,
    Reason,
    Points,
    Version,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DeedKinds::Table)
                    .col(pk_uuid(DeedKinds::Id))
                    .col(uuid(DeedKinds::CommunityId))
                    .col(string(DeedKinds::Name))
                    .col(big_integer(DeedKinds::BasePoints))
                    .col(boolean(DeedKinds::Active).default(true))
                    .col(timestamp_with_time_zone(DeedKinds::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "idx_deed_kinds_name",
                DeedKinds::Table,
                vec![DeedKinds::CommunityId, DeedKinds::Name],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GoodDeeds::Table)
                    .col(pk_uuid(GoodDeeds::Id))
                    .col(uuid(GoodDeeds::CommunityId))
                    .col(uuid_null(GoodDeeds::GridId))
                    .col(uuid(GoodDeeds::ResidentId))
                    .col(uuid(GoodDeeds::KindId))
                    .col(text(GoodDeeds::Description))
                    .col(timestamp_with_time_zone(GoodDeeds::HappenedAt))
                    .col(string(GoodDeeds::Status))
                    .col(uuid_null(GoodDeeds::CheckedBy))
                    .col(timestamp_with_time_zone_null(GoodDeeds::CheckedAt))
                    .col(text_null(GoodDeeds::CheckNote))
                    .col(uuid_null(GoodDeeds::ReviewedBy))
                    .col(timestamp_with_time_zone_null(GoodDeeds::ReviewedAt))
                    .col(text_null(GoodDeeds::Reason))
                    .col(big_integer_null(GoodDeeds::Points))
                    .col(integer(GoodDeeds::Version).default(0))
                    .col(timestamp_with_time_zone(GoodDeeds::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(GoodDeeds::Table, GoodDeeds::KindId)
                            .to(DeedKinds::Table, DeedKinds::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_good_deeds_community",
                vec![GoodDeeds::CommunityId, GoodDeeds::Status],
            ),
            (
                "idx_good_deeds_grid",
                vec![GoodDeeds::GridId, GoodDeeds::Status],
            ),
            ("idx_good_deeds_resident", vec![GoodDeeds::ResidentId]),
        ] {
            manager
                .create_index(index(name, GoodDeeds::Table, columns))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::drop_tables(
            manager,
            vec![GoodDeeds::Table.into_iden(), DeedKinds::Table.into_iden()],
        )
        .await
    }
}

//! Micro-wishes (微心愿), and service records that come from fulfilling one.
use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Wishes {
    Table,
    Id,
    CommunityId,
    ResidentId,
    Title,
    Description,
    NeededBy,
    Status,
    ReviewedBy,
    ReviewNote,
    ClaimerId,
    ClaimedAs,
    ClaimedAt,
    DeliveryNote,
    MinutesSpent,
    DeliveredAt,
    FulfilledAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ServiceRecords {
    Table,
    WishId,
}

fn columns() -> Vec<(DynIden, ColumnDef)> {
    vec![(
        ServiceRecords::Table.into_iden(),
        uuid_null(ServiceRecords::WishId),
    )]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Wishes::Table)
                    .col(pk_uuid(Wishes::Id))
                    .col(uuid(Wishes::CommunityId))
                    .col(uuid(Wishes::ResidentId))
                    .col(string(Wishes::Title))
                    .col(text(Wishes::Description))
                    .col(timestamp_with_time_zone(Wishes::NeededBy))
                    .col(string(Wishes::Status))
                    .col(uuid_null(Wishes::ReviewedBy))
                    .col(text_null(Wishes::ReviewNote))
                    .col(uuid_null(Wishes::ClaimerId))
                    .col(string_null(Wishes::ClaimedAs))
                    .col(timestamp_with_time_zone_null(Wishes::ClaimedAt))
                    .col(text_null(Wishes::DeliveryNote))
                    .col(integer_null(Wishes::MinutesSpent))
                    .col(timestamp_with_time_zone_null(Wishes::DeliveredAt))
                    .col(timestamp_with_time_zone_null(Wishes::FulfilledAt))
                    .col(integer(Wishes::Version).default(0))
                    .col(timestamp_with_time_zone(Wishes::CreatedAt))
                    .col(timestamp_with_time_zone(Wishes::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_wishes_community",
                vec![Wishes::CommunityId, Wishes::Status],
            ),
            ("idx_wishes_resident", vec![Wishes::ResidentId]),
            ("idx_wishes_claimer", vec![Wishes::ClaimerId]),
        ] {
            manager
                .create_index(index(name, Wishes::Table, columns))
                .await?;
        }
        crate::add_columns(manager, columns()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::drop_columns(manager, columns()).await?;
        manager
            .drop_table(Table::drop().table(Wishes::Table).to_owned())
            .await
    }
}

//! What a street office needs to run a community without SQL: community addresses, centres
//! and response-time defaults; grid boundaries and their grid workers; categories that can be
//! retired; residents and orders placed in a grid; and archiving instead of deleting.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Communities {
    Table,
    Address,
    Latitude,
    Longitude,
    ResponseMinutes,
    ArchivedAt,
}

#[derive(DeriveIden)]
enum Grids {
    Table,
    Boundary,
    WorkerId,
    ArchivedAt,
}

#[derive(DeriveIden)]
enum ServiceCategories {
    Table,
    Active,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    GridId,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    GridId,
}

/// The columns this migration adds, by table.
fn columns() -> Vec<(DynIden, ColumnDef)> {
    vec![
        (
            Communities::Table.into_iden(),
            string(Communities::Address).default("").to_owned(),
        ),
        (
            Communities::Table.into_iden(),
            double_null(Communities::Latitude),
        ),
        (
            Communities::Table.into_iden(),
            double_null(Communities::Longitude),
        ),
        (
            Communities::Table.into_iden(),
            integer_null(Communities::ResponseMinutes),
        ),
        (
            Communities::Table.into_iden(),
            timestamp_with_time_zone_null(Communities::ArchivedAt),
        ),
        (
            Grids::Table.into_iden(),
            string(Grids::Boundary).default("").to_owned(),
        ),
        (Grids::Table.into_iden(), uuid_null(Grids::WorkerId)),
        (
            Grids::Table.into_iden(),
            timestamp_with_time_zone_null(Grids::ArchivedAt),
        ),
        (
            ServiceCategories::Table.into_iden(),
            boolean(ServiceCategories::Active).default(true).to_owned(),
        ),
        (Users::Table.into_iden(), uuid_null(Users::GridId)),
        (Orders::Table.into_iden(), uuid_null(Orders::GridId)),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::add_columns(manager, columns()).await?;
        manager
            .create_index(crate::index(
                "idx_orders_grid",
                Orders::Table.into_iden(),
                vec![Orders::GridId.into_iden()],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("idx_orders_grid").to_owned())
            .await?;
        crate::drop_columns(manager, columns()).await
    }
}

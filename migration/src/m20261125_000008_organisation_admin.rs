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

/// One column per statement: SQLite alters a table one column at a time.
fn additions() -> Vec<TableAlterStatement> {
    let add = |table: DynIden, column: ColumnDef| {
        Table::alter()
            .table(table)
            .add_column(column.to_owned())
            .to_owned()
    };
    vec![
        add(
            Communities::Table.into_iden(),
            string(Communities::Address).default("").to_owned(),
        ),
        add(
            Communities::Table.into_iden(),
            double_null(Communities::Latitude),
        ),
        add(
            Communities::Table.into_iden(),
            double_null(Communities::Longitude),
        ),
        add(
            Communities::Table.into_iden(),
            integer_null(Communities::ResponseMinutes),
        ),
        add(
            Communities::Table.into_iden(),
            timestamp_with_time_zone_null(Communities::ArchivedAt),
        ),
        add(
            Grids::Table.into_iden(),
            string(Grids::Boundary).default("").to_owned(),
        ),
        add(Grids::Table.into_iden(), uuid_null(Grids::WorkerId)),
        add(
            Grids::Table.into_iden(),
            timestamp_with_time_zone_null(Grids::ArchivedAt),
        ),
        add(
            ServiceCategories::Table.into_iden(),
            boolean(ServiceCategories::Active).default(true).to_owned(),
        ),
        add(Users::Table.into_iden(), uuid_null(Users::GridId)),
        add(Orders::Table.into_iden(), uuid_null(Orders::GridId)),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for statement in additions() {
            manager.alter_table(statement).await?;
        }
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
        let drops: [(DynIden, DynIden); 11] = [
            (
                Communities::Table.into_iden(),
                Communities::Address.into_iden(),
            ),
            (
                Communities::Table.into_iden(),
                Communities::Latitude.into_iden(),
            ),
            (
                Communities::Table.into_iden(),
                Communities::Longitude.into_iden(),
            ),
            (
                Communities::Table.into_iden(),
                Communities::ResponseMinutes.into_iden(),
            ),
            (
                Communities::Table.into_iden(),
                Communities::ArchivedAt.into_iden(),
            ),
            (Grids::Table.into_iden(), Grids::Boundary.into_iden()),
            (Grids::Table.into_iden(), Grids::WorkerId.into_iden()),
            (Grids::Table.into_iden(), Grids::ArchivedAt.into_iden()),
            (
                ServiceCategories::Table.into_iden(),
                ServiceCategories::Active.into_iden(),
            ),
            (Users::Table.into_iden(), Users::GridId.into_iden()),
            (Orders::Table.into_iden(), Orders::GridId.into_iden()),
        ];
        for (table, column) in drops {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}

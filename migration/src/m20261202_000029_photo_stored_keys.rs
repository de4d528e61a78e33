//! An attached photo is served from a key of its own, which no upload link ever signed: a
//! second PUT through the upload link cannot change what was checked and shown.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Photos {
    Table,
    StoredKey,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Photos::Table)
                    .add_column(string_null(Photos::StoredKey))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Photos::Table)
                    .drop_column(Photos::StoredKey)
                    .to_owned(),
            )
            .await
    }
}

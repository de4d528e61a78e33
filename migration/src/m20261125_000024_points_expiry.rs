//! A community's points may expire: `expiry` NONE (the default) or END_OF_NEXT_YEAR.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PointsPolicies {
    Table,
    Expiry,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(PointsPolicies::Table)
                    .add_column(string(PointsPolicies::Expiry).default("NONE"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(PointsPolicies::Table)
                    .drop_column(PointsPolicies::Expiry)
                    .to_owned(),
            )
            .await
    }
}

//! Giving points summed the giver's GIFT_OUT entries of the month under an advisory lock on
//! every gift. One row per giver now says how much they gave in which month: a gift checks and
//! bumps it in one compare-and-set, and the entries are summed only when the row is missing
//! or refuses. Rows are made on first use, from the entries.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum GiftBudgets {
    Table,
    GiverId,
    MonthStart,
    Given,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(GiftBudgets::Table)
                    .col(uuid(GiftBudgets::GiverId).primary_key())
                    .col(timestamp_with_time_zone(GiftBudgets::MonthStart))
                    .col(big_integer(GiftBudgets::Given))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(GiftBudgets::Table).to_owned())
            .await
    }
}

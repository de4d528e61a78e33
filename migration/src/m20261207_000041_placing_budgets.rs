//! Placing an order counted the requester's orders (all of them, for the open ones and the last
//! hour's) under a lock; a resident with a long history paid for it on every order. One row per
//! requester and budget now says how much is used: placing checks and bumps it in one statement
//! and counts the orders only when the row is missing, its hour has passed, or a cap is reached.
//! Rows are made on first use, from the orders.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PlacingBudgets {
    Table,
    RequesterId,
    Lane,
    OpenOrders,
    WindowStartedAt,
    PlacedInWindow,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PlacingBudgets::Table)
                    .col(uuid(PlacingBudgets::RequesterId))
                    .col(string(PlacingBudgets::Lane))
                    .col(big_integer(PlacingBudgets::OpenOrders))
                    .col(timestamp_with_time_zone(PlacingBudgets::WindowStartedAt))
                    .col(big_integer(PlacingBudgets::PlacedInWindow))
                    .primary_key(
                        Index::create()
                            .col(PlacingBudgets::RequesterId)
                            .col(PlacingBudgets::Lane),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PlacingBudgets::Table).to_owned())
            .await
    }
}

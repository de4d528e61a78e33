//! Tickets of the staff console's scan-to-log-in (扫码登录): a browser asks for one with the
//! hash of a secret only it holds, a logged-in staff member confirms it in the mini-program,
//! and the browser spends it once, with the secret, for a session of its own.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ConsoleLoginTickets {
    Table,
    Id,
    Challenge,
    ExpiresAt,
    ConfirmedBy,
    ConfirmedAt,
    ClaimedAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ConsoleLoginTickets::Table)
                    .col(uuid(ConsoleLoginTickets::Id).primary_key())
                    .col(string(ConsoleLoginTickets::Challenge))
                    .col(timestamp_with_time_zone(ConsoleLoginTickets::ExpiresAt))
                    .col(uuid_null(ConsoleLoginTickets::ConfirmedBy))
                    .col(timestamp_with_time_zone_null(
                        ConsoleLoginTickets::ConfirmedAt,
                    ))
                    .col(timestamp_with_time_zone_null(
                        ConsoleLoginTickets::ClaimedAt,
                    ))
                    .col(timestamp_with_time_zone(ConsoleLoginTickets::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ConsoleLoginTickets::Table).to_owned())
            .await
    }
}

//! Each person's inbox: every notification meant for them, written in the transaction of the
//! change it reports, so nothing depends on a live socket. A row is also the job of sending
//! it outside the app (WeChat subscription message): status, attempts and when to retry.
use sea_orm_migration::{prelude::*, schema::*};

use crate::{index, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InboxMessages {
    Table,
    Id,
    NotificationId,
    UserId,
    Kind,
    OrderId,
    RedemptionId,
    Message,
    CreatedAt,
    ReadAt,
    Delivery,
    Attempts,
    NextAttemptAt,
    LastError,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(InboxMessages::Table)
                    .col(pk_uuid(InboxMessages::Id))
                    .col(uuid(InboxMessages::NotificationId))
                    .col(uuid(InboxMessages::UserId))
                    .col(string(InboxMessages::Kind))
                    .col(uuid_null(InboxMessages::OrderId))
                    .col(uuid_null(InboxMessages::RedemptionId))
                    .col(text(InboxMessages::Message))
                    .col(timestamp_with_time_zone(InboxMessages::CreatedAt))
                    .col(timestamp_with_time_zone_null(InboxMessages::ReadAt))
                    .col(string(InboxMessages::Delivery))
                    .col(integer(InboxMessages::Attempts).default(0))
                    .col(timestamp_with_time_zone(InboxMessages::NextAttemptAt))
                    .col(text_null(InboxMessages::LastError))
                    .col(timestamp_with_time_zone_null(InboxMessages::SentAt))
                    .to_owned(),
            )
            .await?;
        // One notification reaches one person once.
        manager
            .create_index(unique_index(
                "uq_inbox_notification_user",
                InboxMessages::Table,
                vec![InboxMessages::NotificationId, InboxMessages::UserId],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_inbox_user",
                InboxMessages::Table,
                vec![InboxMessages::UserId, InboxMessages::Id],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_inbox_delivery",
                InboxMessages::Table,
                vec![InboxMessages::Delivery, InboxMessages::NextAttemptAt],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(InboxMessages::Table).to_owned())
            .await
    }
}

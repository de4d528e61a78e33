//! What each person agreed to receive outside the app: WeChat's one-time subscription
//! consents (wx.requestSubscribeMessage), counted per message kind and spent one per message.
use sea_orm_migration::{prelude::*, schema::*};

use crate::unique_index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SubscribeConsents {
    Table,
    Id,
    UserId,
    TemplateKey,
    Remaining,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SubscribeConsents::Table)
                    .col(pk_uuid(SubscribeConsents::Id))
                    .col(uuid(SubscribeConsents::UserId))
                    .col(string(SubscribeConsents::TemplateKey))
                    .col(integer(SubscribeConsents::Remaining))
                    .col(timestamp_with_time_zone(SubscribeConsents::UpdatedAt))
                    .check(Expr::col(SubscribeConsents::Remaining).gte(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "uq_subscribe_consents",
                SubscribeConsents::Table,
                vec![SubscribeConsents::UserId, SubscribeConsents::TemplateKey],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SubscribeConsents::Table).to_owned())
            .await
    }
}

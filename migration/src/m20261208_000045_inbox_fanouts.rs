//! A notice for every Party member of a community (a newly published order) named hundreds of
//! people, and its inbox rows were written inside the step that caused it. The step now stores
//! the notice once, here, in its own statement, and the fan-out worker files the rows right
//! after the commit (`notify::inbox::fan_out`).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InboxFanouts {
    Table,
    NotificationId,
    Kind,
    OrderId,
    RedemptionId,
    Message,
    CreatedAt,
    MembersOf,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(InboxFanouts::Table)
                    .col(pk_uuid(InboxFanouts::NotificationId))
                    .col(string(InboxFanouts::Kind))
                    .col(uuid_null(InboxFanouts::OrderId))
                    .col(uuid_null(InboxFanouts::RedemptionId))
                    .col(text(InboxFanouts::Message))
                    .col(timestamp_with_time_zone(InboxFanouts::CreatedAt))
                    .col(uuid(InboxFanouts::MembersOf))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(InboxFanouts::Table).to_owned())
            .await
    }
}

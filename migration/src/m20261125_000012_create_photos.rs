//! Photos uploaded straight to object storage, and where each is attached.
use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Photos {
    Table,
    Key,
    OwnerId,
    Purpose,
    ContentType,
    ByteSize,
    OrderId,
    MerchantId,
    Review,
    TraceId,
    CreatedAt,
    AttachedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Photos::Table)
                    .col(string(Photos::Key).primary_key())
                    .col(uuid(Photos::OwnerId))
                    .col(string(Photos::Purpose))
                    .col(string(Photos::ContentType))
                    .col(big_integer(Photos::ByteSize))
                    .col(uuid_null(Photos::OrderId))
                    .col(uuid_null(Photos::MerchantId))
                    .col(string(Photos::Review))
                    .col(string_null(Photos::TraceId))
                    .col(timestamp_with_time_zone(Photos::CreatedAt))
                    .col(timestamp_with_time_zone_null(Photos::AttachedAt))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_photos_order", Photos::OrderId),
            ("idx_photos_merchant", Photos::MerchantId),
            ("idx_photos_trace", Photos::TraceId),
        ] {
            manager
                .create_index(index(name, Photos::Table, vec![column]))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Photos::Table).to_owned())
            .await
    }
}

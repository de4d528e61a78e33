//! The governance loop around the four lists: how an order came in (app, STAFF, hotline) and
//! for whom, completion deadlines and alert levels, the callback visits STAFF record, and
//! the skills dispatchers choose members by.
use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    CommunityId,
    CreatedAt,
    Channel,
    ResidentName,
    PlacedById,
    CompletionDueAt,
    AlertLevel,
    AlertChangedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Skills,
}

#[derive(DeriveIden)]
enum ServiceCategories {
    Table,
    CompletionMinutes,
}

#[derive(DeriveIden)]
enum OrderCallbacks {
    Table,
    Id,
    OrderId,
    StaffId,
    Reached,
    Satisfied,
    Note,
    CreatedAt,
}

fn columns() -> Vec<(DynIden, ColumnDef)> {
    let orders = || Orders::Table.into_iden();
    vec![
        (orders(), string(Orders::Channel).default("APP").to_owned()),
        (orders(), string_null(Orders::ResidentName)),
        (orders(), uuid_null(Orders::PlacedById)),
        (
            orders(),
            timestamp_with_time_zone_null(Orders::CompletionDueAt),
        ),
        (
            orders(),
            string(Orders::AlertLevel).default("GREEN").to_owned(),
        ),
        (
            orders(),
            timestamp_with_time_zone_null(Orders::AlertChangedAt),
        ),
        (
            Users::Table.into_iden(),
            string(Users::Skills).default("").to_owned(),
        ),
        (
            ServiceCategories::Table.into_iden(),
            // Three days.
            integer(ServiceCategories::CompletionMinutes)
                .default(3 * 24 * 60)
                .to_owned(),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::add_columns(manager, columns()).await?;
        manager
            .create_table(
                Table::create()
                    .table(OrderCallbacks::Table)
                    .col(pk_uuid(OrderCallbacks::Id))
                    .col(uuid(OrderCallbacks::OrderId))
                    .col(uuid(OrderCallbacks::StaffId))
                    .col(boolean(OrderCallbacks::Reached))
                    .col(boolean_null(OrderCallbacks::Satisfied))
                    .col(text(OrderCallbacks::Note))
                    .col(timestamp_with_time_zone(OrderCallbacks::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OrderCallbacks::Table, OrderCallbacks::OrderId)
                            .to(Orders::Table, Orders::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_order_callbacks_order",
                OrderCallbacks::Table,
                vec![OrderCallbacks::OrderId],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_orders_alert",
                Orders::Table,
                vec![Orders::CommunityId, Orders::AlertLevel],
            ))
            .await?;
        // governanceStats reads a scope's orders placed in a period.
        manager
            .create_index(index(
                "idx_orders_community_placed",
                Orders::Table,
                vec![Orders::CommunityId, Orders::CreatedAt],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["idx_orders_community_placed", "idx_orders_alert"] {
            manager
                .drop_index(Index::drop().name(name).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table(OrderCallbacks::Table).to_owned())
            .await?;
        crate::drop_columns(manager, columns()).await
    }
}

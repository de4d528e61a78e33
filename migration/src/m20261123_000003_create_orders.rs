//! The four-list workflow: service categories, orders and their event timeline.
use sea_orm_migration::{prelude::*, schema::*};

use crate::drop_tables;

use crate::index;
use crate::m20261123_000001_create_organisation::Communities;
use crate::m20261123_000002_create_identity::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ServiceCategories {
    Table,
    Id,
    Code,
    Name,
    ResponseMinutes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    CommunityId,
    RequesterId,
    CategoryId,
    Title,
    Description,
    Address,
    ContactPhone,
    PreferredTime,
    Urgency,
    Status,
    AssigneeId,
    TakerId,
    ResponseDueAt,
    AcceptedAt,
    CompletedAt,
    CompletionSummary,
    MinutesSpent,
    PhotoUrls,
    RatingStars,
    RatingComment,
    RatedAt,
    CancelReason,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrderEvents {
    Table,
    Id,
    OrderId,
    ActorId,
    Action,
    FromStatus,
    ToStatus,
    Note,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ServiceCategories::Table)
                    .col(pk_uuid(ServiceCategories::Id))
                    .col(string_uniq(ServiceCategories::Code))
                    .col(string(ServiceCategories::Name))
                    .col(integer(ServiceCategories::ResponseMinutes))
                    .col(timestamp_with_time_zone(ServiceCategories::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Orders::Table)
                    .col(pk_uuid(Orders::Id))
                    .col(uuid(Orders::CommunityId))
                    .col(uuid(Orders::RequesterId))
                    .col(uuid(Orders::CategoryId))
                    .col(string(Orders::Title))
                    .col(text(Orders::Description))
                    .col(string(Orders::Address))
                    .col(string(Orders::ContactPhone))
                    .col(timestamp_with_time_zone_null(Orders::PreferredTime))
                    .col(string(Orders::Urgency))
                    .col(string(Orders::Status))
                    .col(uuid_null(Orders::AssigneeId))
                    .col(uuid_null(Orders::TakerId))
                    .col(timestamp_with_time_zone(Orders::ResponseDueAt))
                    .col(timestamp_with_time_zone_null(Orders::AcceptedAt))
                    .col(timestamp_with_time_zone_null(Orders::CompletedAt))
                    .col(text_null(Orders::CompletionSummary))
                    .col(integer_null(Orders::MinutesSpent))
                    .col(json_null(Orders::PhotoUrls))
                    .col(small_integer_null(Orders::RatingStars))
                    .col(text_null(Orders::RatingComment))
                    .col(timestamp_with_time_zone_null(Orders::RatedAt))
                    .col(text_null(Orders::CancelReason))
                    .col(integer(Orders::Version))
                    .col(timestamp_with_time_zone(Orders::CreatedAt))
                    .col(timestamp_with_time_zone(Orders::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Orders::Table, Orders::CommunityId)
                            .to(Communities::Table, Communities::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Orders::Table, Orders::RequesterId)
                            .to(Users::Table, Users::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Orders::Table, Orders::CategoryId)
                            .to(ServiceCategories::Table, ServiceCategories::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // Every list is keyset-paginated newest first on the UUIDv7 id.
        for statement in [
            index(
                "idx_orders_community_status",
                Orders::Table,
                vec![Orders::CommunityId, Orders::Status, Orders::Id],
            ),
            index(
                "idx_orders_community",
                Orders::Table,
                vec![Orders::CommunityId, Orders::Id],
            ),
            index(
                "idx_orders_requester",
                Orders::Table,
                vec![Orders::RequesterId, Orders::Id],
            ),
            index(
                "idx_orders_taker",
                Orders::Table,
                vec![Orders::TakerId, Orders::Id],
            ),
            index(
                "idx_orders_assignee",
                Orders::Table,
                vec![Orders::AssigneeId, Orders::Id],
            ),
        ] {
            manager.create_index(statement).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(OrderEvents::Table)
                    .col(pk_uuid(OrderEvents::Id))
                    .col(uuid(OrderEvents::OrderId))
                    .col(uuid(OrderEvents::ActorId))
                    .col(string(OrderEvents::Action))
                    .col(string_null(OrderEvents::FromStatus))
                    .col(string(OrderEvents::ToStatus))
                    .col(text_null(OrderEvents::Note))
                    .col(timestamp_with_time_zone(OrderEvents::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OrderEvents::Table, OrderEvents::OrderId)
                            .to(Orders::Table, Orders::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(OrderEvents::Table, OrderEvents::ActorId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_order_events_order")
                    .table(OrderEvents::Table)
                    .col(OrderEvents::OrderId)
                    .col(OrderEvents::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            vec![
                OrderEvents::Table.into_iden(),
                Orders::Table.into_iden(),
                ServiceCategories::Table.into_iden(),
            ],
        )
        .await
    }
}

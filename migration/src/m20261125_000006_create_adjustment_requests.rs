//! Manual points adjustments past a STAFF member's daily cap wait for a second member.
use sea_orm_migration::{prelude::*, schema::*};

use crate::index;
use crate::m20261123_000002_create_identity::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AdjustmentRequests {
    Table,
    Id,
    UserId,
    Amount,
    Reason,
    Status,
    RequestedBy,
    DecidedBy,
    DecisionReason,
    EntryId,
    CreatedAt,
    DecidedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AdjustmentRequests::Table)
                    .col(pk_uuid(AdjustmentRequests::Id))
                    .col(uuid(AdjustmentRequests::UserId))
                    .col(big_integer(AdjustmentRequests::Amount))
                    .col(text(AdjustmentRequests::Reason))
                    .col(string(AdjustmentRequests::Status))
                    .col(uuid(AdjustmentRequests::RequestedBy))
                    .col(uuid_null(AdjustmentRequests::DecidedBy))
                    .col(text_null(AdjustmentRequests::DecisionReason))
                    .col(uuid_null(AdjustmentRequests::EntryId))
                    .col(timestamp_with_time_zone(AdjustmentRequests::CreatedAt))
                    .col(timestamp_with_time_zone_null(AdjustmentRequests::DecidedAt))
                    // The second pair of eyes is never the first.
                    .check(
                        Expr::col(AdjustmentRequests::DecidedBy)
                            .is_null()
                            .or(Expr::col(AdjustmentRequests::DecidedBy)
                                .ne(Expr::col(AdjustmentRequests::RequestedBy))),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AdjustmentRequests::Table, AdjustmentRequests::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_adjustment_requests_status",
                AdjustmentRequests::Table,
                vec![AdjustmentRequests::Status, AdjustmentRequests::Id],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AdjustmentRequests::Table).to_owned())
            .await
    }
}

//! Volunteer time and points: activities and sign-ups, service records, the points ledger.
use sea_orm_migration::{prelude::*, schema::*};

use crate::drop_tables;

use crate::m20261123_000001_create_organisation::Communities;
use crate::m20261123_000002_create_identity::Users;
use crate::{index, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// New column of `communities`.
#[derive(DeriveIden)]
enum CommunityPoints {
    PointsPerHour,
}

/// New column of `users`.
#[derive(DeriveIden)]
enum UserPrivacy {
    ShowOnLeaderboard,
}

#[derive(DeriveIden)]
enum Activities {
    Table,
    Id,
    CommunityId,
    Title,
    Description,
    Place,
    StartsAt,
    EndsAt,
    Capacity,
    SignedUp,
    PointsPerHourOverride,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ActivitySignups {
    Table,
    Id,
    ActivityId,
    UserId,
    Status,
    CheckedInAt,
    CheckedOutAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ServiceRecords {
    Table,
    Id,
    UserId,
    CommunityId,
    Source,
    OrderId,
    ActivityId,
    Minutes,
    Status,
    Rate,
    Points,
    ReviewedBy,
    ReviewReason,
    ConfirmedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PointsAccounts {
    Table,
    UserId,
    Balance,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PointsEntries {
    Table,
    Id,
    UserId,
    Kind,
    Amount,
    BalanceAfter,
    ReferenceType,
    ReferenceId,
    Rate,
    Reason,
    IdempotencyKey,
    CreatedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Communities::Table)
                    .add_column(integer(CommunityPoints::PointsPerHour).default(10))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(boolean(UserPrivacy::ShowOnLeaderboard).default(true))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Activities::Table)
                    .col(pk_uuid(Activities::Id))
                    .col(uuid(Activities::CommunityId))
                    .col(string(Activities::Title))
                    .col(text(Activities::Description))
                    .col(string(Activities::Place))
                    .col(timestamp_with_time_zone(Activities::StartsAt))
                    .col(timestamp_with_time_zone(Activities::EndsAt))
                    .col(integer(Activities::Capacity))
                    .col(integer(Activities::SignedUp))
                    .col(integer_null(Activities::PointsPerHourOverride))
                    .col(uuid(Activities::CreatedBy))
                    .col(timestamp_with_time_zone(Activities::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Activities::Table, Activities::CommunityId)
                            .to(Communities::Table, Communities::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_activities_community")
                    .table(Activities::Table)
                    .col(Activities::CommunityId)
                    .col(Activities::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ActivitySignups::Table)
                    .col(pk_uuid(ActivitySignups::Id))
                    .col(uuid(ActivitySignups::ActivityId))
                    .col(uuid(ActivitySignups::UserId))
                    .col(string(ActivitySignups::Status))
                    .col(timestamp_with_time_zone_null(ActivitySignups::CheckedInAt))
                    .col(timestamp_with_time_zone_null(ActivitySignups::CheckedOutAt))
                    .col(timestamp_with_time_zone(ActivitySignups::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ActivitySignups::Table, ActivitySignups::ActivityId)
                            .to(Activities::Table, Activities::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ActivitySignups::Table, ActivitySignups::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_activity_signups_activity_user")
                    .table(ActivitySignups::Table)
                    .col(ActivitySignups::ActivityId)
                    .col(ActivitySignups::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ServiceRecords::Table)
                    .col(pk_uuid(ServiceRecords::Id))
                    .col(uuid(ServiceRecords::UserId))
                    .col(uuid(ServiceRecords::CommunityId))
                    .col(string(ServiceRecords::Source))
                    .col(uuid_null(ServiceRecords::OrderId))
                    .col(uuid_null(ServiceRecords::ActivityId))
                    .col(integer(ServiceRecords::Minutes))
                    .col(string(ServiceRecords::Status))
                    .col(integer_null(ServiceRecords::Rate))
                    .col(big_integer_null(ServiceRecords::Points))
                    .col(uuid_null(ServiceRecords::ReviewedBy))
                    .col(text_null(ServiceRecords::ReviewReason))
                    .col(timestamp_with_time_zone_null(ServiceRecords::ConfirmedAt))
                    .col(timestamp_with_time_zone(ServiceRecords::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ServiceRecords::Table, ServiceRecords::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ServiceRecords::Table, ServiceRecords::CommunityId)
                            .to(Communities::Table, Communities::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // One record per order, and per person per activity: the last guard against a
        // double-credit race.
        for statement in [
            unique_index(
                "uq_service_records_order",
                ServiceRecords::Table,
                vec![ServiceRecords::OrderId],
            ),
            unique_index(
                "uq_service_records_activity_user",
                ServiceRecords::Table,
                vec![ServiceRecords::ActivityId, ServiceRecords::UserId],
            ),
            index(
                "idx_service_records_user",
                ServiceRecords::Table,
                vec![ServiceRecords::UserId, ServiceRecords::Id],
            ),
            index(
                "idx_service_records_community_status",
                ServiceRecords::Table,
                vec![
                    ServiceRecords::CommunityId,
                    ServiceRecords::Status,
                    ServiceRecords::ConfirmedAt,
                ],
            ),
        ] {
            manager.create_index(statement).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(PointsAccounts::Table)
                    .col(uuid(PointsAccounts::UserId).primary_key())
                    .col(big_integer(PointsAccounts::Balance))
                    .col(timestamp_with_time_zone(PointsAccounts::UpdatedAt))
                    .check(Expr::col(PointsAccounts::Balance).gte(0))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PointsAccounts::Table, PointsAccounts::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PointsEntries::Table)
                    .col(pk_uuid(PointsEntries::Id))
                    .col(uuid(PointsEntries::UserId))
                    .col(string(PointsEntries::Kind))
                    .col(big_integer(PointsEntries::Amount))
                    .col(big_integer(PointsEntries::BalanceAfter))
                    .col(string_null(PointsEntries::ReferenceType))
                    .col(uuid_null(PointsEntries::ReferenceId))
                    .col(integer_null(PointsEntries::Rate))
                    .col(text_null(PointsEntries::Reason))
                    .col(string_null(PointsEntries::IdempotencyKey).unique_key())
                    .col(uuid_null(PointsEntries::CreatedBy))
                    .col(timestamp_with_time_zone(PointsEntries::CreatedAt))
                    .check(Expr::col(PointsEntries::BalanceAfter).gte(0))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PointsEntries::Table, PointsEntries::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_points_entries_user")
                    .table(PointsEntries::Table)
                    .col(PointsEntries::UserId)
                    .col(PointsEntries::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            vec![
                PointsEntries::Table.into_iden(),
                PointsAccounts::Table.into_iden(),
                ServiceRecords::Table.into_iden(),
                ActivitySignups::Table.into_iden(),
                Activities::Table.into_iden(),
            ],
        )
        .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(UserPrivacy::ShowOnLeaderboard)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Communities::Table)
                    .drop_column(CommunityPoints::PointsPerHour)
                    .to_owned(),
            )
            .await
    }
}

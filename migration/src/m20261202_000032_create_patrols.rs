//! Grid patrols (网格巡查): the points STAFF set for a grid, the patrols scheduled for its
//! worker, each point's sign-off (where, when, its checklist and photo), and the findings that
//! became work orders. Photos gain a patrol sign-off to be attached to.
use sea_orm_migration::{prelude::*, schema::*};

use crate::{add_columns, drop_columns, index, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PatrolPoints {
    Table,
    Id,
    CommunityId,
    GridId,
    Name,
    Latitude,
    Longitude,
    RadiusMeters,
    Checklist,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PatrolTasks {
    Table,
    Id,
    CommunityId,
    GridId,
    WorkerId,
    PointIds,
    WindowStartsAt,
    WindowEndsAt,
    Status,
    HandedOverFrom,
    HandoverReason,
    CreatedBy,
    CreatedAt,
    CompletedAt,
}

#[derive(DeriveIden)]
enum PatrolSignoffs {
    Table,
    Id,
    TaskId,
    PointId,
    WorkerId,
    Latitude,
    Longitude,
    DistanceMeters,
    OffSiteReason,
    Timing,
    Answers,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PatrolFindings {
    Table,
    OrderId,
    TaskId,
    PointId,
    Latitude,
    Longitude,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Photos {
    Table,
    PatrolSignoffId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PatrolPoints::Table)
                    .col(uuid(PatrolPoints::Id).primary_key())
                    .col(uuid(PatrolPoints::CommunityId))
                    .col(uuid(PatrolPoints::GridId))
                    .col(string(PatrolPoints::Name))
                    .col(double(PatrolPoints::Latitude))
                    .col(double(PatrolPoints::Longitude))
                    .col(integer(PatrolPoints::RadiusMeters))
                    .col(json(PatrolPoints::Checklist))
                    .col(uuid(PatrolPoints::CreatedBy))
                    .col(timestamp_with_time_zone(PatrolPoints::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_patrol_points_grid",
                PatrolPoints::Table,
                vec![PatrolPoints::GridId, PatrolPoints::Id],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PatrolTasks::Table)
                    .col(uuid(PatrolTasks::Id).primary_key())
                    .col(uuid(PatrolTasks::CommunityId))
                    .col(uuid(PatrolTasks::GridId))
                    .col(uuid(PatrolTasks::WorkerId))
                    .col(json(PatrolTasks::PointIds))
                    .col(timestamp_with_time_zone(PatrolTasks::WindowStartsAt))
                    .col(timestamp_with_time_zone(PatrolTasks::WindowEndsAt))
                    .col(string(PatrolTasks::Status))
                    .col(uuid_null(PatrolTasks::HandedOverFrom))
                    .col(text_null(PatrolTasks::HandoverReason))
                    .col(uuid(PatrolTasks::CreatedBy))
                    .col(timestamp_with_time_zone(PatrolTasks::CreatedAt))
                    .col(timestamp_with_time_zone_null(PatrolTasks::CompletedAt))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_patrol_tasks_worker", PatrolTasks::WorkerId),
            ("idx_patrol_tasks_grid", PatrolTasks::GridId),
        ] {
            manager
                .create_index(index(
                    name,
                    PatrolTasks::Table,
                    vec![column, PatrolTasks::Id],
                ))
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(PatrolSignoffs::Table)
                    .col(uuid(PatrolSignoffs::Id).primary_key())
                    .col(uuid(PatrolSignoffs::TaskId))
                    .col(uuid(PatrolSignoffs::PointId))
                    .col(uuid(PatrolSignoffs::WorkerId))
                    .col(double(PatrolSignoffs::Latitude))
                    .col(double(PatrolSignoffs::Longitude))
                    .col(integer(PatrolSignoffs::DistanceMeters))
                    .col(text_null(PatrolSignoffs::OffSiteReason))
                    .col(string(PatrolSignoffs::Timing))
                    .col(json(PatrolSignoffs::Answers))
                    .col(timestamp_with_time_zone(PatrolSignoffs::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "uq_patrol_signoffs_point",
                PatrolSignoffs::Table,
                vec![PatrolSignoffs::TaskId, PatrolSignoffs::PointId],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PatrolFindings::Table)
                    .col(uuid(PatrolFindings::OrderId).primary_key())
                    .col(uuid(PatrolFindings::TaskId))
                    .col(uuid_null(PatrolFindings::PointId))
                    .col(double(PatrolFindings::Latitude))
                    .col(double(PatrolFindings::Longitude))
                    .col(timestamp_with_time_zone(PatrolFindings::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_patrol_findings_task",
                PatrolFindings::Table,
                vec![PatrolFindings::TaskId],
            ))
            .await?;
        add_columns(manager, photo_columns()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PatrolFindings::Table.into_iden(),
            PatrolSignoffs::Table.into_iden(),
            PatrolTasks::Table.into_iden(),
            PatrolPoints::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        drop_columns(manager, photo_columns()).await
    }
}

fn photo_columns() -> Vec<(DynIden, ColumnDef)> {
    vec![(
        Photos::Table.into_iden(),
        uuid_null(Photos::PatrolSignoffId),
    )]
}

//! Patrol plans: a grid's points patrolled every N days in a daily window; the job
//! `patrol-plans` files each day's patrol once, moving the plan's next day on in the same
//! transaction.
use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PatrolPlans {
    Table,
    Id,
    CommunityId,
    GridId,
    PointIds,
    EveryDays,
    WindowStartMinute,
    WindowMinutes,
    NextDay,
    Active,
    CreatedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PatrolPlans::Table)
                    .col(uuid(PatrolPlans::Id).primary_key())
                    .col(uuid(PatrolPlans::CommunityId))
                    .col(uuid(PatrolPlans::GridId))
                    .col(json(PatrolPlans::PointIds))
                    .col(integer(PatrolPlans::EveryDays))
                    .col(integer(PatrolPlans::WindowStartMinute))
                    .col(integer(PatrolPlans::WindowMinutes))
                    .col(date(PatrolPlans::NextDay))
                    .col(boolean(PatrolPlans::Active))
                    .col(uuid(PatrolPlans::CreatedBy))
                    .col(timestamp_with_time_zone(PatrolPlans::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_patrol_plans_due",
                PatrolPlans::Table,
                vec![PatrolPlans::Active, PatrolPlans::NextDay],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PatrolPlans::Table).to_owned())
            .await
    }
}

//! Each community's yearly assessment rules for its Party members (党建超市).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AssessmentRules {
    Table,
    CommunityId,
    BarPoints,
    MinOrders,
    MinActivities,
    MinWishes,
    UpdatedBy,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AssessmentRules::Table)
                    .col(pk_uuid(AssessmentRules::CommunityId))
                    .col(big_integer(AssessmentRules::BarPoints))
                    .col(big_integer(AssessmentRules::MinOrders))
                    .col(big_integer(AssessmentRules::MinActivities))
                    .col(big_integer(AssessmentRules::MinWishes))
                    .col(uuid(AssessmentRules::UpdatedBy))
                    .col(timestamp_with_time_zone(AssessmentRules::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AssessmentRules::Table).to_owned())
            .await
    }
}

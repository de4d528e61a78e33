//! Each community's points policy (the monthly cap on gifts to family).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PointsPolicies {
    Table,
    CommunityId,
    GiftMonthlyCap,
    UpdatedBy,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PointsPolicies::Table)
                    .col(pk_uuid(PointsPolicies::CommunityId))
                    .col(big_integer(PointsPolicies::GiftMonthlyCap))
                    .col(uuid(PointsPolicies::UpdatedBy))
                    .col(timestamp_with_time_zone(PointsPolicies::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PointsPolicies::Table).to_owned())
            .await
    }
}

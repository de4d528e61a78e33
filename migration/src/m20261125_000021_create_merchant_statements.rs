//! Merchant settlement: each community's points-to-yuan rate, and monthly statements marked
//! paid.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SettlementRates {
    Table,
    CommunityId,
    PointsPerYuan,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MerchantStatements {
    Table,
    MerchantId,
    Month,
    Points,
    YuanCents,
    PaidBy,
    PaidAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SettlementRates::Table)
                    .col(pk_uuid(SettlementRates::CommunityId))
                    .col(big_integer(SettlementRates::PointsPerYuan))
                    .col(uuid(SettlementRates::UpdatedBy))
                    .col(timestamp_with_time_zone(SettlementRates::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MerchantStatements::Table)
                    .col(uuid(MerchantStatements::MerchantId))
                    .col(string(MerchantStatements::Month))
                    .col(big_integer(MerchantStatements::Points))
                    .col(big_integer(MerchantStatements::YuanCents))
                    .col(uuid(MerchantStatements::PaidBy))
                    .col(timestamp_with_time_zone(MerchantStatements::PaidAt))
                    .primary_key(
                        Index::create()
                            .col(MerchantStatements::MerchantId)
                            .col(MerchantStatements::Month),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::drop_tables(
            manager,
            vec![
                MerchantStatements::Table.into_iden(),
                SettlementRates::Table.into_iden(),
            ],
        )
        .await
    }
}

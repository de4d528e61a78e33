//! The street's quarterly rating of the property companies (物业红黑榜): which company serves
//! which community when (`property_services`); a rating round per street and quarter; who rated
//! (`property_raters`, one row per household) kept apart from what was scored
//! (`property_scores`, which names no one); the result per company sealed once at the close
//! (`property_results`), with the facts the orders tell beside the opinions.
use sea_orm_migration::{prelude::*, schema::*};

use crate::{index, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PropertyServices {
    Table,
    Id,
    CommunityId,
    CompanyId,
    StartsAt,
    EndsAt,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PropertyRounds {
    Table,
    Id,
    StreetId,
    Quarter,
    Status,
    ClosesAt,
    RedBar,
    BlackBar,
    Digest,
    CreatedBy,
    CreatedAt,
    ClosedAt,
}

#[derive(DeriveIden)]
enum PropertyRaters {
    Table,
    RoundId,
    VoterKey,
    UserId,
    RatedAt,
}

#[derive(DeriveIden)]
enum PropertyScores {
    Table,
    RoundId,
    Slot,
    Receipt,
    CompanyId,
    Scores,
    RatedAt,
}

#[derive(DeriveIden)]
enum PropertyResults {
    Table,
    RoundId,
    CompanyId,
    Households,
    Averages,
    Facts,
    ScoreTenths,
    Listing,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PropertyServices::Table)
                    .col(uuid(PropertyServices::Id).primary_key())
                    .col(uuid(PropertyServices::CommunityId))
                    .col(uuid(PropertyServices::CompanyId))
                    .col(timestamp_with_time_zone(PropertyServices::StartsAt))
                    .col(timestamp_with_time_zone_null(PropertyServices::EndsAt))
                    .col(uuid(PropertyServices::CreatedBy))
                    .col(timestamp_with_time_zone(PropertyServices::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_property_services_community",
                PropertyServices::Table,
                vec![PropertyServices::CommunityId, PropertyServices::StartsAt],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PropertyRounds::Table)
                    .col(uuid(PropertyRounds::Id).primary_key())
                    .col(uuid(PropertyRounds::StreetId))
                    .col(string(PropertyRounds::Quarter))
                    .col(string(PropertyRounds::Status))
                    .col(timestamp_with_time_zone(PropertyRounds::ClosesAt))
                    .col(integer(PropertyRounds::RedBar))
                    .col(integer(PropertyRounds::BlackBar))
                    .col(string_null(PropertyRounds::Digest))
                    .col(uuid(PropertyRounds::CreatedBy))
                    .col(timestamp_with_time_zone(PropertyRounds::CreatedAt))
                    .col(timestamp_with_time_zone_null(PropertyRounds::ClosedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "uq_property_rounds_quarter",
                PropertyRounds::Table,
                vec![PropertyRounds::StreetId, PropertyRounds::Quarter],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PropertyRaters::Table)
                    .col(uuid(PropertyRaters::RoundId))
                    .col(string(PropertyRaters::VoterKey))
                    .col(uuid(PropertyRaters::UserId))
                    .col(timestamp_with_time_zone(PropertyRaters::RatedAt))
                    .primary_key(
                        Index::create()
                            .col(PropertyRaters::RoundId)
                            .col(PropertyRaters::VoterKey),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PropertyScores::Table)
                    .col(uuid(PropertyScores::RoundId))
                    .col(string(PropertyScores::Slot))
                    .col(string(PropertyScores::Receipt))
                    .col(uuid(PropertyScores::CompanyId))
                    .col(json(PropertyScores::Scores))
                    .col(timestamp_with_time_zone(PropertyScores::RatedAt))
                    .primary_key(
                        Index::create()
                            .col(PropertyScores::RoundId)
                            .col(PropertyScores::Slot),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PropertyResults::Table)
                    .col(uuid(PropertyResults::RoundId))
                    .col(uuid(PropertyResults::CompanyId))
                    .col(integer(PropertyResults::Households))
                    .col(json(PropertyResults::Averages))
                    .col(json(PropertyResults::Facts))
                    .col(integer(PropertyResults::ScoreTenths))
                    .col(string(PropertyResults::Listing))
                    .primary_key(
                        Index::create()
                            .col(PropertyResults::RoundId)
                            .col(PropertyResults::CompanyId),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PropertyResults::Table.into_iden(),
            PropertyScores::Table.into_iden(),
            PropertyRaters::Table.into_iden(),
            PropertyRounds::Table.into_iden(),
            PropertyServices::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

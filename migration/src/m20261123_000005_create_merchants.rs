//! The merchant alliance (商圈服务联盟): merchants, their staff and badges, offers, redemptions.
use sea_orm_migration::{prelude::*, schema::*};

use crate::drop_tables;

use crate::m20261123_000001_create_organisation::Communities;
use crate::m20261123_000002_create_identity::Users;
use crate::{index, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Merchants {
    Table,
    Id,
    CommunityId,
    OwnerId,
    Kind,
    Name,
    Description,
    Category,
    Address,
    Latitude,
    Longitude,
    Phone,
    OpeningHours,
    Status,
    StatusReason,
    ReviewedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MerchantStaff {
    Table,
    Id,
    MerchantId,
    UserId,
    IsOwner,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MerchantBadges {
    Table,
    Id,
    MerchantId,
    Badge,
    AwardedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Offers {
    Table,
    Id,
    MerchantId,
    Title,
    Description,
    PointsCost,
    Stock,
    PerUserLimit,
    ValidFrom,
    ValidUntil,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Redemptions {
    Table,
    Id,
    OfferId,
    MerchantId,
    UserId,
    PointsCost,
    Code,
    Status,
    ExpiresAt,
    VerifiedAt,
    VerifiedBy,
    ClosedAt,
    IdempotencyKey,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Merchants::Table)
                    .col(pk_uuid(Merchants::Id))
                    .col(uuid(Merchants::CommunityId))
                    .col(uuid(Merchants::OwnerId))
                    .col(string(Merchants::Kind))
                    .col(string(Merchants::Name))
                    .col(text(Merchants::Description))
                    .col(string(Merchants::Category))
                    .col(string(Merchants::Address))
                    .col(double(Merchants::Latitude))
                    .col(double(Merchants::Longitude))
                    .col(string(Merchants::Phone))
                    .col(string(Merchants::OpeningHours))
                    .col(string(Merchants::Status))
                    .col(text_null(Merchants::StatusReason))
                    .col(uuid_null(Merchants::ReviewedBy))
                    .col(timestamp_with_time_zone(Merchants::CreatedAt))
                    .col(timestamp_with_time_zone(Merchants::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Merchants::Table, Merchants::CommunityId)
                            .to(Communities::Table, Communities::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Merchants::Table, Merchants::OwnerId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_merchants_status_community",
                Merchants::Table,
                vec![Merchants::Status, Merchants::CommunityId, Merchants::Id],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_merchants_location",
                Merchants::Table,
                vec![Merchants::Latitude, Merchants::Longitude],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MerchantStaff::Table)
                    .col(pk_uuid(MerchantStaff::Id))
                    .col(uuid(MerchantStaff::MerchantId))
                    .col(uuid(MerchantStaff::UserId))
                    .col(boolean(MerchantStaff::IsOwner))
                    .col(timestamp_with_time_zone(MerchantStaff::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MerchantStaff::Table, MerchantStaff::MerchantId)
                            .to(Merchants::Table, Merchants::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MerchantStaff::Table, MerchantStaff::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "uq_merchant_staff",
                MerchantStaff::Table,
                vec![MerchantStaff::MerchantId, MerchantStaff::UserId],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_merchant_staff_user",
                MerchantStaff::Table,
                vec![MerchantStaff::UserId],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MerchantBadges::Table)
                    .col(pk_uuid(MerchantBadges::Id))
                    .col(uuid(MerchantBadges::MerchantId))
                    .col(string(MerchantBadges::Badge))
                    .col(uuid(MerchantBadges::AwardedBy))
                    .col(timestamp_with_time_zone(MerchantBadges::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MerchantBadges::Table, MerchantBadges::MerchantId)
                            .to(Merchants::Table, Merchants::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "uq_merchant_badges",
                MerchantBadges::Table,
                vec![MerchantBadges::MerchantId, MerchantBadges::Badge],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Offers::Table)
                    .col(pk_uuid(Offers::Id))
                    .col(uuid(Offers::MerchantId))
                    .col(string(Offers::Title))
                    .col(text(Offers::Description))
                    .col(big_integer(Offers::PointsCost))
                    .col(integer_null(Offers::Stock))
                    .col(integer_null(Offers::PerUserLimit))
                    .col(timestamp_with_time_zone(Offers::ValidFrom))
                    .col(timestamp_with_time_zone(Offers::ValidUntil))
                    .col(boolean(Offers::Active))
                    .col(timestamp_with_time_zone(Offers::CreatedAt))
                    .col(timestamp_with_time_zone(Offers::UpdatedAt))
                    .check(
                        Expr::col(Offers::Stock)
                            .is_null()
                            .or(Expr::col(Offers::Stock).gte(0)),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Offers::Table, Offers::MerchantId)
                            .to(Merchants::Table, Merchants::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_offers_merchant",
                Offers::Table,
                vec![Offers::MerchantId, Offers::Id],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Redemptions::Table)
                    .col(pk_uuid(Redemptions::Id))
                    .col(uuid(Redemptions::OfferId))
                    .col(uuid(Redemptions::MerchantId))
                    .col(uuid(Redemptions::UserId))
                    .col(big_integer(Redemptions::PointsCost))
                    .col(string(Redemptions::Code))
                    .col(string(Redemptions::Status))
                    .col(timestamp_with_time_zone(Redemptions::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Redemptions::VerifiedAt))
                    .col(uuid_null(Redemptions::VerifiedBy))
                    .col(timestamp_with_time_zone_null(Redemptions::ClosedAt))
                    .col(string_null(Redemptions::IdempotencyKey))
                    .col(timestamp_with_time_zone(Redemptions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Redemptions::Table, Redemptions::OfferId)
                            .to(Offers::Table, Offers::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Redemptions::Table, Redemptions::MerchantId)
                            .to(Merchants::Table, Merchants::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Redemptions::Table, Redemptions::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for statement in [
            unique_index(
                "uq_redemptions_code",
                Redemptions::Table,
                vec![Redemptions::Code],
            ),
            unique_index(
                "uq_redemptions_idempotency_key",
                Redemptions::Table,
                vec![Redemptions::IdempotencyKey],
            ),
            index(
                "idx_redemptions_user",
                Redemptions::Table,
                vec![Redemptions::UserId, Redemptions::Id],
            ),
            index(
                "idx_redemptions_user_offer",
                Redemptions::Table,
                vec![Redemptions::UserId, Redemptions::OfferId],
            ),
            index(
                "idx_redemptions_merchant",
                Redemptions::Table,
                vec![Redemptions::MerchantId, Redemptions::Id],
            ),
            index(
                "idx_redemptions_status_expiry",
                Redemptions::Table,
                vec![Redemptions::Status, Redemptions::ExpiresAt],
            ),
        ] {
            manager.create_index(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            vec![
                Redemptions::Table.into_iden(),
                Offers::Table.into_iden(),
                MerchantBadges::Table.into_iden(),
                MerchantStaff::Table.into_iden(),
                Merchants::Table.into_iden(),
            ],
        )
        .await
    }
}

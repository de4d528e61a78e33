//! Confirmed households: points move from a giver to a receiver only once the giver accepted
//! the receiver, or STAFF confirmed that both live there. An address typed into a profile is
//! not enough. Pairs that already gave points before this carry over as the giver's
//! acceptance, dated by their first gift.
use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum HouseholdLinks {
    Table,
    GiverId,
    ReceiverId,
    CommunityId,
    Address,
    ConfirmedBy,
    ConfirmedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(HouseholdLinks::Table)
                    .col(uuid(HouseholdLinks::GiverId))
                    .col(uuid(HouseholdLinks::ReceiverId))
                    .col(uuid(HouseholdLinks::CommunityId))
                    .col(string(HouseholdLinks::Address))
                    .col(uuid(HouseholdLinks::ConfirmedBy))
                    .col(timestamp_with_time_zone(HouseholdLinks::ConfirmedAt))
                    .primary_key(
                        Index::create()
                            .col(HouseholdLinks::GiverId)
                            .col(HouseholdLinks::ReceiverId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_household_links_receiver",
                HouseholdLinks::Table,
                vec![HouseholdLinks::ReceiverId],
            ))
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO household_links \
                   (giver_id, receiver_id, community_id, address, confirmed_by, confirmed_at) \
                 SELECT e.user_id, e.reference_id, g.community_id, TRIM(g.address), e.user_id, \
                        MIN(e.created_at) \
                 FROM points_entries e \
                 JOIN users g ON g.id = e.user_id \
                 JOIN users r ON r.id = e.reference_id \
                 WHERE e.kind = 'GIFT_OUT' AND e.reference_type = 'user' \
                   AND g.community_id IS NOT NULL AND g.community_id = r.community_id \
                   AND TRIM(g.address) <> '' AND TRIM(g.address) = TRIM(r.address) \
                 GROUP BY e.user_id, e.reference_id, g.community_id, TRIM(g.address)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(HouseholdLinks::Table).to_owned())
            .await
    }
}

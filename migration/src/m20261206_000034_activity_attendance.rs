//! Activity attendance: a check-in place and radius per activity (optional), and the lifts
//! STAFF give to someone whose repeated no-shows hold back their sign-ups. A no-show itself is
//! a sign-up's status (NO_SHOW), set once the activity is over.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Activities {
    Table,
    Latitude,
    Longitude,
    CheckInRadiusMeters,
}

#[derive(DeriveIden)]
enum ActivitySignups {
    Table,
    Status,
    ActivityId,
    UserId,
}

#[derive(DeriveIden)]
enum SignupHoldLifts {
    Table,
    Id,
    CommunityId,
    UserId,
    LiftedBy,
    Reason,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for column in [
            double_null(Activities::Latitude),
            double_null(Activities::Longitude),
            integer_null(Activities::CheckInRadiusMeters),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Activities::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(SignupHoldLifts::Table)
                    .col(uuid(SignupHoldLifts::Id).primary_key())
                    .col(uuid(SignupHoldLifts::CommunityId))
                    .col(uuid(SignupHoldLifts::UserId))
                    .col(uuid(SignupHoldLifts::LiftedBy))
                    .col(string(SignupHoldLifts::Reason))
                    .col(timestamp_with_time_zone(SignupHoldLifts::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("signup_hold_lifts_by_user")
                    .table(SignupHoldLifts::Table)
                    .col(SignupHoldLifts::UserId)
                    .col(SignupHoldLifts::CommunityId)
                    .col(SignupHoldLifts::CreatedAt)
                    .to_owned(),
            )
            .await?;
        // A user's no-shows are counted at every sign-up.
        manager
            .create_index(
                Index::create()
                    .name("activity_signups_by_user_status")
                    .table(ActivitySignups::Table)
                    .col(ActivitySignups::UserId)
                    .col(ActivitySignups::Status)
                    .col(ActivitySignups::ActivityId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("activity_signups_by_user_status")
                    .table(ActivitySignups::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(SignupHoldLifts::Table).to_owned())
            .await?;
        for column in [
            Activities::CheckInRadiusMeters,
            Activities::Longitude,
            Activities::Latitude,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Activities::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

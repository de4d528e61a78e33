//! Units stationed in the community (驻区单位) that report to it (双报到): the unit, the Party
//! members who say they belong to it, and the unit that claimed a wish.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Units {
    Table,
    Id,
    CommunityId,
    Name,
    PartyOrganisation,
    ContactName,
    ContactPhone,
    Resources,
    Status,
    ReviewNote,
    RepresentativeId,
    ReviewedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum UnitMembers {
    Table,
    UserId,
    UnitId,
    JoinedAt,
}

#[derive(DeriveIden)]
enum Wishes {
    Table,
    UnitId,
}

#[derive(DeriveIden)]
enum Communities {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Units::Table)
                    .col(pk_uuid(Units::Id))
                    .col(uuid(Units::CommunityId))
                    .col(string(Units::Name))
                    .col(string(Units::PartyOrganisation))
                    .col(string(Units::ContactName))
                    .col(string(Units::ContactPhone))
                    .col(text(Units::Resources))
                    .col(string(Units::Status))
                    .col(string_null(Units::ReviewNote))
                    .col(uuid(Units::RepresentativeId))
                    .col(uuid_null(Units::ReviewedBy))
                    .col(timestamp_with_time_zone(Units::CreatedAt))
                    .col(timestamp_with_time_zone(Units::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Units::Table, Units::CommunityId)
                            .to(Communities::Table, Communities::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Units::Table, Units::RepresentativeId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_units_community")
                    .table(Units::Table)
                    .col(Units::CommunityId)
                    .col(Units::Id)
                    .to_owned(),
            )
            .await?;
        // One unit per member: the key is the member.
        manager
            .create_table(
                Table::create()
                    .table(UnitMembers::Table)
                    .col(pk_uuid(UnitMembers::UserId))
                    .col(uuid(UnitMembers::UnitId))
                    .col(timestamp_with_time_zone(UnitMembers::JoinedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(UnitMembers::Table, UnitMembers::UnitId)
                            .to(Units::Table, Units::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_unit_members_unit")
                    .table(UnitMembers::Table)
                    .col(UnitMembers::UnitId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Wishes::Table)
                    .add_column(uuid_null(Wishes::UnitId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Wishes::Table)
                    .drop_column(Wishes::UnitId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(UnitMembers::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Units::Table).to_owned())
            .await
    }
}

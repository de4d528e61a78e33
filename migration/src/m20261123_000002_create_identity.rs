//! Users, their roles, refresh-token sessions and Party-member registrations (双报到).
use sea_orm_migration::{prelude::*, schema::*};

use crate::drop_tables;

use crate::m20261123_000001_create_organisation::Communities;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Users {
    Table,
    Id,
    Openid,
    Name,
    Phone,
    CommunityId,
    Address,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RoleGrants {
    Table,
    Id,
    UserId,
    Role,
    CommunityId,
    GrantedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    FamilyId,
    UserId,
    TokenHash,
    ExpiresAt,
    CreatedAt,
    UsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum PartyMemberApplications {
    Table,
    Id,
    UserId,
    CommunityId,
    Branch,
    Employer,
    Status,
    ReviewedBy,
    ReviewedAt,
    ReviewNote,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_uuid(Users::Id))
                    .col(string_uniq(Users::Openid))
                    .col(string_null(Users::Name))
                    .col(string_null(Users::Phone))
                    .col(uuid_null(Users::CommunityId))
                    .col(string_null(Users::Address))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Users::Table, Users::CommunityId)
                            .to(Communities::Table, Communities::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RoleGrants::Table)
                    .col(pk_uuid(RoleGrants::Id))
                    .col(uuid(RoleGrants::UserId))
                    .col(string(RoleGrants::Role))
                    .col(uuid_null(RoleGrants::CommunityId))
                    .col(uuid_null(RoleGrants::GrantedBy))
                    .col(timestamp_with_time_zone(RoleGrants::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RoleGrants::Table, RoleGrants::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RoleGrants::Table, RoleGrants::CommunityId)
                            .to(Communities::Table, Communities::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_role_grants_user")
                    .table(RoleGrants::Table)
                    .col(RoleGrants::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(pk_uuid(RefreshTokens::Id))
                    .col(uuid(RefreshTokens::FamilyId))
                    .col(uuid(RefreshTokens::UserId))
                    .col(string_uniq(RefreshTokens::TokenHash))
                    .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                    .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::UsedAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RefreshTokens::Table, RefreshTokens::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_tokens_family")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::FamilyId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PartyMemberApplications::Table)
                    .col(pk_uuid(PartyMemberApplications::Id))
                    .col(uuid(PartyMemberApplications::UserId))
                    .col(uuid(PartyMemberApplications::CommunityId))
                    .col(string(PartyMemberApplications::Branch))
                    .col(string(PartyMemberApplications::Employer))
                    .col(string(PartyMemberApplications::Status))
                    .col(uuid_null(PartyMemberApplications::ReviewedBy))
                    .col(timestamp_with_time_zone_null(
                        PartyMemberApplications::ReviewedAt,
                    ))
                    .col(string_null(PartyMemberApplications::ReviewNote))
                    .col(timestamp_with_time_zone(PartyMemberApplications::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                PartyMemberApplications::Table,
                                PartyMemberApplications::UserId,
                            )
                            .to(Users::Table, Users::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                PartyMemberApplications::Table,
                                PartyMemberApplications::CommunityId,
                            )
                            .to(Communities::Table, Communities::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_party_member_applications_community_status")
                    .table(PartyMemberApplications::Table)
                    .col(PartyMemberApplications::CommunityId)
                    .col(PartyMemberApplications::Status)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            vec![
                PartyMemberApplications::Table.into_iden(),
                RefreshTokens::Table.into_iden(),
                RoleGrants::Table.into_iden(),
                Users::Table.into_iden(),
            ],
        )
        .await
    }
}

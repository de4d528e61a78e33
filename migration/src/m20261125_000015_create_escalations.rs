//! Escalation up and back (吹哨报到): street and district departments, the hops orders make
//! to them, and where street and department roles are held.
use sea_orm_migration::{prelude::*, schema::*};

use crate::{
    index,
    m20261123_000001_create_organisation::{Districts, Streets},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Departments {
    Table,
    Id,
    DistrictId,
    StreetId,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Escalations {
    Table,
    Id,
    OrderId,
    CommunityId,
    StreetId,
    DistrictId,
    Level,
    DepartmentId,
    Status,
    Reason,
    EscalatedBy,
    CreatedAt,
    DueAt,
    AcceptedBy,
    AcceptedAt,
    ClosedBy,
    ClosedAt,
    Outcome,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    EscalatedToId,
    EscalatedStreetId,
}

#[derive(DeriveIden)]
enum RoleGrants {
    Table,
    StreetId,
    DepartmentId,
}

fn columns() -> Vec<(DynIden, ColumnDef)> {
    vec![
        (Orders::Table.into_iden(), uuid_null(Orders::EscalatedToId)),
        (
            Orders::Table.into_iden(),
            uuid_null(Orders::EscalatedStreetId),
        ),
        (
            RoleGrants::Table.into_iden(),
            uuid_null(RoleGrants::StreetId),
        ),
        (
            RoleGrants::Table.into_iden(),
            uuid_null(RoleGrants::DepartmentId),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Departments::Table)
                    .col(pk_uuid(Departments::Id))
                    .col(uuid(Departments::DistrictId))
                    .col(uuid_null(Departments::StreetId))
                    .col(string(Departments::Name))
                    .col(timestamp_with_time_zone(Departments::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Departments::Table, Departments::DistrictId)
                            .to(Districts::Table, Districts::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Departments::Table, Departments::StreetId)
                            .to(Streets::Table, Streets::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Escalations::Table)
                    .col(pk_uuid(Escalations::Id))
                    .col(uuid(Escalations::OrderId))
                    .col(uuid(Escalations::CommunityId))
                    .col(uuid(Escalations::StreetId))
                    .col(uuid(Escalations::DistrictId))
                    .col(string(Escalations::Level))
                    .col(uuid(Escalations::DepartmentId))
                    .col(string(Escalations::Status))
                    .col(text(Escalations::Reason))
                    .col(uuid(Escalations::EscalatedBy))
                    .col(timestamp_with_time_zone(Escalations::CreatedAt))
                    .col(timestamp_with_time_zone(Escalations::DueAt))
                    .col(uuid_null(Escalations::AcceptedBy))
                    .col(timestamp_with_time_zone_null(Escalations::AcceptedAt))
                    .col(uuid_null(Escalations::ClosedBy))
                    .col(timestamp_with_time_zone_null(Escalations::ClosedAt))
                    .col(text_null(Escalations::Outcome))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Escalations::Table, Escalations::OrderId)
                            .to(Orders::Table, Orders::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Escalations::Table, Escalations::DepartmentId)
                            .to(Departments::Table, Departments::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("idx_escalations_order", vec![Escalations::OrderId]),
            (
                "idx_escalations_department",
                vec![Escalations::DepartmentId, Escalations::Status],
            ),
            (
                "idx_escalations_street",
                vec![Escalations::StreetId, Escalations::Status],
            ),
            (
                "idx_escalations_district",
                vec![Escalations::DistrictId, Escalations::Status],
            ),
            (
                "idx_escalations_community",
                vec![Escalations::CommunityId, Escalations::CreatedAt],
            ),
        ] {
            manager
                .create_index(index(name, Escalations::Table, columns))
                .await?;
        }
        crate::add_columns(manager, columns()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::drop_columns(manager, columns()).await?;
        crate::drop_tables(
            manager,
            vec![
                Escalations::Table.into_iden(),
                Departments::Table.into_iden(),
            ],
        )
        .await
    }
}

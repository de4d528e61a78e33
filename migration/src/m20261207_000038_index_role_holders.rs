//! Who holds a role in a place (a community's STAFF to notify, its Party members to route to,
//! a street's staff) was a scan of every grant, and every confirmed resident holds one: a new
//! order paid for it in its transaction. One index per kind of place.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: [(&str, &str); 3] = [
    ("idx_role_grants_community_role", "community_id"),
    ("idx_role_grants_street_role", "street_id"),
    ("idx_role_grants_department_role", "department_id"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, place) in INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Alias::new("role_grants"))
                        .col(Alias::new(place))
                        .col(Alias::new("role"))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in INDEXES {
            manager
                .drop_index(
                    Index::drop()
                        .name(name)
                        .table(Alias::new("role_grants"))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

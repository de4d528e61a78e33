use sea_orm::entity::prelude::*;

/// A key ADMIN issued to a city hotline for filing Open311 requests into one community. Only
/// its SHA-256 is kept; the key itself was shown once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub community_id: Uuid,
    #[sea_orm(unique)]
    pub key_hash: String,
    /// Orders filed with it are placed on a resident's behalf by this ADMIN.
    pub issued_by: Uuid,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

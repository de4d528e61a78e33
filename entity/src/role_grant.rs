use sea_orm::entity::prelude::*;

use crate::enums::Role;

/// A role held by a user, where: in a community, a street (STREET_STAFF), a department
/// (DEPARTMENT_STAFF), or everywhere (ADMIN, all three `None`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "role_grants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
    pub community_id: Option<Uuid>,
    pub street_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub granted_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

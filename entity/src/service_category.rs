use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_categories")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    /// How long an order may wait before someone accepts it.
    pub response_minutes: i32,
    pub created_at: DateTimeUtc,
    /// Retired categories take no new orders; old orders keep them.
    pub active: bool,
    /// How long an order may take from placing to completion.
    pub completion_minutes: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

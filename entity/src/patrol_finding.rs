use sea_orm::entity::prelude::*;

/// A work order a grid worker filed from a patrol, and where they found it.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "patrol_findings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_id: Uuid,
    pub task_id: Uuid,
    pub point_id: Option<Uuid>,
    pub latitude: f64,
    pub longitude: f64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

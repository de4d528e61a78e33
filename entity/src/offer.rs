use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Goods or a service a merchant gives for points.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "offers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub merchant_id: Uuid,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub points_cost: i64,
    /// `None` = unlimited. Lowered only while positive, in the same statement.
    pub stock: Option<i32>,
    /// Most redemptions one resident may hold (pending or verified); `None` = no limit.
    pub per_user_limit: Option<i32>,
    pub valid_from: DateTimeUtc,
    pub valid_until: DateTimeUtc,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

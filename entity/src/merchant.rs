use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::enums::{MerchantKind, MerchantStatus};

/// A member of the merchant alliance (商圈服务联盟).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "merchants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub community_id: Uuid,
    pub owner_id: Uuid,
    pub kind: MerchantKind,
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub category: String,
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
    pub phone: String,
    pub opening_hours: String,
    pub status: MerchantStatus,
    /// Why it was suspended.
    #[sea_orm(column_type = "Text", nullable)]
    pub status_reason: Option<String>,
    pub reviewed_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

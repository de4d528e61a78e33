use sea_orm::entity::prelude::*;

use crate::enums::{PhotoPurpose, PhotoReview};

/// A photo a user uploaded straight to object storage, from the upload URL the server handed
/// out until it is attached to what it shows.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "photos")]
pub struct Model {
    /// Its key in object storage (`fileKey` in the API).
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub owner_id: Uuid,
    pub purpose: PhotoPurpose,
    pub content_type: String,
    /// The size announced when the upload URL was requested.
    pub byte_size: i64,
    pub order_id: Option<Uuid>,
    pub merchant_id: Option<Uuid>,
    pub wish_id: Option<Uuid>,
    pub review: PhotoReview,
    /// WeChat's id of the image check, which its verdict push names.
    pub trace_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub attached_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

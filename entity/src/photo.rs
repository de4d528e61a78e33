use sea_orm::entity::prelude::*;

use crate::enums::{PhotoPurpose, PhotoReview};

/// A photo a user uploaded straight to object storage, from the upload URL the server handed
/// out until it is attached to what it shows.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "photos")]
pub struct Model {
    /// The key its upload link writes to (`fileKey` in the API).
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// Where the checked bytes are served from once checked: a key no upload link signed.
    /// `None` for photos attached before such keys existed, which are served from `key`.
    pub stored_key: Option<String>,
    pub owner_id: Uuid,
    pub purpose: PhotoPurpose,
    pub content_type: String,
    /// The size announced when the upload URL was requested.
    pub byte_size: i64,
    pub order_id: Option<Uuid>,
    pub merchant_id: Option<Uuid>,
    pub wish_id: Option<Uuid>,
    pub patrol_signoff_id: Option<Uuid>,
    pub review: PhotoReview,
    /// WeChat's id of the image check, which its verdict push names.
    pub trace_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub attached_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The object that is shown.
    pub fn served_key(&self) -> &str {
        self.stored_key.as_deref().unwrap_or(&self.key)
    }
}

use sea_orm::entity::prelude::*;

use crate::enums::Delivery;

/// A notification for one person, kept until they read it, and the job of sending it to
/// their phone outside the app.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbox_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub notification_id: Uuid,
    pub user_id: Uuid,
    /// The notification kind (`notifications::NotificationKind`), as its serde name.
    pub kind: String,
    pub order_id: Option<Uuid>,
    pub redemption_id: Option<Uuid>,
    #[sea_orm(column_type = "Text")]
    pub message: String,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
    pub delivery: Delivery,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

/// One-time subscription-message consents a person gave for one kind of message.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subscribe_consents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// The message kind, as the app names it (e.g. ORDER_DISPATCHED_TO_YOU).
    pub template_key: String,
    /// Messages of this kind that may still be sent.
    pub remaining: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

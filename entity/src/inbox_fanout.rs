use sea_orm::entity::prelude::*;

/// A notification for every Party member of a community, committed with the change it
/// reports and not yet filed in their inboxes; the fan-out worker files it and removes it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbox_fanouts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub notification_id: Uuid,
    /// As `inbox_message::Model::kind`.
    pub kind: String,
    pub order_id: Option<Uuid>,
    pub redemption_id: Option<Uuid>,
    #[sea_orm(column_type = "Text")]
    pub message: String,
    pub created_at: DateTimeUtc,
    /// The community whose Party members hear it.
    pub members_of: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

/// A comment on a topic under discussion, or (with a title) a proposal STAFF put to it; STAFF
/// may hide either, with a reason.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "topic_comments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub topic_id: Uuid,
    pub author_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub hidden_at: Option<DateTimeUtc>,
    pub hidden_by: Option<Uuid>,
    pub hidden_reason: Option<String>,
    pub created_at: DateTimeUtc,
    /// Set on a proposal (方案), null on a comment.
    pub proposal_title: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

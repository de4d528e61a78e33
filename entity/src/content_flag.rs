use sea_orm::entity::prelude::*;

/// User-written text stored without content security's clearance, for STAFF to look at.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "content_flags")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub author_id: Uuid,
    /// The author's community, whose STAFF review it.
    pub community_id: Option<Uuid>,
    /// Which input it was (title, description, …).
    pub field: String,
    #[sea_orm(column_type = "Text")]
    pub excerpt: String,
    /// UNCHECKED (WeChat unreachable) or REVIEW (WeChat's verdict).
    pub reason: String,
    pub created_at: DateTimeUtc,
    pub resolved_by: Option<Uuid>,
    pub resolved_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

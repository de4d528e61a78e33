use sea_orm::entity::prelude::*;

/// A callback visit (回访): STAFF asking the resident how the service went.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_callbacks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub order_id: Uuid,
    pub staff_id: Uuid,
    /// Whether the resident was reached at all.
    pub reached: bool,
    /// What they said, when reached.
    pub satisfied: Option<bool>,
    #[sea_orm(column_type = "Text")]
    pub note: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

/// Points may move from `giver_id` to `receiver_id`: the giver accepted the receiver as
/// family, or STAFF confirmed that both live at `address`. It holds while both are still
/// registered there.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "household_links")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub giver_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub receiver_id: Uuid,
    pub community_id: Uuid,
    /// The address both shared when it was confirmed.
    pub address: String,
    /// The giver, or the STAFF member who confirmed the household.
    pub confirmed_by: Uuid,
    pub confirmed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

/// How many points a community settles as one yuan with its merchants (and the property
/// company's fee offsets).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "settlement_rates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub community_id: Uuid,
    pub points_per_yuan: i64,
    pub updated_by: Uuid,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

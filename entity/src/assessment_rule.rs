use sea_orm::entity::prelude::*;

/// A community's yearly assessment of its Party members (党建超市): the bar of confirmed
/// service points, and the least number of orders, activities and wishes required.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assessment_rules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub community_id: Uuid,
    pub bar_points: i64,
    pub min_orders: i64,
    pub min_activities: i64,
    pub min_wishes: i64,
    pub updated_by: Uuid,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

use crate::enums::{EscalationLevel, EscalationStatus};

/// One hop of an order up to a department (吹哨报到). An order has at most one OPEN or
/// ACCEPTED escalation; a street passing it on closes its hop and opens the district's.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "escalations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub order_id: Uuid,
    /// Where the order belongs, for the street's and district's lists.
    pub community_id: Uuid,
    pub street_id: Uuid,
    pub district_id: Uuid,
    pub level: EscalationLevel,
    pub department_id: Uuid,
    pub status: EscalationStatus,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    pub escalated_by: Uuid,
    pub created_at: DateTimeUtc,
    /// This level's deadline to resolve it.
    pub due_at: DateTimeUtc,
    pub accepted_by: Option<Uuid>,
    pub accepted_at: Option<DateTimeUtc>,
    pub closed_by: Option<Uuid>,
    pub closed_at: Option<DateTimeUtc>,
    /// The result when RESOLVED; why, when RETURNED or PASSED_ON.
    #[sea_orm(column_type = "Text", nullable)]
    pub outcome: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

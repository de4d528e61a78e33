use sea_orm::entity::prelude::*;

use crate::enums::{AlertLevel, OrderChannel, OrderStatus, Urgency};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub community_id: Uuid,
    /// The requester's grid when they placed it, for its grid worker.
    pub grid_id: Option<Uuid>,
    pub requester_id: Uuid,
    pub category_id: Uuid,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub address: String,
    pub contact_phone: String,
    pub preferred_time: Option<DateTimeUtc>,
    pub urgency: Urgency,
    pub status: OrderStatus,
    /// The member staff dispatched it to (DISPATCHED), kept after acceptance.
    pub assignee_id: Option<Uuid>,
    /// The member who accepted it.
    pub taker_id: Option<Uuid>,
    pub response_due_at: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
    pub completed_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub completion_summary: Option<String>,
    pub minutes_spent: Option<i32>,
    pub photo_urls: Option<Json>,
    pub rating_stars: Option<i16>,
    #[sea_orm(column_type = "Text", nullable)]
    pub rating_comment: Option<String>,
    pub rated_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub cancel_reason: Option<String>,
    /// Bumped by every transition: the optimistic lock that makes each step happen once.
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub channel: OrderChannel,
    /// Who is served when STAFF placed it for someone without an account (else the
    /// requester).
    pub resident_name: Option<String>,
    /// The STAFF member or operator who placed it on someone's behalf.
    pub placed_by_id: Option<Uuid>,
    /// Deadline to complete it once placed (the category's setting; urgent halves it).
    pub completion_due_at: Option<DateTimeUtc>,
    pub alert_level: AlertLevel,
    pub alert_changed_at: Option<DateTimeUtc>,
    /// While ESCALATED: the department it is with …
    pub escalated_to_id: Option<Uuid>,
    /// … and, at street level, the street whose STREET_STAFF act for that department.
    pub escalated_street_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The columns every order list shows, in `LISTED_COLUMNS` order: a list whose selection reads
/// nothing else selects only these instead of all of the row's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub id: Uuid,
    pub community_id: Uuid,
    pub requester_id: Uuid,
    pub category_id: Uuid,
    pub title: String,
    pub urgency: Urgency,
    pub status: OrderStatus,
    pub response_due_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

pub const LISTED_COLUMNS: [Column; 9] = [
    Column::Id,
    Column::CommunityId,
    Column::RequesterId,
    Column::CategoryId,
    Column::Title,
    Column::Urgency,
    Column::Status,
    Column::ResponseDueAt,
    Column::CreatedAt,
];

impl From<&Model> for Listed {
    fn from(order: &Model) -> Self {
        Self {
            id: order.id,
            community_id: order.community_id,
            requester_id: order.requester_id,
            category_id: order.category_id,
            title: order.title.clone(),
            urgency: order.urgency,
            status: order.status,
            response_due_at: order.response_due_at,
            created_at: order.created_at,
        }
    }
}

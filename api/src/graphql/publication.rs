//! Objections to results published as notices (公示): topics' votes, streets' red/black lists.
use async_graphql::{ID, SimpleObject};
use chrono::{DateTime, Utc};
use entity::publication_objection;
use uuid::Uuid;

use super::to_id;

/// An objection to a published result, and the answer it got. Who objected is not shown.
#[derive(SimpleObject)]
pub struct ResultObjection {
    id: ID,
    reason: String,
    at: DateTime<Utc>,
    /// I raised it.
    mine: bool,
    /// Null until it is answered.
    answered_at: Option<DateTime<Utc>>,
    answer: Option<String>,
}

impl ResultObjection {
    pub fn new(objection: publication_objection::Model, me: Uuid) -> Self {
        Self {
            id: to_id(objection.id),
            reason: objection.reason,
            at: objection.created_at,
            mine: objection.objector_id == me,
            answered_at: objection.answered_at,
            answer: objection.answer,
        }
    }
}

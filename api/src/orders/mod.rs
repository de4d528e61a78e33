//! The four-list service loop: residents order (点单), staff dispatch or publish (派单),
//! Party members take and complete (接单), residents rate (评单).
//!
//! Every step runs in one write transaction: read the order, ask `workflow` whether the step
//! is allowed, then update it guarded by its `version` (so two concurrent steps cannot both
//! succeed) and append the event to its timeline.
pub mod alerts;
pub mod budgets;
pub mod callbacks;
pub mod categories;
pub mod commands;
pub mod escalations;
pub mod pool;
pub mod queries;
pub mod routing;
pub mod stats;
pub mod workflow;

use chrono::{DateTime, Utc};
use entity::{
    enums::{OrderStatus, Role},
    order,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait};
use uuid::Uuid;
use workflow::{AWAITING_ACCEPTANCE, Relation};

use crate::{
    error::{AppError, AppResult},
    identity::Actor,
    organisation,
};

pub use budgets::PlacingLimits;
pub use commands::{
    CompleteOrderInput, CompletionReport, NewOrder, OnBehalf, PlaceOrderInput, cancel, complete,
    decline, dispatch, hand_back, place, place_on_behalf, publish, rate, reopen, report_progress,
    take, transfer,
};
pub use pool::{PoolCache, order_pool};
pub use queries::{
    MAX_EVENTS_LISTED, OrderFilter, OrderPage, OrderRow, PageReads, Reads, Requesters,
    dispatch_queue, events_of, grid_orders, my_orders, my_tasks,
};
pub use routing::Placings;

pub fn relation(actor: &Actor, order: &order::Model) -> Relation {
    Relation {
        requester: order.requester_id == actor.id,
        staff: actor.roles.is_staff_of(order.community_id),
        assignee: order.assignee_id == Some(actor.id),
        taker: order.taker_id == Some(actor.id),
        member: actor.roles.is_member_of(order.community_id),
        department: order
            .escalated_to_id
            .is_some_and(|department| actor.roles.is_department_staff_of(department))
            || order
                .escalated_street_id
                .is_some_and(|street| actor.roles.is_street_staff_of(street)),
    }
}

/// Who may see an order at all.
pub fn can_view(actor: &Actor, order: &order::Model) -> bool {
    let who = relation(actor, order);
    who.requester
        || who.staff
        || who.assignee
        || who.taker
        || who.department
        || (who.member && order.status == OrderStatus::Open)
}

/// Who may see the contact phone in full: those who have to call the resident.
pub fn can_see_contact(actor: &Actor, order: &order::Model) -> bool {
    let who = relation(actor, order);
    who.requester || who.staff || who.assignee || who.taker || who.department
}

pub fn is_overdue(order: &order::Listed, now: DateTime<Utc>) -> bool {
    AWAITING_ACCEPTANCE.contains(&order.status) && now > order.response_due_at
}

/// Low ratings are followed up by a callback visit (回访) until one is recorded.
pub fn needs_follow_up(order: &order::Model, callbacks_recorded: usize) -> bool {
    order.rating_stars.is_some_and(|stars| stars <= 2) && callbacks_recorded == 0
}

/// An order for those who may see it: those involved (`can_view`) and its grid's worker.
pub async fn get(db: &DatabaseConnection, actor: &Actor, id: Uuid) -> AppResult<order::Model> {
    let order = find(db, id).await?;
    let grid_worker = match order.grid_id {
        Some(grid) if actor.roles.has_role(Role::GridWorker) => {
            organisation::get_grid(db, grid).await?.worker_id == Some(actor.id)
        }
        _ => false,
    };
    if !(can_view(actor, &order) || grid_worker) {
        return Err(AppError::forbidden("you may not see this order"));
    }
    Ok(order)
}

pub(crate) async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<order::Model> {
    order::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("order"))
}

/// An order with every field set, for unit tests to adjust.
#[cfg(test)]
pub(crate) fn sample_order() -> order::Model {
    use entity::enums::{AlertLevel, OrderChannel, Urgency};
    let now = Utc::now();
    order::Model {
        id: Uuid::now_v7(),
        community_id: Uuid::now_v7(),
        grid_id: None,
        requester_id: Uuid::now_v7(),
        category_id: Uuid::now_v7(),
        title: "修水管".into(),
        description: String::new(),
        address: String::new(),
        contact_phone: String::new(),
        preferred_time: None,
        urgency: Urgency::Normal,
        status: OrderStatus::PendingDispatch,
        assignee_id: None,
        taker_id: None,
        response_due_at: now,
        accepted_at: None,
        completed_at: None,
        completion_summary: None,
        minutes_spent: None,
        photo_urls: None,
        rating_stars: None,
        rating_comment: None,
        rated_at: None,
        cancel_reason: None,
        version: 0,
        created_at: now,
        updated_at: now,
        channel: OrderChannel::App,
        resident_name: None,
        placed_by_id: None,
        completion_due_at: None,
        alert_level: AlertLevel::Green,
        alert_changed_at: None,
        escalated_to_id: None,
        escalated_street_id: None,
    }
}

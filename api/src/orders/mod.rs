//! The four-list service loop: residents order (点单), staff dispatch or publish (派单),
//! Party members take and complete (接单), residents rate (评单).
//!
//! Every step runs in one write transaction: read the order, ask `workflow` whether the step
//! is allowed, then update it guarded by its `version` (so two concurrent steps cannot both
//! succeed) and append the event to its timeline.
pub mod categories;
pub mod workflow;

use chrono::{DateTime, Utc};
use entity::{
    enums::{OrderStatus, Role, Urgency},
    order, order_event, role_grant, user,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::sync::Arc;
use uuid::Uuid;
use workflow::{AWAITING_ACCEPTANCE, Refusal, Relation, Step};

use crate::{
    error::{AppError, AppResult},
    events::{Committed, DomainEvent},
    identity::{self, Actor},
    infra::cache::NearCache,
    infra::db::begin_write,
    infra::shared_store::SharedStore,
    pagination::{Page, PageRequest, fetch_page},
    points, validate,
};

/// Longest a completion report may claim: one day of work.
const MAX_MINUTES_SPENT: i32 = 24 * 60;
const MAX_PHOTOS: usize = 9;

pub fn relation(actor: &Actor, order: &order::Model) -> Relation {
    Relation {
        requester: order.requester_id == actor.id,
        staff: actor.roles.is_staff_of(order.community_id),
        assignee: order.assignee_id == Some(actor.id),
        taker: order.taker_id == Some(actor.id),
        member: actor.roles.is_member_of(order.community_id),
    }
}

/// Who may see an order at all.
pub fn can_view(actor: &Actor, order: &order::Model) -> bool {
    let who = relation(actor, order);
    who.requester
        || who.staff
        || who.assignee
        || who.taker
        || (who.member && order.status == OrderStatus::Open)
}

/// Who may see the contact phone in full: those who have to call the resident.
pub fn can_see_contact(actor: &Actor, order: &order::Model) -> bool {
    let who = relation(actor, order);
    who.requester || who.staff || who.assignee || who.taker
}

pub fn is_overdue(order: &order::Model, now: DateTime<Utc>) -> bool {
    AWAITING_ACCEPTANCE.contains(&order.status) && now > order.response_due_at
}

/// Low ratings are followed up by a callback visit (回访).
pub fn needs_follow_up(order: &order::Model) -> bool {
    order.rating_stars.is_some_and(|stars| stars <= 2)
}

pub async fn get(db: &DatabaseConnection, actor: &Actor, id: Uuid) -> AppResult<order::Model> {
    let order = find(db, id).await?;
    if !can_view(actor, &order) {
        return Err(AppError::forbidden("you may not see this order"));
    }
    Ok(order)
}

async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<order::Model> {
    order::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("order"))
}

/// Most steps `events` lists, so that an order inside a list costs a bounded amount.
pub const MAX_EVENTS_LISTED: u64 = 50;

pub async fn events(db: &DatabaseConnection, order_id: Uuid) -> AppResult<Vec<order_event::Model>> {
    Ok(order_event::Entity::find()
        .filter(order_event::Column::OrderId.eq(order_id))
        .order_by_asc(order_event::Column::Id)
        .limit(MAX_EVENTS_LISTED)
        .all(db)
        .await?)
}

pub struct PlaceOrderInput {
    pub category_id: Uuid,
    pub title: String,
    pub description: String,
    pub address: String,
    pub contact_phone: String,
    pub preferred_time: Option<DateTime<Utc>>,
    pub urgency: Option<Urgency>,
}

pub async fn place(
    db: &DatabaseConnection,
    catalog: &categories::Catalog,
    actor: &Actor,
    input: PlaceOrderInput,
) -> AppResult<Committed<order::Model>> {
    let title = validate::text("title", &input.title, 1, 100)?;
    let description = validate::text("description", &input.description, 0, 2000)?;
    let address = validate::text("address", &input.address, 1, 200)?;
    let contact_phone = validate::phone("contactPhone", &input.contact_phone)?;
    let requester = identity::get_user(db, actor.id).await?;
    let community_id = requester.community_id.ok_or_else(|| {
        AppError::bad_input("set your community in your profile before placing an order")
    })?;
    let category = catalog.get_or_load(db, input.category_id).await?;
    let urgency = input.urgency.unwrap_or(Urgency::Normal);
    // Urgent requests get half the category's response time.
    let response_minutes = match urgency {
        Urgency::Normal => category.response_minutes,
        Urgency::Urgent => (category.response_minutes / 2).max(10),
    };
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let order = order::ActiveModel {
        id: Set(Uuid::now_v7()),
        community_id: Set(community_id),
        requester_id: Set(actor.id),
        category_id: Set(category.id),
        title: Set(title),
        description: Set(description),
        address: Set(address),
        contact_phone: Set(contact_phone),
        preferred_time: Set(input.preferred_time),
        urgency: Set(urgency),
        status: Set(OrderStatus::PendingDispatch),
        assignee_id: Set(None),
        taker_id: Set(None),
        response_due_at: Set(now + chrono::Duration::minutes(response_minutes.into())),
        accepted_at: Set(None),
        completed_at: Set(None),
        completion_summary: Set(None),
        minutes_spent: Set(None),
        photo_urls: Set(None),
        rating_stars: Set(None),
        rating_comment: Set(None),
        rated_at: Set(None),
        cancel_reason: Set(None),
        version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    record_event(&txn, &order, actor.id, "PLACE", None, None).await?;
    txn.commit().await?;
    Ok(stepped(order, None))
}

pub async fn dispatch(
    db: &DatabaseConnection,
    actor: &Actor,
    order_id: Uuid,
    assignee_id: Uuid,
    note: Option<String>,
) -> AppResult<Committed<order::Model>> {
    let note = validate::optional_text("note", note.as_deref(), 500)?;
    let changes = order::ActiveModel {
        assignee_id: Set(Some(assignee_id)),
        ..Default::default()
    };
    transition(
        db,
        actor,
        order_id,
        Step::Dispatch,
        note,
        changes,
        |txn, order| {
            Box::pin(async move {
                if assignee_id == order.requester_id {
                    return Err(AppError::bad_input(
                        "the resident who placed the order cannot be dispatched it",
                    ));
                }
                let assignee_is_member = role_grant::Entity::find()
                    .filter(role_grant::Column::UserId.eq(assignee_id))
                    .filter(role_grant::Column::Role.eq(Role::PartyMember))
                    .filter(role_grant::Column::CommunityId.eq(order.community_id))
                    .one(txn)
                    .await?
                    .is_some();
                if assignee_is_member {
                    Ok(())
                } else {
                    Err(AppError::bad_input(
                        "the assignee is not an approved Party member of this community",
                    ))
                }
            })
        },
    )
    .await?
    .commit()
    .await
}

pub async fn publish(
    db: &DatabaseConnection,
    actor: &Actor,
    order_id: Uuid,
) -> AppResult<Committed<order::Model>> {
    transition(
        db,
        actor,
        order_id,
        Step::Publish,
        None,
        Default::default(),
        no_check,
    )
    .await?
    .commit()
    .await
}

pub async fn take(
    db: &DatabaseConnection,
    actor: &Actor,
    order_id: Uuid,
) -> AppResult<Committed<order::Model>> {
    let changes = order::ActiveModel {
        taker_id: Set(Some(actor.id)),
        accepted_at: Set(Some(Utc::now())),
        ..Default::default()
    };
    transition(db, actor, order_id, Step::Take, None, changes, no_check)
        .await?
        .commit()
        .await
}

pub async fn decline(
    db: &DatabaseConnection,
    actor: &Actor,
    order_id: Uuid,
    reason: String,
) -> AppResult<Committed<order::Model>> {
    let reason = validate::text("reason", &reason, 1, 500)?;
    let changes = order::ActiveModel {
        assignee_id: Set(None),
        ..Default::default()
    };
    transition(
        db,
        actor,
        order_id,
        Step::Decline,
        Some(reason),
        changes,
        no_check,
    )
    .await?
    .commit()
    .await
}

pub struct CompleteOrderInput {
    pub summary: String,
    pub minutes_spent: i32,
    pub photo_urls: Vec<String>,
}

pub async fn complete(
    db: &DatabaseConnection,
    actor: &Actor,
    order_id: Uuid,
    input: CompleteOrderInput,
) -> AppResult<Committed<order::Model>> {
    let summary = validate::text("summary", &input.summary, 1, 1000)?;
    if !(1..=MAX_MINUTES_SPENT).contains(&input.minutes_spent) {
        return Err(AppError::bad_input(format!(
            "minutesSpent must be between 1 and {MAX_MINUTES_SPENT}"
        )));
    }
    if input.photo_urls.len() > MAX_PHOTOS {
        return Err(AppError::bad_input(format!("at most {MAX_PHOTOS} photos")));
    }
    for url in &input.photo_urls {
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 500 {
            return Err(AppError::bad_input(
                "photoUrls must be http(s) URLs of at most 500 characters",
            ));
        }
    }
    let changes = order::ActiveModel {
        completion_summary: Set(Some(summary)),
        minutes_spent: Set(Some(input.minutes_spent)),
        photo_urls: Set(Some(serde_json::json!(input.photo_urls))),
        completed_at: Set(Some(Utc::now())),
        ..Default::default()
    };
    transition(db, actor, order_id, Step::Complete, None, changes, no_check)
        .await?
        .commit()
        .await
}

/// Rating also credits the taker's time (see `points::records::record_order_service`),
/// at most `minutes_cap` of it, in the same transaction.
pub async fn rate(
    db: &DatabaseConnection,
    actor: &Actor,
    order_id: Uuid,
    stars: i32,
    comment: Option<String>,
    minutes_cap: i32,
) -> AppResult<Committed<order::Model>> {
    if !(1..=5).contains(&stars) {
        return Err(AppError::bad_input("stars must be between 1 and 5"));
    }
    let comment = validate::optional_text("comment", comment.as_deref(), 500)?;
    let changes = order::ActiveModel {
        rating_stars: Set(Some(stars as i16)),
        rating_comment: Set(comment.clone()),
        rated_at: Set(Some(Utc::now())),
        ..Default::default()
    };
    let applied = transition(db, actor, order_id, Step::Rate, comment, changes, no_check).await?;
    points::records::record_order_service(&applied.txn, &applied.order, stars, minutes_cap).await?;
    applied.commit().await
}

pub async fn cancel(
    db: &DatabaseConnection,
    actor: &Actor,
    order_id: Uuid,
    reason: String,
) -> AppResult<Committed<order::Model>> {
    let reason = validate::text("reason", &reason, 1, 500)?;
    let changes = order::ActiveModel {
        cancel_reason: Set(Some(reason.clone())),
        ..Default::default()
    };
    transition(
        db,
        actor,
        order_id,
        Step::Cancel,
        Some(reason),
        changes,
        no_check,
    )
    .await?
    .commit()
    .await
}

fn no_check<'a>(
    _: &'a DatabaseTransaction,
    _: &'a order::Model,
) -> futures::future::BoxFuture<'a, AppResult<()>> {
    Box::pin(async { Ok(()) })
}

/// A step applied inside a still-open transaction, so that its consequences (points for a
/// rated order) commit with it.
struct Applied {
    txn: DatabaseTransaction,
    order: order::Model,
    step: Step,
}

impl Applied {
    async fn commit(self) -> AppResult<Committed<order::Model>> {
        self.txn.commit().await?;
        Ok(stepped(self.order, Some(self.step)))
    }
}

fn stepped(order: order::Model, step: Option<Step>) -> Committed<order::Model> {
    let event = DomainEvent::OrderStepped {
        order: Box::new(order.clone()),
        step,
    };
    Committed::new(order, event)
}

/// Applies one workflow step: `changes` are the step's own columns, `check` any rule that needs
/// the database (run inside the transaction, after the state machine agreed).
async fn transition<F>(
    db: &DatabaseConnection,
    actor: &Actor,
    order_id: Uuid,
    step: Step,
    note: Option<String>,
    mut changes: order::ActiveModel,
    check: F,
) -> AppResult<Applied>
where
    F: for<'a> FnOnce(
        &'a DatabaseTransaction,
        &'a order::Model,
    ) -> futures::future::BoxFuture<'a, AppResult<()>>,
{
    let txn = begin_write(db).await?;
    let order = find(&txn, order_id).await?;
    let to =
        workflow::next_status(order.status, step, relation(actor, &order)).map_err(|refusal| {
            match refusal {
                Refusal::Forbidden(why) => AppError::forbidden(why),
                Refusal::WrongState(why) => AppError::Conflict(why),
            }
        })?;
    check(&txn, &order).await?;
    let now = Utc::now();
    changes.status = Set(to);
    changes.version = Set(order.version + 1);
    changes.updated_at = Set(now);
    let updated = order::Entity::update_many()
        .set(changes)
        .filter(order::Column::Id.eq(order.id))
        .filter(order::Column::Version.eq(order.version))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        // Only reachable on PostgreSQL, where another transaction committed a step between
        // our read and our update (SQLite's IMMEDIATE transaction already serialised us).
        return Err(AppError::conflict(
            "someone else changed this order a moment ago (e.g. another member took it); reload",
        ));
    }
    let from = order.status;
    let order = find(&txn, order_id).await?;
    record_event(&txn, &order, actor.id, step.action(), Some(from), note).await?;
    Ok(Applied { txn, order, step })
}

async fn record_event(
    txn: &DatabaseTransaction,
    order: &order::Model,
    actor_id: Uuid,
    action: &str,
    from: Option<OrderStatus>,
    note: Option<String>,
) -> AppResult<()> {
    order_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        order_id: Set(order.id),
        actor_id: Set(actor_id),
        action: Set(action.to_owned()),
        from_status: Set(from),
        to_status: Set(order.status),
        note: Set(note),
        created_at: Set(order.updated_at),
    }
    .insert(txn)
    .await?;
    Ok(())
}

#[derive(Debug, Default, Clone, Copy)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub overdue_only: bool,
    pub needs_follow_up: bool,
}

impl OrderFilter {
    fn condition(self, now: DateTime<Utc>) -> Condition {
        let mut condition = Condition::all();
        if let Some(status) = self.status {
            condition = condition.add(order::Column::Status.eq(status));
        }
        if self.overdue_only {
            condition = condition
                .add(order::Column::Status.is_in(AWAITING_ACCEPTANCE))
                .add(order::Column::ResponseDueAt.lt(now));
        }
        if self.needs_follow_up {
            condition = condition.add(order::Column::RatingStars.lte(2));
        }
        condition
    }
}

async fn list(
    db: &DatabaseConnection,
    scope: Condition,
    filter: OrderFilter,
    page: PageRequest,
) -> AppResult<Page<order::Model>> {
    let select = order::Entity::find()
        .filter(scope)
        .filter(filter.condition(Utc::now()));
    fetch_page(db, select, order::Column::Id, page).await
}

pub async fn my_orders(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: OrderFilter,
    page: PageRequest,
) -> AppResult<Page<order::Model>> {
    let scope = Condition::all().add(order::Column::RequesterId.eq(actor.id));
    list(db, scope, filter, page).await
}

pub async fn dispatch_queue(
    db: &DatabaseConnection,
    actor: &Actor,
    community_id: Uuid,
    filter: OrderFilter,
    page: PageRequest,
) -> AppResult<Page<order::Model>> {
    if !actor.roles.is_staff_of(community_id) {
        return Err(AppError::forbidden(
            "only STAFF of this community may see its dispatch queue",
        ));
    }
    let scope = Condition::all().add(order::Column::CommunityId.eq(community_id));
    list(db, scope, filter, page).await
}

/// A page of the order pool with the orders' requesters, as members see it.
pub struct PoolPage {
    pub orders: Page<order::Model>,
    pub requesters: Vec<user::Model>,
}

/// Every member's app polls the pool, so each instance keeps its first pages; any order step
/// or profile change anywhere shows on the next read (see `cache::NearCache`).
pub type PoolCache = NearCache<PoolPage>;

pub async fn order_pool(
    db: &DatabaseConnection,
    store: &SharedStore,
    cache: &PoolCache,
    actor: &Actor,
    page: PageRequest,
) -> AppResult<Arc<PoolPage>> {
    let mut communities = actor.roles.member_communities();
    if communities.is_empty() {
        return Err(AppError::forbidden(
            "the order pool is for approved Party members; register with a community first",
        ));
    }
    communities.sort();
    let load = || load_pool(db, communities.clone(), page);
    if page.after.is_some() {
        return Ok(Arc::new(load().await?));
    }
    let key = communities
        .iter()
        .fold(page.first.to_string(), |key, id| format!("{key}:{id}"));
    cache.get_or_load(store, key, load).await
}

async fn load_pool(
    db: &DatabaseConnection,
    communities: Vec<Uuid>,
    page: PageRequest,
) -> AppResult<PoolPage> {
    let scope = Condition::all()
        .add(order::Column::CommunityId.is_in(communities))
        .add(order::Column::Status.eq(OrderStatus::Open));
    let orders = list(db, scope, OrderFilter::default(), page).await?;
    let requesters = user::Entity::find()
        .filter(user::Column::Id.is_in(orders.items.iter().map(|order| order.requester_id)))
        .all(db)
        .await?;
    Ok(PoolPage { orders, requesters })
}

/// Orders a member took, and those dispatched to them awaiting an answer.
pub async fn my_tasks(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: OrderFilter,
    page: PageRequest,
) -> AppResult<Page<order::Model>> {
    let scope = Condition::any()
        .add(order::Column::TakerId.eq(actor.id))
        .add(
            Condition::all()
                .add(order::Column::AssigneeId.eq(actor.id))
                .add(order::Column::Status.eq(OrderStatus::Dispatched)),
        );
    list(db, scope, filter, page).await
}

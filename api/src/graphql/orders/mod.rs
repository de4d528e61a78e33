//! Orders in the API: the object types (`Order`, its timeline, callbacks and categories) here;
//! what apps send in `inputs`, the reads in `query`, the steps in `mutation`.
mod inputs;
mod mutation;
mod query;

pub use inputs::PlaceOrderInputGql;
pub use mutation::OrderMutation;
pub use query::OrderQuery;

use std::sync::Arc;

use tokio::sync::OnceCell;

use async_graphql::{
    Context, Enum, ID, InputObject, Lookahead, Object, Result, connection::Connection,
};
use chrono::{DateTime, Utc};
use entity::{enums, order, order_callback, order_event, service_category, user};

use super::{
    actor, connection,
    escalations::Escalation,
    identity::{self, User},
    known, load, load_category, load_children, load_community, load_user,
    organisation::{Community, Grid},
    parse_id,
    photos::{self, Photo},
    settle, state, to_id,
};
use crate::{
    error::AppError,
    orders::{
        self, CompleteOrderInput, CompletionReport, NewOrder, OrderFilter, OrderPage, OrderRow,
        PageReads, PlaceOrderInput, Reads, Requesters, callbacks, categories,
    },
    pagination::PageRequest,
};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::OrderStatus")]
pub enum OrderStatus {
    PendingDispatch,
    Dispatched,
    Open,
    Accepted,
    Completed,
    Rated,
    Cancelled,
    /// With a street or district department (see `escalations`).
    Escalated,
}

/// How an order came in.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::OrderChannel")]
pub enum OrderChannel {
    /// The resident, in the mini-program.
    App,
    /// STAFF, for a resident (代办).
    Staff,
    /// A hotline operator.
    Hotline,
    /// A grid worker's patrol finding (`reportPatrolFinding`).
    Patrol,
}

/// How late an order is running: YELLOW when not accepted in time or without progress for a
/// day after acceptance; RED after three days without progress, past its completion deadline,
/// or when its requester rated two orders ≤ 2 stars within 90 days.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::AlertLevel")]
pub enum AlertLevel {
    Green,
    Yellow,
    Red,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::Urgency")]
pub enum Urgency {
    Normal,
    /// Halves the category's response time.
    Urgent,
}

pub struct OrderCallback(order_callback::Model);

#[Object]
impl OrderCallback {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn staff(&self, ctx: &Context<'_>) -> Result<User> {
        Ok(User::from(load_user(ctx, self.0.staff_id).await?))
    }
    async fn reached(&self) -> bool {
        self.0.reached
    }
    async fn satisfied(&self) -> Option<bool> {
        self.0.satisfied
    }
    async fn note(&self) -> &str {
        &self.0.note
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct ServiceCategory(pub service_category::Model);

#[Object]
impl ServiceCategory {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// false: retired, takes no new orders.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// Orders not accepted within this many minutes show as overdue.
    async fn response_minutes(&self) -> i32 {
        self.0.response_minutes
    }
    /// From placing to completion (urgent orders get half).
    async fn completion_minutes(&self) -> i32 {
        self.0.completion_minutes
    }
}

/// An order as the API shows it. Lists whose nodes read only `LISTED_FIELDS` carry only the
/// listed columns; a field reading more loads the rest of the row (`whole`), as one query for
/// all the page's orders.
pub struct Order {
    listed: order::Listed,
    whole: OnceCell<order::Model>,
    /// The requester as the page read them, when it read them listed.
    requester: Option<user::Listed>,
}

impl From<order::Model> for Order {
    fn from(model: order::Model) -> Self {
        Self {
            listed: order::Listed::from(&model),
            whole: OnceCell::new_with(Some(model)),
            requester: None,
        }
    }
}

impl Order {
    fn of_page(row: OrderRow, requester: Option<user::Listed>) -> Self {
        let order = match row {
            OrderRow::Whole(model) => Self::from(*model),
            OrderRow::Listed(listed) => Self {
                listed,
                whole: OnceCell::new(),
                requester: None,
            },
        };
        Self { requester, ..order }
    }

    async fn whole(&self, ctx: &Context<'_>) -> Result<&order::Model> {
        self.whole
            .get_or_try_init(|| load(|r| &r.orders, ctx, self.listed.id, "order"))
            .await
    }
}

/// The fields of `Order` that read only `order::Listed`.
const LISTED_FIELDS: &[&str] = &[
    "__typename",
    "id",
    "status",
    "title",
    "urgency",
    "category",
    "community",
    "requester",
    "responseDueAt",
    "isOverdue",
    "createdAt",
];

#[Object]
impl Order {
    async fn id(&self) -> ID {
        to_id(self.listed.id)
    }
    async fn status(&self) -> OrderStatus {
        self.listed.status.into()
    }
    async fn title(&self) -> &str {
        &self.listed.title
    }
    async fn description(&self, ctx: &Context<'_>) -> Result<&str> {
        Ok(&self.whole(ctx).await?.description)
    }
    async fn address(&self, ctx: &Context<'_>) -> Result<&str> {
        Ok(&self.whole(ctx).await?.address)
    }
    /// In full for the requester, STAFF and the member doing the work; masked for others.
    async fn contact_phone(&self, ctx: &Context<'_>) -> Result<String> {
        let viewer = actor(ctx).await?;
        let order = self.whole(ctx).await?;
        Ok(if orders::can_see_contact(viewer, order) {
            order.contact_phone.clone()
        } else {
            crate::values::mask_phone(&order.contact_phone)
        })
    }
    async fn preferred_time(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        Ok(self.whole(ctx).await?.preferred_time)
    }
    async fn urgency(&self) -> Urgency {
        self.listed.urgency.into()
    }
    async fn category(&self, ctx: &Context<'_>) -> Result<ServiceCategory> {
        Ok(ServiceCategory(
            load_category(ctx, self.listed.category_id).await?,
        ))
    }
    async fn community(&self, ctx: &Context<'_>) -> Result<Community> {
        Ok(Community(
            load_community(ctx, self.listed.community_id).await?,
        ))
    }
    /// The requester's grid when they placed it.
    async fn grid(&self, ctx: &Context<'_>) -> Result<Option<Grid>> {
        let Some(id) = self.whole(ctx).await?.grid_id else {
            return Ok(None);
        };
        Ok(Some(Grid(
            Box::pin(crate::organisation::get_grid(&state(ctx)?.db, id)).await?,
        )))
    }
    async fn requester(&self, ctx: &Context<'_>) -> Result<User> {
        Ok(match &self.requester {
            Some(listed) => User::from(listed.clone()),
            None => User::from(load_user(ctx, self.listed.requester_id).await?),
        })
    }
    /// The member STAFF dispatched the order to.
    async fn assignee(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        optional_user(ctx, self.whole(ctx).await?.assignee_id).await
    }
    /// The member who accepted the order.
    async fn taker(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        optional_user(ctx, self.whole(ctx).await?.taker_id).await
    }
    /// Deadline for someone to accept the order.
    async fn response_due_at(&self) -> DateTime<Utc> {
        self.listed.response_due_at
    }
    /// Not accepted and past its response deadline.
    async fn is_overdue(&self) -> bool {
        orders::is_overdue(&self.listed, Utc::now())
    }
    async fn accepted_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        Ok(self.whole(ctx).await?.accepted_at)
    }
    async fn completed_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        Ok(self.whole(ctx).await?.completed_at)
    }
    async fn completion_summary(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.whole(ctx).await?.completion_summary.as_deref())
    }
    async fn minutes_spent(&self, ctx: &Context<'_>) -> Result<Option<i32>> {
        Ok(self.whole(ctx).await?.minutes_spent)
    }
    /// Photos of the problem (ORDER_PHOTO) and of the result (COMPLETION_PHOTO), oldest first.
    async fn photos(&self, ctx: &Context<'_>) -> Result<Vec<Photo>> {
        let rows = load_children(|r| &r.order_photos, ctx, self.listed.id).await?;
        photos::visible(ctx, rows).await
    }
    #[graphql(deprecation = "links typed in before uploads existed; use photos")]
    async fn photo_urls(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        Ok(self
            .whole(ctx)
            .await?
            .photo_urls
            .as_ref()
            .and_then(|urls| serde_json::from_value(urls.clone()).ok())
            .unwrap_or_default())
    }
    async fn rating_stars(&self, ctx: &Context<'_>) -> Result<Option<i32>> {
        Ok(self.whole(ctx).await?.rating_stars.map(i32::from))
    }
    async fn rating_comment(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.whole(ctx).await?.rating_comment.as_deref())
    }
    async fn rated_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        Ok(self.whole(ctx).await?.rated_at)
    }
    /// Rated 2 stars or less and not called back yet: STAFF follow up with a callback visit
    /// (回访).
    async fn needs_follow_up(&self, ctx: &Context<'_>) -> Result<bool> {
        let callbacks = load_children(|r| &r.order_callbacks, ctx, self.listed.id).await?;
        Ok(orders::needs_follow_up(
            self.whole(ctx).await?,
            callbacks.len(),
        ))
    }
    async fn cancel_reason(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.whole(ctx).await?.cancel_reason.as_deref())
    }
    async fn channel(&self, ctx: &Context<'_>) -> Result<OrderChannel> {
        Ok(self.whole(ctx).await?.channel.into())
    }
    /// Who is served, when STAFF placed it for someone without an account.
    async fn resident_name(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.whole(ctx).await?.resident_name.as_deref())
    }
    /// The STAFF member or operator who placed it on someone's behalf.
    async fn placed_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        optional_user(ctx, self.whole(ctx).await?.placed_by_id).await
    }
    /// Deadline to complete it (orders placed before deadlines existed have none).
    async fn completion_due_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        Ok(self.whole(ctx).await?.completion_due_at)
    }
    async fn alert_level(&self, ctx: &Context<'_>) -> Result<AlertLevel> {
        Ok(self.whole(ctx).await?.alert_level.into())
    }
    async fn alert_changed_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        Ok(self.whole(ctx).await?.alert_changed_at)
    }
    /// Callback visits, oldest first; for STAFF of the order's community (empty for others).
    #[graphql(complexity = "10 * child_complexity")]
    async fn callbacks(&self, ctx: &Context<'_>) -> Result<Vec<OrderCallback>> {
        if !actor(ctx)
            .await?
            .roles
            .is_staff_of(self.listed.community_id)
        {
            return Ok(Vec::new());
        }
        let rows = load_children(|r| &r.order_callbacks, ctx, self.listed.id).await?;
        Ok(rows.into_iter().map(OrderCallback).collect())
    }
    /// Its hops up to street and district departments, oldest first.
    #[graphql(complexity = "10 * child_complexity")]
    async fn escalations(&self, ctx: &Context<'_>) -> Result<Vec<Escalation>> {
        let rows = load_children(|r| &r.order_escalations, ctx, self.listed.id).await?;
        Ok(rows.into_iter().map(Escalation).collect())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.listed.created_at
    }
    async fn updated_at(&self, ctx: &Context<'_>) -> Result<DateTime<Utc>> {
        Ok(self.whole(ctx).await?.updated_at)
    }
    /// The audit trail, oldest first (its first 50 steps).
    #[graphql(complexity = "orders::MAX_EVENTS_LISTED as usize * child_complexity")]
    async fn events(&self, ctx: &Context<'_>) -> Result<Vec<OrderEvent>> {
        let events = load_children(|r| &r.order_events, ctx, self.listed.id).await?;
        Ok(events.into_iter().map(OrderEvent).collect())
    }
}

async fn optional_user(ctx: &Context<'_>, id: Option<uuid::Uuid>) -> Result<Option<User>> {
    let Some(id) = id else { return Ok(None) };
    Ok(Some(User::from(load_user(ctx, id).await?)))
}

pub struct OrderEvent(order_event::Model);

#[Object]
impl OrderEvent {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// PLACE, DISPATCH, PUBLISH, TAKE, DECLINE, COMPLETE, RATE or CANCEL.
    async fn action(&self) -> &str {
        &self.0.action
    }
    async fn from_status(&self) -> Option<OrderStatus> {
        self.0.from_status.map(Into::into)
    }
    async fn to_status(&self) -> OrderStatus {
        self.0.to_status.into()
    }
    async fn actor(&self, ctx: &Context<'_>) -> Result<User> {
        Ok(User::from(load_user(ctx, self.0.actor_id).await?))
    }
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

type OrderConnection = Connection<String, Order>;

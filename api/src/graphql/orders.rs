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

/// What a list's nodes read (`LISTED_FIELDS` and `identity::LISTED_FIELDS` tell when that
/// is only the listed columns of the order or of its requester).
fn page_reads(ctx: &Context<'_>) -> PageReads {
    let node = ctx.look_ahead().field("edges").field("node");
    PageReads {
        orders: reads(&node, LISTED_FIELDS),
        requesters: reads(&node.field("requester"), identity::LISTED_FIELDS),
    }
}

fn reads(field: &Lookahead<'_>, listed: &[&str]) -> Reads {
    let selections = field.selection_fields();
    if selections.is_empty() {
        return Reads::Nothing;
    }
    let beyond = selections
        .iter()
        .flat_map(|selection| selection.selection_set())
        .any(|field| !listed.contains(&field.name()));
    if beyond { Reads::Whole } else { Reads::Listed }
}

/// A page of a community's orders for its STAFF (`dispatchQueue`, `alerts`), by `filter`.
async fn community_queue(
    ctx: &Context<'_>,
    community_id: &ID,
    filter: OrderFilter,
    first: Option<i32>,
    after: Option<String>,
) -> Result<OrderConnection> {
    let actor = actor(ctx).await?;
    let community_id = parse_id("communityId", community_id)?;
    let request = PageRequest::parse(first, after.as_deref())?;
    let reads = page_reads(ctx);
    let page = orders::dispatch_queue(&state(ctx)?.db, actor, community_id, filter, request, reads)
        .await?;
    order_page_connection(ctx, page, request).await
}

/// A page of orders as a connection: whole requesters go to the request's user loader, listed
/// ones to their orders.
async fn order_page_connection(
    ctx: &Context<'_>,
    page: OrderPage,
    request: PageRequest,
) -> Result<OrderConnection> {
    let listed = match page.requesters {
        Requesters::Whole(users) => {
            known(|r| &r.users, ctx, users.into_iter().map(|u| (u.id, u))).await?;
            Vec::new()
        }
        Requesters::Listed(users) => users,
        Requesters::NotRead => Vec::new(),
    };
    let mut requesters = listed.into_iter();
    Ok(connection(page.orders, request, OrderRow::id, |row| {
        Order::of_page(row, requesters.next())
    }))
}

#[derive(InputObject)]
pub struct NewServiceCategoryInput {
    /// Stable identifier, e.g. REPAIR.
    code: String,
    name: String,
    response_minutes: i32,
    /// From placing to completion; default three days (urgent orders get half).
    completion_minutes: Option<i32>,
}

/// Absent fields stay as they are.
#[derive(InputObject)]
pub struct UpdateServiceCategoryInput {
    name: Option<String>,
    response_minutes: Option<i32>,
    completion_minutes: Option<i32>,
    /// false retires it: no new orders; existing ones keep it.
    active: Option<bool>,
}

#[derive(InputObject)]
#[graphql(name = "PlaceOrderInput")]
pub struct PlaceOrderInputGql {
    category_id: ID,
    title: String,
    description: String,
    address: String,
    /// Default: your own (verified) phone.
    contact_phone: Option<String>,
    preferred_time: Option<DateTime<Utc>>,
    urgency: Option<Urgency>,
    /// Photos of the problem, uploaded with `createUploadUrl(purpose: ORDER_PHOTO)`; at most 9.
    #[graphql(default, validator(max_items = 9))]
    photo_keys: Vec<String>,
    /// Photo links, as mini-programs from before uploads send them: an empty list is
    /// accepted, links are refused, since a link was never checked as a photo.
    #[graphql(
        default,
        deprecation = "links typed in before uploads existed; upload with createUploadUrl and send photoKeys",
        validator(max_items = 9)
    )]
    photo_urls: Vec<String>,
}

/// Mini-programs from before uploads send `photoUrls`: their documents still run, and a link
/// is refused with what to do, not stored unchecked.
fn no_photo_links(urls: &[String]) -> Result<(), AppError> {
    if urls.is_empty() {
        Ok(())
    } else {
        Err(AppError::bad_input(
            "photo links are no longer accepted: update the mini-program and attach the photos again",
        ))
    }
}

impl TryFrom<PlaceOrderInputGql> for NewOrder {
    type Error = AppError;

    fn try_from(input: PlaceOrderInputGql) -> Result<Self, AppError> {
        no_photo_links(&input.photo_urls)?;
        NewOrder::try_from(PlaceOrderInput {
            category_id: parse_id("categoryId", &input.category_id)?,
            title: input.title,
            description: input.description,
            address: input.address,
            contact_phone: input.contact_phone,
            preferred_time: input.preferred_time,
            urgency: input.urgency.map(Into::into),
            photo_keys: input.photo_keys,
        })
    }
}

#[derive(InputObject)]
pub struct PlaceOrderOnBehalfInput {
    community_id: ID,
    /// Who is served, as they gave their name.
    resident_name: String,
    /// Their phone: links the order to their account when one of the community has it, and is
    /// the contact phone unless `order.contactPhone` says otherwise.
    phone: String,
    /// STAFF or HOTLINE.
    channel: OrderChannel,
    order: PlaceOrderInputGql,
}

#[derive(InputObject)]
#[graphql(name = "CompleteOrderInput")]
pub struct CompleteOrderInputGql {
    summary: String,
    minutes_spent: i32,
    /// Photos of the result, uploaded with `createUploadUrl(purpose: COMPLETION_PHOTO)`; at
    /// most 9.
    #[graphql(default, validator(max_items = 9))]
    photo_keys: Vec<String>,
    /// Photo links, as mini-programs from before uploads send them: an empty list is
    /// accepted, links are refused, since a link was never checked as a photo.
    #[graphql(
        default,
        deprecation = "links typed in before uploads existed; upload with createUploadUrl and send photoKeys",
        validator(max_items = 9)
    )]
    photo_urls: Vec<String>,
}

impl TryFrom<CompleteOrderInputGql> for CompletionReport {
    type Error = AppError;

    fn try_from(input: CompleteOrderInputGql) -> Result<Self, AppError> {
        no_photo_links(&input.photo_urls)?;
        CompletionReport::try_from(CompleteOrderInput {
            summary: input.summary,
            minutes_spent: input.minutes_spent,
            photo_keys: input.photo_keys,
        })
    }
}

#[derive(InputObject)]
pub struct RateOrderInput {
    /// 1 to 5.
    stars: i32,
    comment: Option<String>,
}

#[derive(Default)]
pub struct OrderQuery;

#[Object]
impl OrderQuery {
    /// The categories residents may order; with `includeRetired`, retired ones too.
    async fn service_categories(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] include_retired: bool,
    ) -> Result<Vec<ServiceCategory>> {
        let list = categories::list(&state(ctx)?.db, include_retired).await?;
        Ok(list.into_iter().map(ServiceCategory).collect())
    }

    /// An order with its timeline, for those involved in it.
    async fn order(&self, ctx: &Context<'_>, id: ID) -> Result<Order> {
        let actor = actor(ctx).await?;
        let id = parse_id("id", &id)?;
        Ok(Order::from(orders::get(&state(ctx)?.db, actor, id).await?))
    }

    /// Orders I placed, newest first.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn my_orders(
        &self,
        ctx: &Context<'_>,
        status: Option<OrderStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<OrderConnection> {
        let actor = actor(ctx).await?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let filter = OrderFilter {
            status: status.map(Into::into),
            ..OrderFilter::default()
        };
        let reads = page_reads(ctx);
        let page = orders::my_orders(&state(ctx)?.db, actor, filter, request, reads).await?;
        order_page_connection(ctx, page, request).await
    }

    /// STAFF: the community's orders, newest first.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn dispatch_queue(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        status: Option<OrderStatus>,
        #[graphql(default)] overdue_only: bool,
        #[graphql(default)] needs_follow_up: bool,
        alert_level: Option<AlertLevel>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<OrderConnection> {
        let filter = OrderFilter {
            status: status.map(Into::into),
            overdue_only,
            needs_follow_up,
            alert_level: alert_level.map(Into::into),
            ..OrderFilter::default()
        };
        community_queue(ctx, &community_id, filter, first, after).await
    }

    /// STAFF: the community's orders showing YELLOW or RED (only `level`, when given), newest
    /// first. A job recomputes levels every minute.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        level: Option<AlertLevel>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<OrderConnection> {
        let filter = OrderFilter {
            alert_level: level.map(Into::into),
            alerting: true,
            ..OrderFilter::default()
        };
        community_queue(ctx, &community_id, filter, first, after).await
    }

    /// The grid worker (网格员) of a grid, or STAFF of its community: the grid's orders,
    /// newest first.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn grid_orders(
        &self,
        ctx: &Context<'_>,
        grid_id: ID,
        status: Option<OrderStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<OrderConnection> {
        let actor = actor(ctx).await?;
        let grid_id = parse_id("gridId", &grid_id)?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let filter = OrderFilter {
            status: status.map(Into::into),
            ..OrderFilter::default()
        };
        let reads = page_reads(ctx);
        let page =
            orders::grid_orders(&state(ctx)?.db, actor, grid_id, filter, request, reads).await?;
        order_page_connection(ctx, page, request).await
    }

    /// Party members: OPEN orders of their communities, up for grabs.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn order_pool(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<OrderConnection> {
        let actor = actor(ctx).await?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let state = state(ctx)?;
        let pool = orders::order_pool(
            &state.db,
            &state.store,
            &state.order_pool,
            actor,
            request,
            page_reads(ctx),
        )
        .await?;
        // Only a cached page is shared; a page read for this request is taken, not copied.
        order_page_connection(ctx, Arc::unwrap_or_clone(pool), request).await
    }

    /// Party members: orders I took, and those dispatched to me awaiting my answer.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn my_tasks(
        &self,
        ctx: &Context<'_>,
        status: Option<OrderStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<OrderConnection> {
        let actor = actor(ctx).await?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let filter = OrderFilter {
            status: status.map(Into::into),
            ..OrderFilter::default()
        };
        let reads = page_reads(ctx);
        let page = orders::my_tasks(&state(ctx)?.db, actor, filter, request, reads).await?;
        order_page_connection(ctx, page, request).await
    }
}

#[derive(Default)]
pub struct OrderMutation;

#[Object]
impl OrderMutation {
    /// STAFF or ADMIN.
    async fn create_service_category(
        &self,
        ctx: &Context<'_>,
        input: NewServiceCategoryInput,
    ) -> Result<ServiceCategory> {
        let actor = actor(ctx).await?;
        let input = categories::CategoryInput {
            code: input.code,
            name: input.name,
            response_minutes: input.response_minutes,
            completion_minutes: input.completion_minutes,
        };
        Ok(ServiceCategory(
            categories::create(&state(ctx)?.db, actor, input).await?,
        ))
    }

    /// STAFF or ADMIN. Every instance sees the change on its next order.
    async fn update_service_category(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateServiceCategoryInput,
    ) -> Result<ServiceCategory> {
        let actor = actor(ctx).await?;
        let id = parse_id("id", &id)?;
        let changes = categories::CategoryChanges {
            name: input.name,
            response_minutes: input.response_minutes,
            completion_minutes: input.completion_minutes,
            active: input.active,
        };
        let category = categories::update(&state(ctx)?.db, actor, id, changes).await?;
        Ok(ServiceCategory(settle(ctx, category).await?))
    }

    /// 群众点单: a resident asks for a service in their community.
    async fn place_order(&self, ctx: &Context<'_>, input: PlaceOrderInputGql) -> Result<Order> {
        let actor = actor(ctx).await?;
        let state = state(ctx)?;
        let order = orders::place(
            &state.db,
            &state.categories,
            &state.photos,
            state.placing,
            actor,
            input.try_into()?,
        )
        .await?;
        Ok(Order::from(settle(ctx, order).await?))
    }

    /// 社区派单: STAFF assign an order to one approved Party member.
    async fn dispatch_order(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        assignee_id: ID,
        note: Option<String>,
    ) -> Result<Order> {
        let actor = actor(ctx).await?;
        let order_id = parse_id("orderId", &order_id)?;
        let assignee_id = parse_id("assigneeId", &assignee_id)?;
        let state = state(ctx)?;
        let order = orders::dispatch(
            &state.db,
            &state.content,
            actor,
            order_id,
            assignee_id,
            note,
        )
        .await?;
        Ok(Order::from(settle(ctx, order).await?))
    }

    /// STAFF put an order in the community pool for any approved Party member to take.
    async fn publish_order(&self, ctx: &Context<'_>, order_id: ID) -> Result<Order> {
        let actor = actor(ctx).await?;
        let order_id = parse_id("orderId", &order_id)?;
        let order = orders::publish(&state(ctx)?.db, actor, order_id).await?;
        Ok(Order::from(settle(ctx, order).await?))
    }

    /// 党员接单: exactly one member wins an OPEN order; the others get CONFLICT.
    async fn take_order(&self, ctx: &Context<'_>, order_id: ID) -> Result<Order> {
        let actor = actor(ctx).await?;
        let order_id = parse_id("orderId", &order_id)?;
        let order = orders::take(&state(ctx)?.db, actor, order_id).await?;
        Ok(Order::from(settle(ctx, order).await?))
    }

    /// The assignee hands a dispatched order back to STAFF.
    async fn decline_order(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        reason: String,
    ) -> Result<Order> {
        let actor = actor(ctx).await?;
        let order_id = parse_id("orderId", &order_id)?;
        let state = state(ctx)?;
        let order = orders::decline(&state.db, &state.content, actor, order_id, reason).await?;
        Ok(Order::from(settle(ctx, order).await?))
    }

    /// The taker gives an accepted order back to dispatch, with a reason.
    async fn hand_back_order(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        reason: String,
    ) -> Result<Order> {
        let actor = actor(ctx).await?;
        let order_id = parse_id("orderId", &order_id)?;
        let state = state(ctx)?;
        let order = orders::hand_back(&state.db, &state.content, actor, order_id, reason).await?;
        Ok(Order::from(settle(ctx, order).await?))
    }

    /// STAFF pass an order not yet accepted to another community, with a reason; its timeline
    /// goes with it.
    async fn transfer_order(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        community_id: ID,
        reason: String,
    ) -> Result<Order> {
        let actor = actor(ctx).await?;
        let order_id = parse_id("orderId", &order_id)?;
        let to = parse_id("communityId", &community_id)?;
        let state = state(ctx)?;
        let order =
            orders::transfer(&state.db, &state.content, actor, order_id, to, reason).await?;
        Ok(Order::from(settle(ctx, order).await?))
    }

    /// The taker notes how the work is going (counts as progress for alerts).
    async fn report_order_progress(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        note: String,
    ) -> Result<Order> {
        let actor = actor(ctx).await?;
        let order_id = parse_id("orderId", &order_id)?;
        let state = state(ctx)?;
        let order =
            orders::report_progress(&state.db, &state.content, actor, order_id, note).await?;
        Ok(Order::from(settle(ctx, order).await?))
    }

    /// The requester says it was not fixed, within 7 days of completion: back to its taker
    /// (or to dispatch when they are no longer a member). Points its rating credited are held
    /// until it is rated again.
    async fn reopen_order(&self, ctx: &Context<'_>, order_id: ID, reason: String) -> Result<Order> {
        let actor = actor(ctx).await?;
        let order_id = parse_id("orderId", &order_id)?;
        let state = state(ctx)?;
        let order = orders::reopen(&state.db, &state.content, actor, order_id, reason).await?;
        Ok(Order::from(settle(ctx, order).await?))
    }

    /// STAFF record a callback visit (回访) of a completed or rated order.
    async fn record_callback(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        reached: bool,
        satisfied: Option<bool>,
        #[graphql(default)] note: String,
    ) -> Result<OrderCallback> {
        let actor = actor(ctx).await?;
        let order_id = parse_id("orderId", &order_id)?;
        let report = callbacks::CallbackReport {
            reached,
            satisfied,
            note,
        };
        let state = state(ctx)?;
        let callback =
            callbacks::record(&state.db, &state.content, actor, order_id, report).await?;
        Ok(OrderCallback(callback))
    }

    /// 代办: STAFF (or a hotline operator) place an order for a resident without the app. It
    /// is the resident's own when an account of the community has that phone.
    async fn place_order_on_behalf(
        &self,
        ctx: &Context<'_>,
        input: PlaceOrderOnBehalfInput,
    ) -> Result<Order> {
        let actor = actor(ctx).await?;
        let on_behalf = orders::OnBehalf {
            community_id: parse_id("communityId", &input.community_id)?,
            resident_name: input.resident_name,
            phone: input.phone,
            channel: input.channel.into(),
        };
        let state = state(ctx)?;
        let order = orders::place_on_behalf(
            &state.db,
            &state.categories,
            &state.photos,
            state.placing,
            actor,
            input.order.try_into()?,
            on_behalf,
        )
        .await?;
        Ok(Order::from(settle(ctx, order).await?))
    }

    async fn complete_order(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        input: CompleteOrderInputGql,
    ) -> Result<Order> {
        let actor = actor(ctx).await?;
        let order_id = parse_id("orderId", &order_id)?;
        let state = state(ctx)?;
        let order =
            orders::complete(&state.db, &state.photos, actor, order_id, input.try_into()?).await?;
        Ok(Order::from(settle(ctx, order).await?))
    }

    /// 群众评单: the requester rates a completed order, once.
    async fn rate_order(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        input: RateOrderInput,
    ) -> Result<Order> {
        let actor = actor(ctx).await?;
        let order_id = parse_id("orderId", &order_id)?;
        let state = state(ctx)?;
        let order = orders::rate(
            &state.db,
            &state.content,
            actor,
            order_id,
            input.stars,
            input.comment,
            state.order_minutes_cap,
        )
        .await?;
        Ok(Order::from(settle(ctx, order).await?))
    }

    /// The requester before acceptance, or STAFF until completion.
    async fn cancel_order(&self, ctx: &Context<'_>, order_id: ID, reason: String) -> Result<Order> {
        let actor = actor(ctx).await?;
        let order_id = parse_id("orderId", &order_id)?;
        let state = state(ctx)?;
        let order = orders::cancel(&state.db, &state.content, actor, order_id, reason).await?;
        Ok(Order::from(settle(ctx, order).await?))
    }
}

//! The lists of orders each participant works from, and an order's timeline.
use chrono::{DateTime, Utc};
use entity::{
    enums::{AlertLevel, OrderStatus},
    order, order_callback, order_event, user,
};
use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, JoinType, Order, QueryFilter,
    QuerySelect, Select,
    sea_query::{Expr, ExprTrait, Query},
};
use uuid::Uuid;

use migration::member_tasks::TASK_MEMBER;

use super::workflow::AWAITING_ACCEPTANCE;
use crate::{
    error::{AppError, AppResult},
    identity::Actor,
    infra::{
        db::first_per_parent,
        rows::{self, FromRow},
    },
    organisation,
    pagination::{Page, PageRequest, page_statement},
};

/// Most steps `events` lists, so that an order inside a list costs a bounded amount.
pub const MAX_EVENTS_LISTED: u64 = 50;

/// The timelines of these orders, oldest step first, in one query.
pub async fn events_of(
    db: &DatabaseConnection,
    order_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<order_event::Model>>> {
    Ok(first_per_parent::<order_event::Entity>(
        db,
        Condition::all(),
        order_event::Column::OrderId,
        order_ids,
        (order_event::Column::Id, Order::Asc),
        MAX_EVENTS_LISTED,
    )
    .await?)
}

#[derive(Debug, Default, Clone, Copy)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub overdue_only: bool,
    /// Rated 2 stars or less and not called back yet.
    pub needs_follow_up: bool,
    pub alert_level: Option<AlertLevel>,
    /// YELLOW or RED.
    pub alerting: bool,
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
            let called_back = Query::select()
                .column(order_callback::Column::OrderId)
                .from(order_callback::Entity)
                .to_owned();
            condition = condition
                .add(order::Column::RatingStars.lte(2))
                .add(order::Column::Id.not_in_subquery(called_back));
        }
        if let Some(level) = self.alert_level {
            condition = condition.add(order::Column::AlertLevel.eq(level));
        }
        if self.alerting {
            condition = condition.add(order::Column::AlertLevel.ne(AlertLevel::Green));
        }
        condition
    }
}

/// A page of orders, newest first, with their requesters when the caller asked for them.
#[derive(Clone)]
pub struct OrderPage {
    pub orders: Page<OrderRow>,
    pub requesters: Vec<user::Model>,
}

/// An order of a page: its listed columns, or the whole row when the list reads more.
#[derive(Clone)]
pub enum OrderRow {
    Listed(order::Listed),
    Whole(Box<order::Model>),
}

impl OrderRow {
    pub fn id(&self) -> Uuid {
        match self {
            Self::Listed(order) => order.id,
            Self::Whole(order) => order.id,
        }
    }
}

impl From<order::Listed> for OrderRow {
    fn from(order: order::Listed) -> Self {
        Self::Listed(order)
    }
}

impl From<order::Model> for OrderRow {
    fn from(order: order::Model) -> Self {
        Self::Whole(Box::new(order))
    }
}

/// What a list's selection reads of its orders: their requesters, then joined into the page's
/// one statement rather than loaded after it, and whether anything beyond `order::Listed`,
/// else only those columns are selected (most of a row is text no list shows).
#[derive(Debug, Clone, Copy)]
pub struct PageReads {
    pub requesters: bool,
    pub whole_rows: bool,
}

/// The page of `orders` after the request's cursor, in one statement.
pub(super) async fn load_page(
    db: &DatabaseConnection,
    orders: Select<order::Entity>,
    page: PageRequest,
    reads: PageReads,
) -> AppResult<OrderPage> {
    if reads.whole_rows {
        fetch_page::<order::Model>(db, orders, page, reads.requesters).await
    } else {
        let listed = orders.select_only().columns(order::LISTED_COLUMNS);
        fetch_page::<order::Listed>(db, listed, page, reads.requesters).await
    }
}

async fn fetch_page<O: FromRow + Into<OrderRow>>(
    db: &DatabaseConnection,
    orders: Select<order::Entity>,
    page: PageRequest,
    requesters: bool,
) -> AppResult<OrderPage> {
    let backend = db.get_database_backend();
    if !requesters {
        let statement = page_statement(backend, orders, order::Column::Id, page);
        let rows: Vec<O> = rows::all(db, statement).await?;
        return Ok(OrderPage {
            orders: Page::of_fetched(rows, page).map(Into::into),
            requesters: Vec::new(),
        });
    }
    let requester = order::Entity::belongs_to(user::Entity)
        .from(order::Column::RequesterId)
        .to(user::Column::Id);
    let select = orders
        .select_also(user::Entity)
        .join(JoinType::InnerJoin, requester.into());
    let statement = page_statement(backend, select, order::Column::Id, page);
    let rows: Vec<(O, user::Model)> = rows::all(db, statement).await?;
    let fetched = Page::of_fetched(rows, page);
    let (items, requesters): (Vec<O>, _) = fetched.items.into_iter().unzip();
    Ok(OrderPage {
        orders: Page {
            items: items.into_iter().map(Into::into).collect(),
            has_next_page: fetched.has_next_page,
        },
        requesters,
    })
}

async fn list(
    db: &DatabaseConnection,
    scope: Condition,
    filter: OrderFilter,
    page: PageRequest,
    reads: PageReads,
) -> AppResult<OrderPage> {
    let select = order::Entity::find()
        .filter(scope)
        .filter(filter.condition(Utc::now()));
    load_page(db, select, page, reads).await
}

pub async fn my_orders(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: OrderFilter,
    page: PageRequest,
    reads: PageReads,
) -> AppResult<OrderPage> {
    let scope = Condition::all().add(order::Column::RequesterId.eq(actor.id));
    list(db, scope, filter, page, reads).await
}

pub async fn dispatch_queue(
    db: &DatabaseConnection,
    actor: &Actor,
    community_id: Uuid,
    filter: OrderFilter,
    page: PageRequest,
    reads: PageReads,
) -> AppResult<OrderPage> {
    if !actor.roles.is_staff_of(community_id) {
        return Err(AppError::forbidden(
            "only STAFF of this community may see its dispatch queue",
        ));
    }
    let scope = Condition::all().add(order::Column::CommunityId.eq(community_id));
    list(db, scope, filter, page, reads).await
}

/// A grid's orders, newest first, for its grid worker and the community's STAFF.
pub async fn grid_orders(
    db: &DatabaseConnection,
    actor: &Actor,
    grid_id: Uuid,
    filter: OrderFilter,
    page: PageRequest,
    reads: PageReads,
) -> AppResult<OrderPage> {
    if !organisation::may_see_grid(db, actor, grid_id).await? {
        return Err(AppError::forbidden(
            "only the grid's worker or STAFF of its community may see its orders",
        ));
    }
    let scope = Condition::all().add(order::Column::GridId.eq(grid_id));
    list(db, scope, filter, page, reads).await
}

/// Orders a member took, and those dispatched to them awaiting an answer.
pub async fn my_tasks(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: OrderFilter,
    page: PageRequest,
    reads: PageReads,
) -> AppResult<OrderPage> {
    let scope = Condition::all().add(Expr::cust(TASK_MEMBER).eq(actor.id));
    list(db, scope, filter, page, reads).await
}

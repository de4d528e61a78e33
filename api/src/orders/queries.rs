//! The lists of orders each participant works from, and an order's timeline.
use chrono::{DateTime, Utc};
use entity::{
    enums::{AlertLevel, OrderStatus},
    order, order_callback, order_event, user,
};
use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, Iterable, JoinType, Order,
    QueryFilter, QuerySelect, Select,
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
    pagination::{Page, PageRequest, Span, export_page, page_statement},
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
    pub requesters: Requesters,
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

/// The requesters of a page's orders, one per order and in the same order, as read.
#[derive(Clone)]
pub enum Requesters {
    NotRead,
    Listed(Vec<user::Listed>),
    Whole(Vec<user::Model>),
}

/// What of each of its rows a list's selection reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    Nothing,
    /// The entity's `LISTED_COLUMNS`.
    Listed,
    Whole,
}

/// What a list's selection reads of its orders and of their requesters, who are joined into
/// the page's one statement. Listed columns alone are selected when nothing else is read:
/// most of an order or user row is text no list shows.
#[derive(Debug, Clone, Copy)]
pub struct PageReads {
    pub orders: Reads,
    pub requesters: Reads,
}

/// The page of `orders` after the request's cursor, in one statement.
pub(super) async fn load_page(
    db: &DatabaseConnection,
    orders: Select<order::Entity>,
    page: PageRequest,
    reads: PageReads,
) -> AppResult<OrderPage> {
    let orders = match reads.orders {
        Reads::Whole => orders,
        Reads::Listed | Reads::Nothing => orders.select_only().columns(order::LISTED_COLUMNS),
    };
    let joined = |orders: Select<order::Entity>| {
        let requester = order::Entity::belongs_to(user::Entity)
            .from(order::Column::RequesterId)
            .to(user::Column::Id);
        orders.join(JoinType::InnerJoin, requester.into())
    };
    let select = match reads.requesters {
        Reads::Nothing => orders,
        Reads::Listed => joined(orders).columns(user::LISTED_COLUMNS),
        Reads::Whole => joined(orders).columns(user::Column::iter()),
    };
    if reads.orders == Reads::Whole {
        fetch_page::<order::Model>(db, select, page, reads.requesters).await
    } else {
        fetch_page::<order::Listed>(db, select, page, reads.requesters).await
    }
}

async fn fetch_page<O: FromRow + Into<OrderRow>>(
    db: &DatabaseConnection,
    select: Select<order::Entity>,
    page: PageRequest,
    requesters: Reads,
) -> AppResult<OrderPage> {
    Ok(match requesters {
        Reads::Nothing => OrderPage {
            orders: fetch_rows::<O, ()>(db, select, page).await?.0,
            requesters: Requesters::NotRead,
        },
        Reads::Listed => {
            let (orders, users) = fetch_rows::<O, user::Listed>(db, select, page).await?;
            OrderPage {
                orders,
                requesters: Requesters::Listed(users),
            }
        }
        Reads::Whole => {
            let (orders, users) = fetch_rows::<O, user::Model>(db, select, page).await?;
            OrderPage {
                orders,
                requesters: Requesters::Whole(users),
            }
        }
    })
}

/// A page of rows that are an order (`O`) followed by its requester (`U`, `()` if not read).
async fn fetch_rows<O: FromRow + Into<OrderRow>, U: FromRow>(
    db: &DatabaseConnection,
    select: Select<order::Entity>,
    page: PageRequest,
) -> AppResult<(Page<OrderRow>, Vec<U>)> {
    let statement = page_statement(db.get_database_backend(), select, order::Column::Id, page);
    let rows: Vec<(O, U)> = rows::all(db, statement).await?;
    let fetched = Page::of_fetched(rows, page);
    let (orders, users): (Vec<O>, Vec<U>) = fetched.items.into_iter().unzip();
    let orders = Page {
        items: orders.into_iter().map(Into::into).collect(),
        has_next_page: fetched.has_next_page,
    };
    Ok((orders, users))
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

/// A page of the orders placed in `span` (an export).
pub async fn exported(
    db: &DatabaseConnection,
    span: &Span,
    after: Option<Uuid>,
) -> AppResult<Vec<order::Model>> {
    let select = order::Entity::find()
        .filter(order::Column::CommunityId.is_in(span.communities.iter().copied()))
        .filter(order::Column::CreatedAt.gte(span.from))
        .filter(order::Column::CreatedAt.lt(span.to));
    export_page(db, select, order::Column::Id, after).await
}

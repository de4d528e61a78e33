//! Reading orders: one, the caller's, the pool, a community's queue and alerts.
use super::*;

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

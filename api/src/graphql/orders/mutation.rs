//! The order steps and the category list's upkeep, each one domain command.
use super::{inputs::*, *};
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
            &state.placings,
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

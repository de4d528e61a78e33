//! Auto-routing rules: a community's orders of a category dispatched at once, in turn, to its
//! members with a skill.
use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::auto_route;

use super::{
    actor, identity::User, load_category, load_user, orders::ServiceCategory, parse_id, state,
};
use crate::orders::routing;

pub struct AutoRoute(auto_route::Model);

#[Object]
impl AutoRoute {
    async fn category(&self, ctx: &Context<'_>) -> Result<ServiceCategory> {
        Ok(ServiceCategory(
            load_category(ctx, self.0.category_id).await?,
        ))
    }
    /// Members with this skill take the category's orders in turn.
    async fn skill(&self) -> &str {
        &self.0.skill
    }
    /// The STAFF member who set it; its dispatches are theirs in each order's timeline.
    async fn enabled_by(&self, ctx: &Context<'_>) -> Result<User> {
        Ok(User::from(load_user(ctx, self.0.enabled_by).await?))
    }
    async fn since(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(Default)]
pub struct AutoRoutingQuery;

#[Object]
impl AutoRoutingQuery {
    /// STAFF: the community's auto-routing rules.
    #[graphql(complexity = "50 * child_complexity")]
    async fn auto_routes(&self, ctx: &Context<'_>, community_id: ID) -> Result<Vec<AutoRoute>> {
        let actor = actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        let rules = routing::rules(&state(ctx)?.db, actor, community_id).await?;
        Ok(rules.into_iter().map(AutoRoute).collect())
    }
}

#[derive(Default)]
pub struct AutoRoutingMutation;

#[Object]
impl AutoRoutingMutation {
    /// STAFF: new orders of this category in the community go straight to its approved Party
    /// members with `skill`, in turn (DISPATCHED, declinable as usual); without `skill`, back
    /// to the dispatch queue. Answers the community's rules.
    #[graphql(complexity = "50 * child_complexity")]
    async fn set_auto_routing(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        category_id: ID,
        skill: Option<String>,
    ) -> Result<Vec<AutoRoute>> {
        let actor = actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        let category_id = parse_id("categoryId", &category_id)?;
        let state = state(ctx)?;
        let rules = routing::set(
            &state.db,
            &state.categories,
            actor,
            community_id,
            category_id,
            skill.as_deref(),
        )
        .await?;
        Ok(rules.into_iter().map(AutoRoute).collect())
    }
}

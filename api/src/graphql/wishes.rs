//! Micro-wishes (微心愿): the wish wall, posting, review, claiming, delivery, confirmation.
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{enums, wish};

use super::units::Unit;
use super::{
    actor, connection,
    identity::User,
    load, load_children, load_community, load_user,
    organisation::Community,
    parse_id,
    photos::{self, Photo},
    settle, state, to_id,
};
use crate::{
    error::AppError,
    pagination::PageRequest,
    wishes::{self, WishInput},
};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::WishStatus")]
pub enum WishStatus {
    /// Posted, waiting for STAFF to put it on the wall.
    PendingReview,
    /// On the wall, for Party members and merchants of the community to claim.
    Open,
    Claimed,
    /// The claimer says it is done; the resident has yet to confirm.
    Delivered,
    /// Confirmed by the resident: it counts.
    Fulfilled,
    Rejected,
    /// Nobody claimed it by the date it was needed.
    Closed,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::Claimer")]
pub enum WishClaimer {
    PartyMember,
    Merchant,
    /// A unit stationed in the community, through its representative (`Wish.unit`).
    Unit,
}

pub struct Wish(wish::Model);

#[Object]
impl Wish {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn community(&self, ctx: &Context<'_>) -> Result<Community> {
        Ok(Community(load_community(ctx, self.0.community_id).await?))
    }
    async fn resident(&self, ctx: &Context<'_>) -> Result<User> {
        Ok(User::from(load_user(ctx, self.0.resident_id).await?))
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn needed_by(&self) -> DateTime<Utc> {
        self.0.needed_by
    }
    async fn status(&self) -> WishStatus {
        self.0.status.into()
    }
    /// Why STAFF turned it down (or what they noted putting it up).
    async fn review_note(&self) -> Option<&str> {
        self.0.review_note.as_deref()
    }
    async fn claimer(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.0.claimer_id else {
            return Ok(None);
        };
        Ok(Some(User::from(load_user(ctx, id).await?)))
    }
    async fn claimed_as(&self) -> Option<WishClaimer> {
        self.0.claimed_as.map(Into::into)
    }
    /// The unit it was claimed for (claimedAs UNIT).
    async fn unit(&self, ctx: &Context<'_>) -> Result<Option<Unit>> {
        let Some(id) = self.0.unit_id else {
            return Ok(None);
        };
        Ok(Some(Unit(load(|r| &r.units, ctx, id, "unit").await?)))
    }
    async fn claimed_at(&self) -> Option<DateTime<Utc>> {
        self.0.claimed_at
    }
    async fn delivery_note(&self) -> Option<&str> {
        self.0.delivery_note.as_deref()
    }
    /// The time a Party member says it took (their service record's, once confirmed).
    async fn minutes_spent(&self) -> Option<i32> {
        self.0.minutes_spent
    }
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
    async fn fulfilled_at(&self) -> Option<DateTime<Utc>> {
        self.0.fulfilled_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// What is wished for (WISH_PHOTO), oldest first.
    async fn photos(&self, ctx: &Context<'_>) -> Result<Vec<Photo>> {
        let rows = load_children(|r| &r.wish_photos, ctx, self.0.id).await?;
        photos::visible(ctx, rows).await
    }
}

#[derive(InputObject)]
pub struct PostWishInput {
    /// 1–60 characters, e.g. 想要一台助听器.
    title: String,
    #[graphql(default)]
    description: String,
    /// Unclaimed by then, it closes itself; within 180 days.
    needed_by: DateTime<Utc>,
    /// Photos uploaded with `createUploadUrl(purpose: WISH_PHOTO)`; at most 9.
    #[graphql(default, validator(max_items = 9))]
    photo_keys: Vec<String>,
}

#[derive(SimpleObject)]
pub struct ClaimerFulfilment {
    claimer: User,
    fulfilled: u64,
}

#[derive(SimpleObject)]
pub struct WishFulfilment {
    /// Wishes the residents confirmed came true.
    fulfilled: u64,
    /// Per claimer, most first.
    by_claimer: Vec<ClaimerFulfilment>,
}

#[derive(Default)]
pub struct WishQuery;

#[Object]
impl WishQuery {
    /// The community's wish wall (OPEN, CLAIMED, DELIVERED and FULFILLED wishes), or one
    /// `status`; wishes not on the wall are for STAFF. Newest first.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn wishes(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        status: Option<WishStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<async_graphql::connection::Connection<String, Wish>> {
        let actor = actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let page = wishes::list(
            &state(ctx)?.db,
            actor,
            community_id,
            status.map(Into::into),
            request,
        )
        .await?;
        Ok(connection(page, request, |w| w.id, Wish))
    }

    /// Wishes I posted or claimed, newest first.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn my_wishes(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<async_graphql::connection::Connection<String, Wish>> {
        let actor = actor(ctx).await?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let page = wishes::mine(&state(ctx)?.db, actor, request).await?;
        Ok(connection(page, request, |w| w.id, Wish))
    }

    async fn wish(&self, ctx: &Context<'_>, id: ID) -> Result<Wish> {
        let actor = actor(ctx).await?;
        let wish = wishes::get(&state(ctx)?.db, parse_id("id", &id)?).await?;
        if !wishes::can_view(actor, &wish) {
            return Err(AppError::forbidden("this wish is not on the wall").into());
        }
        Ok(Wish(wish))
    }

    /// How many of the community's wishes came true, and who fulfilled them.
    #[graphql(complexity = 200)]
    async fn wish_fulfilment(&self, ctx: &Context<'_>, community_id: ID) -> Result<WishFulfilment> {
        actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        let found = wishes::fulfilment(&state(ctx)?.db, community_id).await?;
        Ok(WishFulfilment {
            fulfilled: found.total,
            by_claimer: found
                .by_claimer
                .into_iter()
                .map(|(claimer, fulfilled)| ClaimerFulfilment {
                    claimer: User::from(claimer),
                    fulfilled,
                })
                .collect(),
        })
    }
}

#[derive(Default)]
pub struct WishMutation;

#[Object]
impl WishMutation {
    /// A resident posts a small wish for their community's wall; STAFF review it first.
    async fn post_wish(&self, ctx: &Context<'_>, input: PostWishInput) -> Result<Wish> {
        let actor = actor(ctx).await?;
        let input = WishInput {
            title: input.title,
            description: input.description,
            needed_by: input.needed_by,
            photo_keys: input.photo_keys,
        };
        let state = state(ctx)?;
        let wish = wishes::post(&state.db, &state.content, &state.photos, actor, input).await?;
        Ok(Wish(settle(ctx, wish).await?))
    }

    /// STAFF: onto the wall, or turned down with a note the resident sees.
    async fn review_wish(
        &self,
        ctx: &Context<'_>,
        wish_id: ID,
        approve: bool,
        note: Option<String>,
    ) -> Result<Wish> {
        let actor = actor(ctx).await?;
        let wish_id = parse_id("wishId", &wish_id)?;
        let state = state(ctx)?;
        let wish = wishes::review(&state.db, &state.content, actor, wish_id, approve, note).await?;
        Ok(Wish(settle(ctx, wish).await?))
    }

    /// A Party member or merchant of the community takes it on, or the representative of a
    /// unit of the community in its name (`unitId`); exactly one claim wins.
    async fn claim_wish(
        &self,
        ctx: &Context<'_>,
        wish_id: ID,
        unit_id: Option<ID>,
    ) -> Result<Wish> {
        let actor = actor(ctx).await?;
        let wish_id = parse_id("wishId", &wish_id)?;
        let unit_id = unit_id.map(|id| parse_id("unitId", &id)).transpose()?;
        let wish = wishes::claim(&state(ctx)?.db, actor, wish_id, unit_id).await?;
        Ok(Wish(settle(ctx, wish).await?))
    }

    /// The claimer says it is done; a Party member states the time it took.
    async fn deliver_wish(
        &self,
        ctx: &Context<'_>,
        wish_id: ID,
        note: String,
        minutes_spent: Option<i32>,
    ) -> Result<Wish> {
        let actor = actor(ctx).await?;
        let wish_id = parse_id("wishId", &wish_id)?;
        let state = state(ctx)?;
        let wish = wishes::deliver(
            &state.db,
            &state.content,
            actor,
            wish_id,
            note,
            minutes_spent,
        )
        .await?;
        Ok(Wish(settle(ctx, wish).await?))
    }

    /// The resident confirms it came true: it counts, and a Party member's stated time goes
    /// to STAFF as a service record.
    async fn confirm_wish(&self, ctx: &Context<'_>, wish_id: ID) -> Result<Wish> {
        let actor = actor(ctx).await?;
        let wish_id = parse_id("wishId", &wish_id)?;
        let wish = wishes::confirm(&state(ctx)?.db, actor, wish_id).await?;
        Ok(Wish(settle(ctx, wish).await?))
    }
}

//! Residents' own good deeds (积分制): the community's deed kinds, reporting, the grid
//! worker's check and STAFF's confirmation with points.
use async_graphql::{Context, Enum, ID, Object, Result, connection::Connection};
use chrono::{DateTime, Utc};
use entity::{deed_kind, enums, good_deed};

use super::{actor, connection, identity::User, load, load_user, parse_id, state, to_id};
use crate::{
    pagination::PageRequest,
    points::deeds::{self, DeedReport},
};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::DeedStatus")]
pub enum DeedStatus {
    /// Reported; the resident's grid worker (or STAFF) checks it happened.
    PendingCheck,
    /// Checked; STAFF confirm it with points.
    PendingReview,
    Confirmed,
    Rejected,
}

pub struct DeedKind(deed_kind::Model);

#[Object]
impl DeedKind {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Points a confirmed deed of this kind earns.
    async fn base_points(&self) -> i64 {
        self.0.base_points
    }
    /// Retired kinds take no new reports.
    async fn active(&self) -> bool {
        self.0.active
    }
}

pub struct GoodDeed(good_deed::Model);

#[Object]
impl GoodDeed {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn resident(&self, ctx: &Context<'_>) -> Result<User> {
        Ok(User::from(load_user(ctx, self.0.resident_id).await?))
    }
    async fn kind(&self, ctx: &Context<'_>) -> Result<DeedKind> {
        let kind = load(|r| &r.deed_kinds, ctx, self.0.kind_id, "deed kind").await?;
        Ok(DeedKind(kind))
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn happened_at(&self) -> DateTime<Utc> {
        self.0.happened_at
    }
    async fn status(&self) -> DeedStatus {
        self.0.status.into()
    }
    async fn check_note(&self) -> Option<&str> {
        self.0.check_note.as_deref()
    }
    /// Why it was rejected.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    /// Credited when confirmed.
    async fn points(&self) -> Option<i64> {
        self.0.points
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(Default)]
pub struct DeedQuery;

#[Object]
impl DeedQuery {
    /// The community's table of good deeds and their points.
    #[graphql(complexity = "50 * child_complexity")]
    async fn deed_kinds(&self, ctx: &Context<'_>, community_id: ID) -> Result<Vec<DeedKind>> {
        actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        let kinds = deeds::kinds(&state(ctx)?.db, community_id).await?;
        Ok(kinds.into_iter().map(DeedKind).collect())
    }

    /// Deeds to decide on: a grid worker's grids' deeds to check (PENDING_CHECK); STAFF any
    /// status of their community. Newest first.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn good_deeds(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        status: DeedStatus,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, GoodDeed>> {
        let actor = actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let page =
            deeds::queue(&state(ctx)?.db, actor, community_id, status.into(), request).await?;
        Ok(connection(page, request, |d| d.id, GoodDeed))
    }

    /// The good deeds I reported, newest first.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn my_good_deeds(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, GoodDeed>> {
        let actor = actor(ctx).await?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let page = deeds::mine(&state(ctx)?.db, actor, request).await?;
        Ok(connection(page, request, |d| d.id, GoodDeed))
    }
}

#[derive(Default)]
pub struct DeedMutation;

#[Object]
impl DeedMutation {
    /// STAFF: add a kind of good deed or change its points (by name); `active: false` retires
    /// it. Answers the community's table.
    async fn set_deed_kind(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        name: String,
        base_points: i64,
        #[graphql(default = true)] active: bool,
    ) -> Result<Vec<DeedKind>> {
        let actor = actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        let kinds = deeds::set_kind(
            &state(ctx)?.db,
            actor,
            community_id,
            &name,
            base_points,
            active,
        )
        .await?;
        Ok(kinds.into_iter().map(DeedKind).collect())
    }

    /// A resident reports a good deed of one of their community's kinds, done within the last
    /// 30 days.
    async fn report_good_deed(
        &self,
        ctx: &Context<'_>,
        kind_id: ID,
        description: String,
        when: DateTime<Utc>,
    ) -> Result<GoodDeed> {
        let actor = actor(ctx).await?;
        let report = DeedReport {
            kind_id: parse_id("kindId", &kind_id)?,
            description,
            happened_at: when,
        };
        let state = state(ctx)?;
        Ok(GoodDeed(
            deeds::report(&state.db, &state.content, actor, report).await?,
        ))
    }

    /// The resident's grid worker (or STAFF) says it happened → PENDING_REVIEW, or not (a
    /// note is required) → REJECTED.
    async fn check_good_deed(
        &self,
        ctx: &Context<'_>,
        deed_id: ID,
        happened: bool,
        note: Option<String>,
    ) -> Result<GoodDeed> {
        let actor = actor(ctx).await?;
        let deed_id = parse_id("deedId", &deed_id)?;
        let state = state(ctx)?;
        Ok(GoodDeed(
            deeds::check(&state.db, &state.content, actor, deed_id, happened, note).await?,
        ))
    }

    /// STAFF confirm a checked deed, crediting its kind's points once, or reject it with a
    /// reason the resident sees.
    async fn review_good_deed(
        &self,
        ctx: &Context<'_>,
        deed_id: ID,
        approve: bool,
        reason: Option<String>,
    ) -> Result<GoodDeed> {
        let actor = actor(ctx).await?;
        let deed_id = parse_id("deedId", &deed_id)?;
        let state = state(ctx)?;
        Ok(GoodDeed(
            deeds::review(&state.db, &state.content, actor, deed_id, approve, reason).await?,
        ))
    }
}

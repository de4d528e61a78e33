//! Grid patrols (网格巡查): points, patrols, sign-offs and findings that become orders.
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{enums, patrol_plan, patrol_point, patrol_signoff, patrol_task};

use super::{
    actor, connection,
    identity::User,
    load_user,
    orders::{Order, PlaceOrderInputGql},
    parse_id, settle, state, to_id,
};
use crate::{
    pagination::PageRequest,
    patrols::{self, Found, NewPoint, SignOff, plans},
};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::PatrolStatus")]
pub enum PatrolStatus {
    Open,
    /// Every point is signed off.
    Done,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::PatrolTiming")]
pub enum PatrolTiming {
    /// Before the patrol's window.
    Early,
    OnTime,
    /// After the patrol's window.
    Late,
}

pub struct PatrolPoint(patrol_point::Model);

#[Object]
impl PatrolPoint {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn grid_id(&self) -> ID {
        to_id(self.0.grid_id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn latitude(&self) -> f64 {
        self.0.latitude
    }
    async fn longitude(&self) -> f64 {
        self.0.longitude
    }
    /// A sign-off farther away than this needs a reason, and is flagged.
    async fn radius_meters(&self) -> i32 {
        self.0.radius_meters
    }
    /// Questions answered yes or no on each sign-off, in order.
    async fn checklist(&self) -> Vec<String> {
        patrols::checklist_of(&self.0)
    }
}

pub struct PatrolSignOff(patrol_signoff::Model);

#[Object]
impl PatrolSignOff {
    async fn point_id(&self) -> ID {
        to_id(self.0.point_id)
    }
    async fn distance_meters(&self) -> i32 {
        self.0.distance_meters
    }
    /// Signed off outside the point's radius, with `offSiteReason`.
    async fn flagged(&self) -> bool {
        self.0.off_site_reason.is_some()
    }
    async fn off_site_reason(&self) -> Option<&str> {
        self.0.off_site_reason.as_deref()
    }
    async fn timing(&self) -> PatrolTiming {
        self.0.timing.into()
    }
    async fn answers(&self) -> Vec<bool> {
        serde_json::from_value(self.0.answers.clone()).unwrap_or_default()
    }
    async fn signed_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct Patrol(patrol_task::Model);

#[Object]
impl Patrol {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn grid_id(&self) -> ID {
        to_id(self.0.grid_id)
    }
    async fn worker(&self, ctx: &Context<'_>) -> Result<User> {
        Ok(User::from(load_user(ctx, self.0.worker_id).await?))
    }
    async fn point_ids(&self) -> Vec<ID> {
        patrols::point_ids_of(&self.0)
            .into_iter()
            .map(to_id)
            .collect()
    }
    async fn window_starts_at(&self) -> DateTime<Utc> {
        self.0.window_starts_at
    }
    async fn window_ends_at(&self) -> DateTime<Utc> {
        self.0.window_ends_at
    }
    async fn status(&self) -> PatrolStatus {
        self.0.status.into()
    }
    async fn handed_over_from(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.0.handed_over_from else {
            return Ok(None);
        };
        Ok(Some(User::from(load_user(ctx, id).await?)))
    }
    async fn handover_reason(&self) -> Option<&str> {
        self.0.handover_reason.as_deref()
    }
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }
    /// At most one per point, oldest first.
    #[graphql(complexity = "patrols::MAX_POINTS_PER_PATROL * child_complexity")]
    async fn sign_offs(&self, ctx: &Context<'_>) -> Result<Vec<PatrolSignOff>> {
        let rows = patrols::signoffs(&state(ctx)?.db, self.0.id).await?;
        Ok(rows.into_iter().map(PatrolSignOff).collect())
    }
}

#[derive(InputObject)]
pub struct AddPatrolPointInput {
    grid_id: ID,
    name: String,
    latitude: f64,
    longitude: f64,
    /// 10–1000; default 50.
    #[graphql(default = 50)]
    radius_meters: i32,
    #[graphql(default, validator(max_items = 20))]
    checklist: Vec<String>,
}

#[derive(InputObject)]
pub struct AddPatrolPlanInput {
    grid_id: ID,
    #[graphql(validator(max_items = 50))]
    point_ids: Vec<ID>,
    /// 1–31.
    every_days: i32,
    /// `HH:MM`, China time.
    window_starts: String,
    /// 30–1440.
    #[graphql(default = 120)]
    window_minutes: i32,
    /// Today or later.
    first_day: chrono::NaiveDate,
}

/// A grid's patrols on a schedule.
#[derive(SimpleObject)]
pub struct PatrolPlan {
    id: ID,
    grid_id: ID,
    point_ids: Vec<ID>,
    every_days: i32,
    /// `HH:MM`, China time.
    window_starts: String,
    window_minutes: i32,
    /// The day whose patrol is filed next.
    next_day: chrono::NaiveDate,
}

impl From<patrol_plan::Model> for PatrolPlan {
    fn from(plan: patrol_plan::Model) -> Self {
        let points: Vec<uuid::Uuid> = serde_json::from_value(plan.point_ids).unwrap_or_default();
        Self {
            id: to_id(plan.id),
            grid_id: to_id(plan.grid_id),
            point_ids: points.into_iter().map(to_id).collect(),
            every_days: plan.every_days,
            window_starts: format!(
                "{:02}:{:02}",
                plan.window_start_minute / 60,
                plan.window_start_minute % 60
            ),
            window_minutes: plan.window_minutes,
            next_day: plan.next_day,
        }
    }
}

#[derive(InputObject)]
pub struct SignOffPatrolPointInput {
    point_id: ID,
    /// Where the mini-program says the worker is (wx.getLocation).
    latitude: f64,
    longitude: f64,
    /// One per checklist item, in order.
    #[graphql(default, validator(max_items = 20))]
    answers: Vec<bool>,
    /// Photos uploaded with `createUploadUrl(purpose: PATROL_PHOTO)`; 1 to 9.
    #[graphql(validator(max_items = 9))]
    photo_keys: Vec<String>,
    /// Needed when signing off outside the point's radius; such sign-offs are flagged.
    off_site_reason: Option<String>,
}

#[derive(InputObject)]
pub struct ReportPatrolFindingInput {
    /// The point it was found at, if at one.
    point_id: Option<ID>,
    latitude: f64,
    longitude: f64,
    /// The work order, as a resident would place it; its photos are ORDER_PHOTO uploads.
    order: PlaceOrderInputGql,
}

#[derive(Default)]
pub struct PatrolQuery;

#[Object]
impl PatrolQuery {
    /// A grid's patrol points, for its worker and STAFF.
    #[graphql(complexity = "200 * child_complexity")]
    async fn patrol_points(&self, ctx: &Context<'_>, grid_id: ID) -> Result<Vec<PatrolPoint>> {
        let actor = actor(ctx).await?;
        let grid_id = parse_id("gridId", &grid_id)?;
        let points = patrols::points(&state(ctx)?.db, actor, grid_id).await?;
        Ok(points.into_iter().map(PatrolPoint).collect())
    }

    /// My patrols, newest first.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn my_patrols(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<async_graphql::connection::Connection<String, Patrol>> {
        let actor = actor(ctx).await?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let page = patrols::mine(&state(ctx)?.db, actor, request).await?;
        Ok(connection(page, request, |t| t.id, Patrol))
    }

    /// A patrol, for its worker and the community's STAFF.
    async fn patrol(&self, ctx: &Context<'_>, id: ID) -> Result<Patrol> {
        let actor = actor(ctx).await?;
        let id = parse_id("id", &id)?;
        Ok(Patrol(patrols::visible(&state(ctx)?.db, actor, id).await?))
    }
}

#[derive(Default)]
pub struct PatrolMutation;

#[Object]
impl PatrolMutation {
    /// STAFF add a patrol point to a grid of their community.
    async fn add_patrol_point(
        &self,
        ctx: &Context<'_>,
        input: AddPatrolPointInput,
    ) -> Result<PatrolPoint> {
        let actor = actor(ctx).await?;
        let new = NewPoint {
            grid_id: parse_id("gridId", &input.grid_id)?,
            name: input.name,
            latitude: input.latitude,
            longitude: input.longitude,
            radius_meters: input.radius_meters,
            checklist: input.checklist,
        };
        let state = state(ctx)?;
        Ok(PatrolPoint(
            patrols::add_point(&state.db, &state.content, actor, new).await?,
        ))
    }

    /// STAFF schedule a patrol of some of the grid's points for its worker.
    async fn schedule_patrol(
        &self,
        ctx: &Context<'_>,
        grid_id: ID,
        #[graphql(validator(max_items = 50))] point_ids: Vec<ID>,
        window_starts_at: DateTime<Utc>,
        window_ends_at: DateTime<Utc>,
    ) -> Result<Patrol> {
        let actor = actor(ctx).await?;
        let grid_id = parse_id("gridId", &grid_id)?;
        let point_ids = point_ids
            .iter()
            .map(|id| parse_id("pointIds", id))
            .collect::<Result<Vec<_>, _>>()?;
        let window = (window_starts_at, window_ends_at);
        Ok(Patrol(
            patrols::schedule(&state(ctx)?.db, actor, grid_id, point_ids, window).await?,
        ))
    }

    /// STAFF plan a grid's patrols: these points every `everyDays` days, in a window of
    /// `windowMinutes` from `windowStarts` (`HH:MM`, China time), from `firstDay` on. The job
    /// `patrol-plans` files each day's patrol for the grid's worker then.
    async fn add_patrol_plan(
        &self,
        ctx: &Context<'_>,
        input: AddPatrolPlanInput,
    ) -> Result<PatrolPlan> {
        let actor = actor(ctx).await?;
        let new = plans::NewPlan {
            grid_id: parse_id("gridId", &input.grid_id)?,
            point_ids: input
                .point_ids
                .iter()
                .map(|id| parse_id("pointIds", id))
                .collect::<Result<Vec<_>, _>>()?,
            every_days: input.every_days,
            window_starts: input.window_starts,
            window_minutes: input.window_minutes,
            first_day: input.first_day,
        };
        Ok(PatrolPlan::from(
            plans::add(&state(ctx)?.db, actor, new).await?,
        ))
    }

    /// The patrol's worker (or STAFF) hands it to another grid worker, with a reason.
    async fn hand_over_patrol(
        &self,
        ctx: &Context<'_>,
        patrol_id: ID,
        to_worker_id: ID,
        reason: String,
    ) -> Result<Patrol> {
        let actor = actor(ctx).await?;
        let patrol_id = parse_id("patrolId", &patrol_id)?;
        let to = parse_id("toWorkerId", &to_worker_id)?;
        let state = state(ctx)?;
        Ok(Patrol(
            patrols::hand_over(&state.db, &state.content, actor, patrol_id, to, reason).await?,
        ))
    }

    /// The patrol's worker signs off a point on site, with a photo and the checklist.
    async fn sign_off_patrol_point(
        &self,
        ctx: &Context<'_>,
        patrol_id: ID,
        input: SignOffPatrolPointInput,
    ) -> Result<PatrolSignOff> {
        let actor = actor(ctx).await?;
        let patrol_id = parse_id("patrolId", &patrol_id)?;
        let input = SignOff {
            point_id: parse_id("pointId", &input.point_id)?,
            latitude: input.latitude,
            longitude: input.longitude,
            answers: input.answers,
            photo_keys: input.photo_keys,
            off_site_reason: input.off_site_reason,
        };
        let state = state(ctx)?;
        Ok(PatrolSignOff(
            patrols::sign_off(&state.db, &state.photos, actor, patrol_id, input).await?,
        ))
    }

    /// 发现上报: the patrol's worker turns what they found into a work order of the grid
    /// (channel PATROL) in one step; it enters the normal loop.
    async fn report_patrol_finding(
        &self,
        ctx: &Context<'_>,
        patrol_id: ID,
        input: ReportPatrolFindingInput,
    ) -> Result<Order> {
        let actor = actor(ctx).await?;
        let patrol_id = parse_id("patrolId", &patrol_id)?;
        let found = Found {
            point_id: input
                .point_id
                .as_ref()
                .map(|id| parse_id("pointId", id))
                .transpose()?,
            latitude: input.latitude,
            longitude: input.longitude,
        };
        let state = state(ctx)?;
        let order = patrols::report_finding(
            &state.db,
            &state.categories,
            &state.photos,
            state.placing,
            actor,
            patrol_id,
            found,
            input.order.try_into()?,
        )
        .await?;
        Ok(Order::from(settle(ctx, order).await?))
    }
}

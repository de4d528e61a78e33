use tokio::sync::OnceCell;

use async_graphql::{
    Context, Enum, ID, InputObject, Object, Result, SimpleObject, connection::Connection,
};
use chrono::{DateTime, Utc};
use entity::{
    activity, activity_signup, adjustment_request, enums, household_link, notice_objection,
    points_entry, service_record,
};

use super::{
    actor, connection,
    identity::{ApplicationStatus, User},
    load_community, load_user,
    organisation::Community,
    parse_id, settle, state, to_id,
};
use crate::{
    error::AppError,
    pagination::PageRequest,
    points::{
        self,
        activities::{self, Attendance, NewActivity, When},
        adjustments::{self, Correction},
        attendance, expiry, gifts, notices, objections, records, rules,
    },
    values::{Month, geo::Point},
};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::SignupStatus")]
pub enum SignupStatus {
    SignedUp,
    Cancelled,
    /// Signed up, not checked in by the end of the activity.
    NoShow,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::ServiceSource")]
pub enum ServiceSource {
    Order,
    Activity,
    /// A micro-wish the member fulfilled.
    Wish,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::RecordStatus")]
pub enum RecordStatus {
    Pending,
    Confirmed,
    Rejected,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::EntryKind")]
pub enum EntryKind {
    Earn,
    Spend,
    Refund,
    Adjust,
    Reversal,
    /// Taken back while the order that earned it is reopened.
    Hold,
    /// Given back when that order is rated again.
    Release,
    /// Given to family.
    GiftOut,
    /// Received from family.
    GiftIn,
    /// Earned too long ago: the community's points expire.
    Expire,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::PointsExpiry")]
pub enum PointsExpiry {
    /// Points never expire (the default).
    Never,
    /// Points earned in year N expire at the end of year N+1, China time; the oldest are
    /// spent first.
    EndOfNextYear,
}

/// The next points of mine to expire.
#[derive(SimpleObject)]
pub struct NextPointsExpiry {
    points: i64,
    at: DateTime<Utc>,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "rules::Period")]
pub enum LeaderboardPeriod {
    Month,
    Year,
    All,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "When")]
pub enum ActivityTime {
    /// Not over yet.
    Upcoming,
    Past,
}

pub struct Activity(activity::Model);

#[Object]
impl Activity {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn community(&self, ctx: &Context<'_>) -> Result<Community> {
        Ok(Community(load_community(ctx, self.0.community_id).await?))
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn place(&self) -> &str {
        &self.0.place
    }
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
    async fn capacity(&self) -> i32 {
        self.0.capacity
    }
    async fn signed_up(&self) -> i32 {
        self.0.signed_up
    }
    async fn places_left(&self) -> i32 {
        (self.0.capacity - self.0.signed_up).max(0)
    }
    /// Replaces the community's rate for time at this activity.
    async fn points_per_hour_override(&self) -> Option<i32> {
        self.0.points_per_hour_override
    }
    /// Where check-in happens, when it happens on site.
    async fn latitude(&self) -> Option<f64> {
        self.0.latitude
    }
    async fn longitude(&self) -> Option<f64> {
        self.0.longitude
    }
    /// Volunteers checking themselves in must be this close to (latitude, longitude).
    async fn check_in_radius_meters(&self) -> Option<i32> {
        self.0.check_in_radius_meters
    }
    /// Your sign-up, if any.
    async fn my_sign_up(&self, ctx: &Context<'_>) -> Result<Option<ActivitySignUp>> {
        let actor = actor(ctx).await?;
        let signup = activities::signup_of(&state(ctx)?.db, self.0.id, actor.id).await?;
        Ok(signup.map(ActivitySignUp))
    }
}

pub struct ActivitySignUp(activity_signup::Model);

/// A hold on someone's sign-ups, lifted by STAFF.
#[derive(SimpleObject)]
pub struct SignupHoldLift {
    user_id: ID,
    reason: String,
    lifted_at: DateTime<Utc>,
}

#[Object]
impl ActivitySignUp {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn activity_id(&self) -> ID {
        to_id(self.0.activity_id)
    }
    async fn user(&self, ctx: &Context<'_>) -> Result<User> {
        Ok(User::from(load_user(ctx, self.0.user_id).await?))
    }
    async fn status(&self) -> SignupStatus {
        self.0.status.into()
    }
    async fn checked_in_at(&self) -> Option<DateTime<Utc>> {
        self.0.checked_in_at
    }
    async fn checked_out_at(&self) -> Option<DateTime<Utc>> {
        self.0.checked_out_at
    }
}

pub struct ServiceRecord(service_record::Model);

#[Object]
impl ServiceRecord {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn user(&self, ctx: &Context<'_>) -> Result<User> {
        Ok(User::from(load_user(ctx, self.0.user_id).await?))
    }
    async fn community_id(&self) -> ID {
        to_id(self.0.community_id)
    }
    async fn source(&self) -> ServiceSource {
        self.0.source.into()
    }
    async fn order_id(&self) -> Option<ID> {
        self.0.order_id.map(to_id)
    }
    async fn activity_id(&self) -> Option<ID> {
        self.0.activity_id.map(to_id)
    }
    async fn minutes(&self) -> i32 {
        self.0.minutes
    }
    async fn status(&self) -> RecordStatus {
        self.0.status.into()
    }
    /// Points per hour applied when it was confirmed.
    async fn rate(&self) -> Option<i32> {
        self.0.rate
    }
    async fn points(&self) -> Option<i64> {
        self.0.points
    }
    async fn review_reason(&self) -> Option<&str> {
        self.0.review_reason.as_deref()
    }
    async fn confirmed_at(&self) -> Option<DateTime<Utc>> {
        self.0.confirmed_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct PointsEntry(points_entry::Model);

#[Object]
impl PointsEntry {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn kind(&self) -> EntryKind {
        self.0.kind.into()
    }
    /// Positive for credits, negative for debits.
    async fn amount(&self) -> i64 {
        self.0.amount
    }
    async fn balance_after(&self) -> i64 {
        self.0.balance_after
    }
    /// What caused it (`service_record`, `points_entry`, …) and its id.
    async fn reference_type(&self) -> Option<&str> {
        self.0.reference_type.as_deref()
    }
    async fn reference_id(&self) -> Option<ID> {
        self.0.reference_id.map(to_id)
    }
    async fn rate(&self) -> Option<i32> {
        self.0.rate
    }
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Whose entry it is.
    async fn user_id(&self) -> ID {
        to_id(self.0.user_id)
    }
    /// Who posted it by hand (ADJUST, REVERSAL); null for what the system posted.
    async fn created_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(match self.0.created_by {
            Some(id) => Some(User::from(load_user(ctx, id).await?)),
            None => None,
        })
    }
}

/// A manual adjustment past its requester's daily cap, waiting for a second STAFF member.
pub struct AdjustmentRequest(adjustment_request::Model);

#[Object]
impl AdjustmentRequest {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn user(&self, ctx: &Context<'_>) -> Result<User> {
        Ok(User::from(load_user(ctx, self.0.user_id).await?))
    }
    async fn amount(&self) -> i64 {
        self.0.amount
    }
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    async fn status(&self) -> ApplicationStatus {
        self.0.status.into()
    }
    async fn requested_by(&self, ctx: &Context<'_>) -> Result<User> {
        Ok(User::from(load_user(ctx, self.0.requested_by).await?))
    }
    async fn decided_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(match self.0.decided_by {
            Some(id) => Some(User::from(load_user(ctx, id).await?)),
            None => None,
        })
    }
    async fn decision_reason(&self) -> Option<&str> {
        self.0.decision_reason.as_deref()
    }
    /// The ADJUST entry an approval posted.
    async fn entry_id(&self) -> Option<ID> {
        self.0.entry_id.map(to_id)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }
}

/// My points. The totals are summed only when one of them is asked for, so an app paging
/// through its ledger runs the page's query and nothing else.
pub struct PointsSummary {
    user_id: uuid::Uuid,
    totals: OnceCell<points::PointsSummary>,
}

impl PointsSummary {
    async fn totals(&self, ctx: &Context<'_>) -> Result<&points::PointsSummary> {
        let db = &state(ctx)?.db;
        Ok(self
            .totals
            .get_or_try_init(|| points::summary(db, self.user_id))
            .await?)
    }
}

#[Object]
impl PointsSummary {
    async fn balance(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.totals(ctx).await?.balance)
    }
    /// Points earned, less reversals.
    async fn lifetime_earned(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.totals(ctx).await?.lifetime_earned)
    }
    /// Points spent, less refunds.
    async fn lifetime_spent(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.totals(ctx).await?.lifetime_spent)
    }
    async fn confirmed_hours(&self, ctx: &Context<'_>) -> Result<f64> {
        Ok(rules::hours(self.totals(ctx).await?.confirmed_minutes))
    }
    /// 0–5 stars by cumulative confirmed hours (100, 300, 600, 1000, 1500 h).
    async fn star_level(&self, ctx: &Context<'_>) -> Result<i32> {
        Ok(rules::star_level(self.totals(ctx).await?.confirmed_minutes))
    }

    /// The ledger, newest first.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn ledger(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, PointsEntry>> {
        let request = PageRequest::parse(first, after.as_deref())?;
        let page = points::entries(&state(ctx)?.db, self.user_id, request).await?;
        Ok(connection(page, request, |entry| entry.id, PointsEntry))
    }

    /// When my community's points expire: the oldest of mine still unspent, and when they
    /// go. Null when they never expire or nothing is left.
    async fn next_expiry(&self, ctx: &Context<'_>) -> Result<Option<NextPointsExpiry>> {
        let next = expiry::next_expiry(&state(ctx)?.db, self.user_id).await?;
        Ok(next.map(|next| NextPointsExpiry {
            points: next.points,
            at: next.at,
        }))
    }
}

#[derive(SimpleObject)]
pub struct LeaderboardEntry {
    rank: i32,
    /// As the volunteer allows: masked (张**) when they opted out.
    name: String,
    confirmed_minutes: i64,
    confirmed_hours: f64,
}

#[derive(SimpleObject)]
pub struct PointsNoticeLine {
    /// Name it in `objectToNotice`.
    record_id: ID,
    name: String,
    source: ServiceSource,
    minutes: i32,
    points: i64,
    confirmed_at: Option<DateTime<Utc>>,
}

#[derive(SimpleObject)]
pub struct PointsNotice {
    community_id: ID,
    /// YYYY-MM, China time.
    month: String,
    total_minutes: i64,
    total_points: i64,
    lines: Vec<PointsNoticeLine>,
    /// When the month ends (China time): the notice is final from then on, apart from
    /// objections.
    published_at: DateTime<Utc>,
    /// Residents may object to a line until then (five days after publication).
    objections_close_at: DateTime<Utc>,
    /// Open and resolved objections, oldest first.
    objections: Vec<NoticeObjection>,
}

/// A resident's objection to a notice line; who objected is not shown.
#[derive(SimpleObject)]
pub struct NoticeObjection {
    id: ID,
    record_id: ID,
    reason: String,
    at: DateTime<Utc>,
    /// Null while open.
    resolved_at: Option<DateTime<Utc>>,
    resolution: Option<String>,
    /// STAFF reversed the line's points.
    reversed: bool,
}

impl From<notice_objection::Model> for NoticeObjection {
    fn from(objection: notice_objection::Model) -> Self {
        Self {
            id: to_id(objection.id),
            record_id: to_id(objection.record_id),
            reason: objection.reason,
            at: objection.created_at,
            resolved_at: objection.resolved_at,
            resolution: objection.resolution,
            reversed: objection.reversed,
        }
    }
}

#[derive(InputObject)]
pub struct CreateActivityInput {
    community_id: ID,
    title: String,
    #[graphql(default)]
    description: String,
    place: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    capacity: i32,
    points_per_hour_override: Option<i32>,
    /// With longitude and checkInRadiusMeters (20–5000): volunteers check themselves in
    /// only within that many meters of this place.
    latitude: Option<f64>,
    longitude: Option<f64>,
    check_in_radius_meters: Option<i32>,
}

/// Someone a giver may give points to, and who confirmed it.
pub struct HouseholdMember(household_link::Model);

#[Object]
impl HouseholdMember {
    async fn user(&self, ctx: &Context<'_>) -> Result<User> {
        Ok(User::from(load_user(ctx, self.0.receiver_id).await?))
    }

    /// Confirmed by STAFF of the community rather than accepted by the giver.
    async fn confirmed_by_staff(&self) -> bool {
        self.0.confirmed_by != self.0.giver_id
    }

    async fn confirmed_at(&self) -> DateTime<Utc> {
        self.0.confirmed_at
    }
}

#[derive(Default)]
pub struct PointsQuery;

#[Object]
impl PointsQuery {
    /// Those I may give points to: my household as I accepted it or STAFF confirmed it, while
    /// we are both still registered at its address.
    #[graphql(complexity = "gifts::MAX_HOUSEHOLD * child_complexity")]
    async fn my_household(&self, ctx: &Context<'_>) -> Result<Vec<HouseholdMember>> {
        let actor = actor(ctx).await?;
        let links = gifts::members_of(&state(ctx)?.db, actor.id).await?;
        Ok(links.into_iter().map(HouseholdMember).collect())
    }

    /// My balance, totals, volunteer star level and ledger.
    async fn my_points(&self, ctx: &Context<'_>) -> Result<PointsSummary> {
        let actor = actor(ctx).await?;
        Ok(PointsSummary {
            user_id: actor.id,
            totals: OnceCell::new(),
        })
    }

    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn my_service_records(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, ServiceRecord>> {
        let actor = actor(ctx).await?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let page = records::mine(&state(ctx)?.db, actor.id, request).await?;
        Ok(connection(page, request, |r| r.id, ServiceRecord))
    }

    /// STAFF: adjustment requests of other members that you may decide, oldest first (at
    /// most 100).
    #[graphql(complexity = "100 * child_complexity")]
    async fn pending_points_adjustments(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<AdjustmentRequest>> {
        let actor = actor(ctx).await?;
        let list = adjustments::pending(&state(ctx)?.db, actor).await?;
        Ok(list.into_iter().map(AdjustmentRequest).collect())
    }

    /// ADMIN: every manual adjustment (who: `createdBy`, whom: `userId`, how much, why),
    /// newest first.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn points_adjustments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, PointsEntry>> {
        let actor = actor(ctx).await?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let page = adjustments::audit(&state(ctx)?.db, actor, request).await?;
        Ok(connection(page, request, |e| e.id, PointsEntry))
    }

    /// STAFF: records waiting for review (low-rated orders).
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn pending_service_records(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, ServiceRecord>> {
        let actor = actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let page = records::pending(&state(ctx)?.db, actor, community_id, request).await?;
        Ok(connection(page, request, |r| r.id, ServiceRecord))
    }

    /// A community's volunteer activities, newest first.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn activities(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        #[graphql(default_with = "ActivityTime::Upcoming")] when: ActivityTime,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Activity>> {
        actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let page = activities::list(&state(ctx)?.db, community_id, when.into(), request).await?;
        Ok(connection(page, request, |a| a.id, Activity))
    }

    async fn activity(&self, ctx: &Context<'_>, id: ID) -> Result<Activity> {
        actor(ctx).await?;
        let id = parse_id("id", &id)?;
        Ok(Activity(activities::get(&state(ctx)?.db, id).await?))
    }

    /// Until when repeated no-shows hold back sign-ups in the community: yours, or (STAFF)
    /// someone's with userId; null when they may sign up.
    async fn signup_hold(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        user_id: Option<ID>,
    ) -> Result<Option<DateTime<Utc>>> {
        let actor = actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        let user_id = user_id.map(|id| parse_id("userId", &id)).transpose()?;
        let state = state(ctx)?;
        Ok(attendance::hold_of(&state.db, state.no_shows, actor, community_id, user_id).await?)
    }

    /// STAFF: a link (valid 15 minutes) to the image of the activity's check-in 小程序码,
    /// generated once.
    async fn activity_check_in_code(&self, ctx: &Context<'_>, activity_id: ID) -> Result<String> {
        let actor = actor(ctx).await?;
        let activity_id = parse_id("activityId", &activity_id)?;
        let state = state(ctx)?;
        Ok(activities::check_in_code(&state.db, &state.codes, actor, activity_id).await?)
    }

    /// Top volunteers of a community by confirmed hours.
    #[graphql(complexity = "crate::pagination::list_cost(Some(first), child_complexity)")]
    async fn volunteer_leaderboard(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        #[graphql(default_with = "LeaderboardPeriod::Month")] period: LeaderboardPeriod,
        #[graphql(default = 10)] first: i32,
    ) -> Result<Vec<LeaderboardEntry>> {
        actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        let board =
            notices::leaderboard(&state(ctx)?.db, community_id, period.into(), first).await?;
        Ok(board
            .into_iter()
            .map(|entry| LeaderboardEntry {
                rank: entry.rank,
                name: entry.name,
                confirmed_minutes: entry.confirmed_minutes,
                confirmed_hours: rules::hours(entry.confirmed_minutes),
            })
            .collect())
    }

    /// The monthly public notice (公示) of confirmed volunteer time and points.
    async fn community_points_notice(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        month: String,
    ) -> Result<PointsNotice> {
        actor(ctx).await?;
        let community = parse_id("communityId", &community_id)?;
        let month = Month::parse("month", &month)?;
        let db = &state(ctx)?.db;
        let notice = notices::monthly(db, community, month).await?;
        let (published_at, objections_close_at) = rules::objection_window(month);
        let objections = objections::of_notice(db, community, month).await?;
        Ok(PointsNotice {
            published_at,
            objections_close_at,
            objections: objections.into_iter().map(Into::into).collect(),
            community_id,
            month: month.to_string(),
            total_minutes: notice.total_minutes,
            total_points: notice.total_points,
            lines: notice
                .lines
                .into_iter()
                .map(|line| PointsNoticeLine {
                    record_id: to_id(line.record_id),
                    name: line.name,
                    source: line.source.into(),
                    minutes: line.minutes,
                    points: line.points,
                    confirmed_at: line.confirmed_at,
                })
                .collect(),
        })
    }
}

#[derive(Default)]
pub struct PointsMutation;

#[Object]
impl PointsMutation {
    /// STAFF/ADMIN: points per hour of confirmed time in a community (default 10).
    async fn set_points_rate(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        points_per_hour: i32,
    ) -> Result<Community> {
        let actor = actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        let community =
            points::set_rate(&state(ctx)?.db, actor, community_id, points_per_hour).await?;
        Ok(Community(settle(ctx, community).await?))
    }

    /// Give points to your confirmed household (`myHousehold`), up to the community's monthly
    /// cap; both ledgers show it. A retry with the same `idempotencyKey` gives once.
    async fn gift_points(
        &self,
        ctx: &Context<'_>,
        to_user_id: ID,
        amount: i64,
        note: Option<String>,
        idempotency_key: String,
    ) -> Result<PointsEntry> {
        let actor = actor(ctx).await?;
        let state = state(ctx)?;
        let gift = gifts::Gift {
            to: parse_id("toUserId", &to_user_id)?,
            amount,
            note,
            idempotency_key,
        };
        Ok(PointsEntry(
            gifts::give(&state.db, &state.content, actor, gift).await?,
        ))
    }

    /// Accept a resident registered at your address as your household: from now on you may
    /// give them points (`giftPoints`). They cannot accept themselves onto yours.
    async fn accept_household_member(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
    ) -> Result<HouseholdMember> {
        let actor = actor(ctx).await?;
        let receiver = parse_id("userId", &user_id)?;
        let link = gifts::accept_member(&state(ctx)?.db, actor, receiver).await?;
        Ok(HouseholdMember(link))
    }

    /// Stop giving points to someone of your household (NOT_FOUND when they are not on it).
    async fn remove_household_member(&self, ctx: &Context<'_>, user_id: ID) -> Result<bool> {
        let actor = actor(ctx).await?;
        let receiver = parse_id("userId", &user_id)?;
        gifts::remove_member(&state(ctx)?.db, actor, receiver).await?;
        Ok(true)
    }

    /// STAFF: confirm that two residents of your community live together at the address both
    /// registered: points may then go either way between them.
    #[graphql(complexity = "2 * child_complexity")]
    async fn confirm_household(
        &self,
        ctx: &Context<'_>,
        first_user_id: ID,
        second_user_id: ID,
    ) -> Result<Vec<HouseholdMember>> {
        let actor = actor(ctx).await?;
        let first = parse_id("firstUserId", &first_user_id)?;
        let second = parse_id("secondUserId", &second_user_id)?;
        let links = gifts::confirm_by_staff(&state(ctx)?.db, actor, first, second).await?;
        Ok(links.into_iter().map(HouseholdMember).collect())
    }

    /// STAFF: how many points a resident may give to family in a month (0–100,000; 200 unless
    /// set; 0 turns gifts off).
    async fn set_gift_monthly_cap(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        cap: i64,
    ) -> Result<i64> {
        let actor = actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        Ok(gifts::set_gift_cap(&state(ctx)?.db, actor, community_id, cap).await?)
    }

    /// STAFF: whether the community's points expire (NEVER unless set). An hourly job posts
    /// EXPIRE entries for what is due.
    async fn set_points_expiry(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        expiry: PointsExpiry,
    ) -> Result<PointsExpiry> {
        let actor = actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        let set = expiry::set_expiry(&state(ctx)?.db, actor, community_id, expiry.into()).await?;
        Ok(set.into())
    }

    /// STAFF: a manual correction with a reason the user sees, for someone a community of
    /// theirs confirmed, never themselves. A retry with the same idempotencyKey returns the
    /// first entry and moves nothing again. Past the STAFF member's daily cap
    /// (`ADJUSTMENT_DAILY_CAP`) it is refused with APPROVAL_REQUIRED: use
    /// `requestPointsAdjustment`.
    async fn adjust_points(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        amount: i64,
        reason: String,
        idempotency_key: Option<String>,
    ) -> Result<PointsEntry> {
        let actor = actor(ctx).await?;
        let correction = Correction::parse(parse_id("userId", &user_id)?, amount, &reason)?;
        let state = state(ctx)?;
        let entry = adjustments::adjust(
            &state.db,
            &state.content,
            actor,
            correction,
            idempotency_key,
            state.adjustment_daily_cap,
        )
        .await?;
        Ok(PointsEntry(entry))
    }

    /// STAFF: files a correction for a second STAFF member to approve or reject.
    async fn request_points_adjustment(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        amount: i64,
        reason: String,
    ) -> Result<AdjustmentRequest> {
        let actor = actor(ctx).await?;
        let correction = Correction::parse(parse_id("userId", &user_id)?, amount, &reason)?;
        let state = state(ctx)?;
        let request = adjustments::request(&state.db, &state.content, actor, correction).await?;
        Ok(AdjustmentRequest(request))
    }

    /// STAFF other than the requester: approve (posts the entry) or reject (with a reason).
    async fn decide_points_adjustment(
        &self,
        ctx: &Context<'_>,
        request_id: ID,
        approve: bool,
        reason: Option<String>,
    ) -> Result<AdjustmentRequest> {
        let actor = actor(ctx).await?;
        let id = parse_id("requestId", &request_id)?;
        let state = state(ctx)?;
        let request =
            adjustments::decide(&state.db, &state.content, actor, id, approve, reason).await?;
        Ok(AdjustmentRequest(request))
    }

    /// A resident of the community objects to a line of a monthly notice, within five days
    /// of its publication.
    async fn object_to_notice(
        &self,
        ctx: &Context<'_>,
        record_id: ID,
        reason: String,
    ) -> Result<NoticeObjection> {
        let actor = actor(ctx).await?;
        let record_id = parse_id("recordId", &record_id)?;
        let state = state(ctx)?;
        let objection = objections::object(
            &state.db,
            &state.content,
            actor,
            record_id,
            reason,
            Utc::now(),
        )
        .await?;
        Ok(objection.into())
    }

    /// STAFF other than the objector resolve an objection once, with a note shown on the
    /// notice; `reverse` also takes the line's points back (a REVERSAL entry).
    async fn resolve_notice_objection(
        &self,
        ctx: &Context<'_>,
        objection_id: ID,
        note: String,
        #[graphql(default)] reverse: bool,
    ) -> Result<NoticeObjection> {
        let actor = actor(ctx).await?;
        let id = parse_id("objectionId", &objection_id)?;
        let state = state(ctx)?;
        let objection =
            objections::resolve(&state.db, &state.content, actor, id, note, reverse).await?;
        Ok(objection.into())
    }

    /// STAFF: undo a mistaken EARN with a REVERSAL entry (never by deleting). Once per entry:
    /// asking again returns the first reversal.
    async fn reverse_points_entry(
        &self,
        ctx: &Context<'_>,
        entry_id: ID,
        reason: String,
    ) -> Result<PointsEntry> {
        let actor = actor(ctx).await?;
        let entry_id = parse_id("entryId", &entry_id)?;
        let state = state(ctx)?;
        Ok(PointsEntry(
            points::reverse(&state.db, &state.content, actor, entry_id, reason).await?,
        ))
    }

    /// STAFF: confirm or reject a PENDING record, optionally correcting its minutes.
    async fn review_service_record(
        &self,
        ctx: &Context<'_>,
        id: ID,
        approve: bool,
        minutes: Option<i32>,
        reason: Option<String>,
    ) -> Result<ServiceRecord> {
        let actor = actor(ctx).await?;
        let id = parse_id("id", &id)?;
        let state = state(ctx)?;
        Ok(ServiceRecord(
            records::review(
                &state.db,
                &state.content,
                actor,
                id,
                approve,
                minutes,
                reason,
            )
            .await?,
        ))
    }

    /// STAFF: a volunteer activity (志愿活动) of their community.
    async fn create_activity(
        &self,
        ctx: &Context<'_>,
        input: CreateActivityInput,
    ) -> Result<Activity> {
        let actor = actor(ctx).await?;
        let new = NewActivity {
            community_id: parse_id("communityId", &input.community_id)?,
            title: input.title,
            description: input.description,
            place: input.place,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            capacity: input.capacity,
            points_per_hour_override: input.points_per_hour_override,
            check_in_at: match (
                input.latitude,
                input.longitude,
                input.check_in_radius_meters,
            ) {
                (Some(latitude), Some(longitude), Some(radius)) => {
                    Some((Point::parse(latitude, longitude)?, radius))
                }
                (None, None, None) => None,
                _ => {
                    return Err(AppError::bad_input(
                        "latitude, longitude and checkInRadiusMeters go together",
                    )
                    .into());
                }
            },
        };
        let state = state(ctx)?;
        Ok(Activity(
            activities::create(&state.db, &state.content, actor, new).await?,
        ))
    }

    /// Takes a place; CONFLICT when the activity is full, or while repeated no-shows hold
    /// back the caller's sign-ups in its community (`signupHold`).
    async fn sign_up_activity(&self, ctx: &Context<'_>, activity_id: ID) -> Result<ActivitySignUp> {
        let actor = actor(ctx).await?;
        let id = parse_id("activityId", &activity_id)?;
        let state = state(ctx)?;
        Ok(ActivitySignUp(
            activities::sign_up(&state.db, state.no_shows, actor, id).await?,
        ))
    }

    /// STAFF: lift the hold repeated no-shows put on someone's sign-ups in the community;
    /// their earlier no-shows stop counting.
    async fn lift_signup_hold(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        user_id: ID,
        reason: String,
    ) -> Result<SignupHoldLift> {
        let actor = actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        let user_id = parse_id("userId", &user_id)?;
        let state = state(ctx)?;
        let lift = attendance::lift_hold(
            &state.db,
            &state.content,
            actor,
            community_id,
            user_id,
            reason,
        )
        .await?;
        Ok(SignupHoldLift {
            user_id: to_id(lift.user_id),
            reason: lift.reason,
            lifted_at: lift.created_at,
        })
    }

    async fn cancel_sign_up(&self, ctx: &Context<'_>, activity_id: ID) -> Result<ActivitySignUp> {
        let actor = actor(ctx).await?;
        let id = parse_id("activityId", &activity_id)?;
        Ok(ActivitySignUp(
            activities::cancel_sign_up(&state(ctx)?.db, actor, id).await?,
        ))
    }

    /// Yourself, or (STAFF) someone else with userId. Checking yourself in to an activity
    /// with a check-in radius needs where you are (wx.getLocation).
    async fn check_in(
        &self,
        ctx: &Context<'_>,
        activity_id: ID,
        user_id: Option<ID>,
        latitude: Option<f64>,
        longitude: Option<f64>,
    ) -> Result<ActivitySignUp> {
        let here = match (latitude, longitude) {
            (Some(latitude), Some(longitude)) => Some(Point::parse(latitude, longitude)?),
            (None, None) => None,
            _ => return Err(AppError::bad_input("latitude and longitude go together").into()),
        };
        attendance(ctx, activity_id, user_id, Attendance::CheckIn, here).await
    }

    async fn check_out(
        &self,
        ctx: &Context<'_>,
        activity_id: ID,
        user_id: Option<ID>,
    ) -> Result<ActivitySignUp> {
        attendance(ctx, activity_id, user_id, Attendance::CheckOut, None).await
    }

    /// STAFF: turn someone's attendance into a CONFIRMED record and its points.
    async fn confirm_attendance(
        &self,
        ctx: &Context<'_>,
        activity_id: ID,
        user_id: ID,
        minutes: i32,
    ) -> Result<ServiceRecord> {
        let actor = actor(ctx).await?;
        let activity_id = parse_id("activityId", &activity_id)?;
        let user_id = parse_id("userId", &user_id)?;
        let record =
            activities::confirm_attendance(&state(ctx)?.db, actor, activity_id, user_id, minutes)
                .await?;
        Ok(ServiceRecord(record))
    }
}

async fn attendance(
    ctx: &Context<'_>,
    activity_id: ID,
    user_id: Option<ID>,
    step: Attendance,
    here: Option<Point>,
) -> Result<ActivitySignUp> {
    let actor = actor(ctx).await?;
    let activity_id = parse_id("activityId", &activity_id)?;
    let user_id = user_id.map(|id| parse_id("userId", &id)).transpose()?;
    let db = &state(ctx)?.db;
    let signup = activities::record_attendance(db, actor, activity_id, user_id, step, here).await?;
    Ok(ActivitySignUp(signup))
}

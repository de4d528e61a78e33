//! The street's numbers (the seeds cite 98.5% response and 96.8% satisfaction): counts and
//! rates of the orders placed in a period in a community, street or district, in total, per
//! community, per category and per month (China time). Closed orders are read from rollups
//! per community, category and month, and per day for the part-months at either end of the
//! period, that every step keeps up to date (`restate`); open orders, and the orders of
//! part-days at either end, are counted live. The database adds up; this module only merges
//! the groups.
use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
use entity::{
    enums::{AlertLevel, EscalationLevel, OrderChannel, OrderStatus},
    escalation, order, order_callback,
};
use migration::order_day_stats::{
    COUNT_COLUMNS, OPEN_ORDERS, minutes_between, rebuild_month_statements, rebuild_statements,
};
use sea_orm::{
    ActiveEnum, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
    sea_query::{Alias, Expr, ExprTrait, OnConflict, Query},
};
use uuid::Uuid;

use super::workflow::CLOSED;
use crate::{
    error::{AppError, AppResult},
    identity::Actor,
    infra::db::{begin_write, write_together},
    organisation::{self, Area},
    pagination::Span,
    values::china_time::{self, start_of},
};

/// Additive counts; rates are derived from them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, FromQueryResult)]
pub struct Counts {
    pub placed: i64,
    pub cancelled: i64,
    pub phone_or_staff: i64,
    /// Accepted, or past the response deadline without being accepted (and not cancelled).
    pub due_for_response: i64,
    pub accepted_in_time: i64,
    /// Completed, or past the completion deadline (and not cancelled).
    pub due_for_completion: i64,
    pub completed_in_time: i64,
    pub rated: i64,
    /// Rated 4 or 5 stars.
    pub satisfied: i64,
    /// Rated, with at least one callback visit.
    pub called_back: i64,
    pub accepted: i64,
    pub response_minutes: i64,
    pub completed: i64,
    pub completion_minutes: i64,
    pub yellow: i64,
    pub red: i64,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.placed += other.placed;
        self.cancelled += other.cancelled;
        self.phone_or_staff += other.phone_or_staff;
        self.due_for_response += other.due_for_response;
        self.accepted_in_time += other.accepted_in_time;
        self.due_for_completion += other.due_for_completion;
        self.completed_in_time += other.completed_in_time;
        self.rated += other.rated;
        self.satisfied += other.satisfied;
        self.called_back += other.called_back;
        self.accepted += other.accepted;
        self.response_minutes += other.response_minutes;
        self.completed += other.completed;
        self.completion_minutes += other.completion_minutes;
        self.yellow += other.yellow;
        self.red += other.red;
    }

    pub fn response_rate(&self) -> Option<f64> {
        ratio(self.accepted_in_time, self.due_for_response)
    }
    pub fn resolution_rate(&self) -> Option<f64> {
        ratio(self.completed_in_time, self.due_for_completion)
    }
    pub fn satisfaction_rate(&self) -> Option<f64> {
        ratio(self.satisfied, self.rated)
    }
    pub fn callback_rate(&self) -> Option<f64> {
        ratio(self.called_back, self.rated)
    }
    pub fn average_response_minutes(&self) -> Option<f64> {
        ratio(self.response_minutes, self.accepted)
    }
    pub fn average_completion_minutes(&self) -> Option<f64> {
        ratio(self.completion_minutes, self.completed)
    }
}

/// `None` when there is nothing to divide by.
fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

#[derive(Debug, Default)]
pub struct GovernanceStats {
    pub total: Counts,
    pub by_status: BTreeMap<String, i64>,
    pub by_channel: BTreeMap<String, i64>,
    pub by_community: BTreeMap<Uuid, Counts>,
    pub by_category: BTreeMap<Uuid, Counts>,
    /// `YYYY-MM` (China time) → counts.
    pub by_month: BTreeMap<String, Counts>,
    /// Escalations begun in the period, by level (STREET, DISTRICT).
    pub escalations_by_level: BTreeMap<String, i64>,
    /// The area's communities and the period, for figures beside the orders' (patrols).
    pub span: Span,
}

#[derive(FromQueryResult)]
struct Group {
    community_id: Uuid,
    category_id: Uuid,
    month: String,
    status: String,
    channel: String,
    #[sea_orm(nested)]
    counts: Counts,
}

/// A month of the rollup for one community and category.
#[derive(FromQueryResult)]
struct RolledUp {
    community_id: Uuid,
    category_id: Uuid,
    month: String,
    #[sea_orm(nested)]
    counts: Counts,
    status_completed: i64,
    status_rated: i64,
    status_cancelled: i64,
    channel_app: i64,
    channel_staff: i64,
    channel_hotline: i64,
}

/// One group of counted orders: of a community and category in a month, with how many of
/// them are in each status and came by each channel.
struct Tally {
    key: (Uuid, Uuid, String),
    counts: Counts,
    statuses: Vec<(String, i64)>,
    channels: Vec<(String, i64)>,
}

impl GovernanceStats {
    fn add(&mut self, tally: Tally) {
        let Tally {
            key: (community_id, category_id, month),
            counts,
            statuses,
            channels,
        } = tally;
        self.total.add(&counts);
        for (status, orders) in statuses.into_iter().filter(|(_, n)| *n > 0) {
            *self.by_status.entry(status).or_default() += orders;
        }
        for (channel, orders) in channels.into_iter().filter(|(_, n)| *n > 0) {
            *self.by_channel.entry(channel).or_default() += orders;
        }
        self.by_community
            .entry(community_id)
            .or_default()
            .add(&counts);
        self.by_category
            .entry(category_id)
            .or_default()
            .add(&counts);
        self.by_month.entry(month).or_default().add(&counts);
    }
}

/// The whole China-time days in `[from, to)` as `[first, end)`; `None` when there is none.
fn whole_days(from: DateTime<Utc>, to: DateTime<Utc>) -> Option<(NaiveDate, NaiveDate)> {
    let china = |at: DateTime<Utc>| at + china_time::OFFSET;
    let first = china(from).date_naive();
    let first = if china(from).time() == NaiveTime::MIN {
        first
    } else {
        first.succ_opt()?
    };
    let end = china(to).date_naive();
    (first < end).then_some((first, end))
}

fn day_key(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

fn month_key(day: NaiveDate) -> String {
    day.format("%Y-%m").to_string()
}

/// The whole months among the days `[first, end)`, as `[first day, end day)`; `None` when
/// there is none.
fn whole_months(first: NaiveDate, end: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let month_start = |day: NaiveDate| day.with_day(1).expect("every month has a first day");
    let from = match month_start(first) {
        start if start == first => first,
        start => start.checked_add_months(chrono::Months::new(1))?,
    };
    let to = month_start(end);
    (from < to).then_some((from, to))
}

/// ADMIN anywhere; STREET_STAFF for their street; STAFF for their own community.
pub async fn governance_stats(
    db: &DatabaseConnection,
    actor: &Actor,
    area: Area,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<GovernanceStats> {
    if !organisation::oversees(actor, area) {
        return Err(AppError::forbidden(
            "only ADMIN, STREET_STAFF for their street, or STAFF for their own community, may see these numbers",
        ));
    }
    if to <= from || to - from > chrono::Duration::days(3 * 366) {
        return Err(AppError::bad_input(
            "`to` must be after `from`, at most three years later",
        ));
    }
    let communities = organisation::communities_in(db, area).await?;
    let mut stats = GovernanceStats {
        span: Span {
            communities: communities.clone(),
            from,
            to,
        },
        ..GovernanceStats::default()
    };
    if communities.is_empty() {
        return Ok(stats);
    }
    let in_area = || order::Column::CommunityId.is_in(communities.iter().copied());
    let placed = |from: DateTime<Utc>, to: DateTime<Utc>| {
        Condition::all()
            .add(order::Column::CreatedAt.gte(from))
            .add(order::Column::CreatedAt.lt(to))
    };
    let tallies: Vec<Tally> = match whole_days(from, to) {
        Some((first, end)) => {
            // Closed orders of whole days from the rollup; live: the open orders of those
            // days, and all orders of the part-days at either end.
            let open = Condition::all()
                .add(in_area())
                .add(placed(start_of(first), start_of(end)))
                .add(Expr::cust(OPEN_ORDERS));
            let edges = Condition::all().add(in_area()).add(
                Condition::any()
                    .add(placed(from, start_of(first)))
                    .add(placed(start_of(end), to)),
            );
            // Whole months from their rollup, the days around them from the day rollup.
            let (months, days) = match whole_months(first, end) {
                Some((from, to)) => (
                    vec![(month_key(from), month_key(to))],
                    vec![(day_key(first), day_key(from)), (day_key(to), day_key(end))],
                ),
                None => (Vec::new(), vec![(day_key(first), day_key(end))]),
            };
            // Four statements on four pooled connections at once.
            let (open, edges, months, days) = futures::try_join!(
                count_live(db, open),
                count_live(db, edges),
                count_rolled_up(db, &communities, Rollup::Months, months),
                count_rolled_up(db, &communities, Rollup::Days, days),
            )?;
            [open, edges, months, days].into_iter().flatten().collect()
        }
        None => {
            let period = Condition::all().add(in_area()).add(placed(from, to));
            count_live(db, period).await?
        }
    };
    for tally in tallies {
        stats.add(tally);
    }
    let escalations: Vec<(EscalationLevel, i64)> = escalation::Entity::find()
        .select_only()
        .column(escalation::Column::Level)
        .column_as(escalation::Column::Id.count(), "hops")
        .filter(escalation::Column::CommunityId.is_in(communities))
        .filter(escalation::Column::CreatedAt.gte(from))
        .filter(escalation::Column::CreatedAt.lt(to))
        .group_by(escalation::Column::Level)
        .into_tuple()
        .all(db)
        .await?;
    stats.escalations_by_level = escalations
        .into_iter()
        .map(|(level, hops)| (level.to_value(), hops))
        .collect();
    Ok(stats)
}

/// The orders matching `orders`, counted in one grouped query.
async fn count_live(db: &DatabaseConnection, orders: Condition) -> AppResult<Vec<Tally>> {
    let backend = db.get_database_backend();
    let now = Utc::now();
    let mut query = Query::select();
    query
        .column(order::Column::CommunityId)
        .column(order::Column::CategoryId)
        .expr_as(
            Expr::cust(month_of("created_at", backend)),
            Alias::new("month"),
        )
        .column(order::Column::Status)
        .column(order::Column::Channel)
        .from(order::Entity)
        .cond_where(orders)
        .group_by_columns([
            order::Column::CommunityId,
            order::Column::CategoryId,
            order::Column::Status,
            order::Column::Channel,
        ])
        .add_group_by([Expr::cust("month")]);
    let cancelled = "status = 'CANCELLED'";
    let sums: [(&str, String); 16] = [
        ("placed", "1 = 1".to_owned()),
        ("cancelled", cancelled.to_owned()),
        ("phone_or_staff", "channel <> 'APP'".to_owned()),
        (
            "due_for_response",
            format!(
                "accepted_at IS NOT NULL OR (response_due_at < {now} AND NOT {cancelled})",
                now = literal(now, backend)
            ),
        ),
        (
            "accepted_in_time",
            "accepted_at <= response_due_at".to_owned(),
        ),
        (
            "due_for_completion",
            format!(
                "completed_at IS NOT NULL OR (completion_due_at < {now} AND NOT {cancelled})",
                now = literal(now, backend)
            ),
        ),
        (
            "completed_in_time",
            "completed_at <= completion_due_at".to_owned(),
        ),
        ("rated", "rating_stars IS NOT NULL".to_owned()),
        ("satisfied", "rating_stars >= 4".to_owned()),
        (
            "called_back",
            // One hashed set of called-back orders, not a lookup per row.
            "rating_stars IS NOT NULL AND orders.id IN (SELECT order_id FROM order_callbacks)"
                .to_owned(),
        ),
        ("accepted", "accepted_at IS NOT NULL".to_owned()),
        ("completed", "completed_at IS NOT NULL".to_owned()),
        ("yellow", "alert_level = 'YELLOW'".to_owned()),
        ("red", "alert_level = 'RED'".to_owned()),
        ("response_minutes", String::new()),
        ("completion_minutes", String::new()),
    ];
    for (name, condition) in sums {
        let sum = match name {
            "response_minutes" => format!(
                "COALESCE(SUM({}), 0)",
                minutes_between("created_at", "accepted_at", backend)
            ),
            "completion_minutes" => format!(
                "COALESCE(SUM({}), 0)",
                minutes_between("created_at", "completed_at", backend)
            ),
            _ => format!("SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"),
        };
        query.expr_as(
            Expr::cust(format!("CAST({sum} AS BIGINT)")),
            Alias::new(name),
        );
    }
    let groups = Group::find_by_statement(backend.build(&query))
        .all(db)
        .await?;
    Ok(groups
        .into_iter()
        .map(|group| Tally {
            key: (group.community_id, group.category_id, group.month),
            statuses: vec![(group.status, group.counts.placed)],
            channels: vec![(group.channel, group.counts.placed)],
            counts: group.counts,
        })
        .collect())
}

/// governanceStats' rollups of closed orders: per day, and the same per month.
#[derive(Clone, Copy)]
enum Rollup {
    Days,
    Months,
}

impl Rollup {
    fn table(self) -> Alias {
        Alias::new(match self {
            Self::Days => "order_day_stats",
            Self::Months => "order_month_stats",
        })
    }

    /// The column a row's period is in, `YYYY-MM-DD` or `YYYY-MM`.
    fn key(self) -> &'static str {
        match self {
            Self::Days => "day",
            Self::Months => "month",
        }
    }
}

/// The rollup's rows of these communities in the periods `[from, to)` (keys of its rows), by
/// month.
async fn count_rolled_up(
    db: &DatabaseConnection,
    communities: &[Uuid],
    rollup: Rollup,
    periods: Vec<(String, String)>,
) -> AppResult<Vec<Tally>> {
    let periods: Vec<_> = periods.into_iter().filter(|(from, to)| from < to).collect();
    if periods.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let key = Alias::new(rollup.key());
    let month = format!("substr({}, 1, 7)", rollup.key());
    let mut within = Condition::any();
    for (from, to) in periods {
        within = within.add(
            Condition::all()
                .add(Expr::col(key.clone()).gte(from))
                .add(Expr::col(key.clone()).lt(to)),
        );
    }
    let mut query = Query::select();
    query
        .column(Alias::new("community_id"))
        .column(Alias::new("category_id"))
        .expr_as(Expr::cust(month.clone()), Alias::new("month"))
        .from(rollup.table())
        .and_where(Expr::col(Alias::new("community_id")).is_in(communities.iter().copied()))
        .cond_where(within)
        .group_by_columns([Alias::new("community_id"), Alias::new("category_id")])
        .add_group_by([Expr::cust(month)]);
    for column in COUNT_COLUMNS {
        query.expr_as(
            Expr::cust(format!("CAST(SUM({column}) AS BIGINT)")),
            Alias::new(column),
        );
    }
    let rows = RolledUp::find_by_statement(backend.build(&query))
        .all(db)
        .await?;
    let named = |pairs: [(&str, i64); 3]| {
        pairs
            .into_iter()
            .map(|(name, orders)| (name.to_owned(), orders))
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|row| Tally {
            key: (row.community_id, row.category_id, row.month),
            counts: row.counts,
            statuses: named([
                ("COMPLETED", row.status_completed),
                ("RATED", row.status_rated),
                ("CANCELLED", row.status_cancelled),
            ]),
            channels: named([
                ("APP", row.channel_app),
                ("STAFF", row.channel_staff),
                ("HOTLINE", row.channel_hotline),
            ]),
        })
        .collect())
}

const COLUMNS: usize = COUNT_COLUMNS.len();

/// What a closed order adds to its day's row of the rollup, column by column as
/// `COUNT_COLUMNS` (the same sums as the rebuild's SQL); nothing while it is open.
pub fn contribution(order: &order::Model, called_back: bool) -> Option<[i64; COLUMNS]> {
    if !CLOSED.contains(&order.status) {
        return None;
    }
    let flag = |yes: bool| i64::from(yes);
    let minutes = |end: Option<DateTime<Utc>>| {
        end.map_or(0, |end| {
            (end - order.created_at).num_seconds().div_euclid(60)
        })
    };
    let within = |at: Option<DateTime<Utc>>, due: Option<DateTime<Utc>>| {
        flag(at.zip(due).is_some_and(|(at, due)| at <= due))
    };
    let rated = order.rating_stars.is_some();
    Some(COUNT_COLUMNS.map(|column| match column {
        "placed" => 1,
        "cancelled" | "status_cancelled" => flag(order.status == OrderStatus::Cancelled),
        "phone_or_staff" => flag(order.channel != OrderChannel::App),
        "due_for_response" | "accepted" => flag(order.accepted_at.is_some()),
        "accepted_in_time" => within(order.accepted_at, Some(order.response_due_at)),
        "due_for_completion" | "completed" => flag(order.completed_at.is_some()),
        "completed_in_time" => within(order.completed_at, order.completion_due_at),
        "rated" => flag(rated),
        "satisfied" => flag(order.rating_stars.is_some_and(|stars| stars >= 4)),
        "called_back" => flag(rated && called_back),
        "response_minutes" => minutes(order.accepted_at),
        "completion_minutes" => minutes(order.completed_at),
        "yellow" => flag(order.alert_level == AlertLevel::Yellow),
        "red" => flag(order.alert_level == AlertLevel::Red),
        "status_completed" => flag(order.status == OrderStatus::Completed),
        "status_rated" => flag(order.status == OrderStatus::Rated),
        "channel_app" => flag(order.channel == OrderChannel::App),
        "channel_staff" => flag(order.channel == OrderChannel::Staff),
        "channel_hotline" => flag(order.channel == OrderChannel::Hotline),
        other => unreachable!("no contribution for {other}"),
    }))
}

/// An order as the rollup sees it: the order, and whether it has a callback visit.
pub type Fact<'a> = (&'a order::Model, bool);

/// Moves an order's share of the rollup from what it was (`before`) to what it is (`after`),
/// in the transaction of the change: a closed order adds to its day's row, an open one adds
/// nothing.
pub async fn restate(
    txn: &impl ConnectionTrait,
    before: Option<Fact<'_>>,
    after: Option<Fact<'_>>,
) -> AppResult<()> {
    let share = |fact: Option<Fact<'_>>| {
        fact.and_then(|(order, called_back)| {
            let counts = contribution(order, called_back)?;
            let day = day_key(china_time::date_of(order.created_at));
            Some(((order.community_id, order.category_id, day), counts))
        })
    };
    let mut deltas: Vec<((Uuid, Uuid, String), [i64; COLUMNS])> = Vec::new();
    if let Some((key, counts)) = share(before) {
        deltas.push((key, counts.map(|n| -n)));
    }
    if let Some((key, counts)) = share(after) {
        match deltas.iter_mut().find(|(other, _)| *other == key) {
            Some((_, delta)) => {
                for (d, n) in delta.iter_mut().zip(counts) {
                    *d += n;
                }
            }
            None => deltas.push((key, counts)),
        }
    }
    for ((community_id, category_id, day), delta) in deltas {
        if delta.iter().all(|n| *n == 0) {
            continue;
        }
        let month = day[..7].to_owned();
        let upsert = |rollup: Rollup, period: String| {
            let key = [
                Alias::new("community_id"),
                Alias::new("category_id"),
                Alias::new(rollup.key()),
            ];
            let mut values: Vec<Expr> =
                vec![community_id.into(), category_id.into(), period.into()];
            values.extend(delta.iter().map(|n| Expr::value(*n)));
            let add = COUNT_COLUMNS.iter().map(|column| {
                (
                    Alias::new(*column),
                    Expr::col((rollup.table(), Alias::new(*column)))
                        .add(Expr::col((Alias::new("excluded"), Alias::new(*column)))),
                )
            });
            Query::insert()
                .into_table(rollup.table())
                .columns(key.iter().cloned().chain(COUNT_COLUMNS.map(Alias::new)))
                .values_panic(values)
                .on_conflict(OnConflict::columns(key).values(add).to_owned())
                .to_owned()
        };
        let days = upsert(Rollup::Days, day);
        write_together(txn, vec![days], upsert(Rollup::Months, month)).await?;
    }
    Ok(())
}

/// Whether a step from `before` to `after` changes the rollups: it closes the order or opens
/// a closed one again.
pub fn restates(before: &order::Model, after: &order::Model) -> bool {
    CLOSED.contains(&before.status) || CLOSED.contains(&after.status)
}

/// `restate` for a change to one order that leaves its callbacks as they are.
pub async fn restate_order(
    txn: &impl ConnectionTrait,
    before: &order::Model,
    after: &order::Model,
) -> AppResult<()> {
    if !restates(before, after) {
        return Ok(());
    }
    let called_back = has_callback(txn, after.id).await?;
    restate(txn, Some((before, called_back)), Some((after, called_back))).await
}

pub async fn has_callback(txn: &impl ConnectionTrait, order_id: Uuid) -> AppResult<bool> {
    Ok(order_callback::Entity::find()
        .filter(order_callback::Column::OrderId.eq(order_id))
        .one(txn)
        .await?
        .is_some())
}

/// Rebuilds the rollup from the orders table, after orders were loaded around the API (the
/// benchmark's seed) or to check it.
pub async fn rebuild(db: &DatabaseConnection) -> AppResult<()> {
    let txn = begin_write(db).await?;
    let statements = rebuild_statements(db.get_database_backend());
    for statement in statements.into_iter().chain(rebuild_month_statements()) {
        txn.execute_unprepared(&statement).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// `YYYY-MM` of a timestamp in China time (UTC+8, no daylight saving).
fn month_of(column: &str, backend: DatabaseBackend) -> String {
    match backend {
        DatabaseBackend::Postgres => {
            format!("to_char({column} AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')")
        }
        _ => format!("strftime('%Y-%m', {column}, '+8 hours')"),
    }
}

/// A timestamp as an SQL literal the backend compares with its stored timestamps.
fn literal(at: DateTime<Utc>, backend: DatabaseBackend) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("TIMESTAMPTZ '{}'", at.to_rfc3339()),
        // sqlx stores SQLite timestamps as text in this form, so text comparison orders them.
        _ => format!("'{}'", at.format("%Y-%m-%d %H:%M:%S%.f%:z")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_need_something_to_divide_by() {
        let counts = Counts {
            rated: 4,
            satisfied: 3,
            ..Counts::default()
        };
        assert_eq!(counts.satisfaction_rate(), Some(0.75));
        assert_eq!(counts.response_rate(), None);
    }

    #[test]
    fn whole_china_days_are_those_inside_the_period() {
        let at = |text: &str| DateTime::parse_from_rfc3339(text).expect("time").to_utc();
        let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("day");
        // 2026-11-01 00:00 in China is 2026-10-31 16:00 UTC.
        assert_eq!(
            whole_days(at("2026-10-31T16:00:00Z"), at("2026-11-03T16:00:00Z")),
            Some((day("2026-11-01"), day("2026-11-04")))
        );
        assert_eq!(
            whole_days(at("2026-10-31T17:00:00Z"), at("2026-11-03T15:00:00Z")),
            Some((day("2026-11-02"), day("2026-11-03")))
        );
        assert_eq!(
            whole_days(at("2026-10-31T17:00:00Z"), at("2026-11-01T15:00:00Z")),
            None
        );
        assert_eq!(start_of(day("2026-11-01")), at("2026-10-31T16:00:00Z"));
    }

    #[test]
    fn whole_months_are_those_inside_the_days() {
        let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("day");
        assert_eq!(
            whole_months(day("2025-12-07"), day("2026-12-08")),
            Some((day("2026-01-01"), day("2026-12-01")))
        );
        assert_eq!(
            whole_months(day("2026-01-01"), day("2026-03-01")),
            Some((day("2026-01-01"), day("2026-03-01")))
        );
        assert_eq!(whole_months(day("2026-01-02"), day("2026-02-28")), None);
        assert_eq!(whole_months(day("2026-01-01"), day("2026-01-31")), None);
    }

    #[test]
    fn only_closed_orders_add_to_the_rollup() {
        let column = |name| {
            COUNT_COLUMNS
                .iter()
                .position(|c| *c == name)
                .expect("column")
        };
        let open = crate::orders::sample_order();
        assert!(contribution(&open, false).is_none());
        let now = Utc::now();
        let rated = order::Model {
            status: OrderStatus::Rated,
            accepted_at: Some(open.created_at + chrono::Duration::seconds(150)),
            completed_at: Some(now),
            rating_stars: Some(2),
            ..open.clone()
        };
        let counts = contribution(&rated, true).expect("closed");
        assert_eq!(counts[column("placed")], 1);
        assert_eq!(counts[column("satisfied")], 0);
        assert_eq!(counts[column("called_back")], 1);
        assert_eq!(counts[column("response_minutes")], 2);
        assert_eq!(counts[column("status_rated")], 1);
        assert_eq!(counts[column("channel_app")], 1);
    }

    #[test]
    fn counts_add_up_field_by_field() {
        let mut total = Counts::default();
        let one = Counts {
            placed: 2,
            red: 1,
            completion_minutes: 30,
            ..Counts::default()
        };
        total.add(&one);
        total.add(&one);
        assert_eq!(total.placed, 4);
        assert_eq!(total.red, 2);
        assert_eq!(total.completion_minutes, 60);
    }
}

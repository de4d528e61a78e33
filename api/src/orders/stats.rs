//! The street's numbers (the seeds cite 98.5% response and 96.8% satisfaction): counts and
//! rates of the orders placed in a period in a community, street or district, in total, per
//! community, per category and per month (China time). One aggregate query does the work in
//! the database; this module only adds its groups up.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::{enums::EscalationLevel, escalation, order};
use sea_orm::{
    ActiveEnum, ColumnTrait, DatabaseBackend, DatabaseConnection, EntityTrait, FromQueryResult,
    QueryFilter, QuerySelect,
    sea_query::{Alias, Expr, Query},
};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    identity::Actor,
    organisation::{self, Area},
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
    let mut stats = GovernanceStats::default();
    if communities.is_empty() {
        return Ok(stats);
    }
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
        .and_where(order::Column::CommunityId.is_in(communities.iter().copied()))
        .and_where(order::Column::CreatedAt.gte(from))
        .and_where(order::Column::CreatedAt.lt(to))
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
    for group in groups {
        let counts = group.counts;
        stats.total.add(&counts);
        *stats.by_status.entry(group.status).or_default() += counts.placed;
        *stats.by_channel.entry(group.channel).or_default() += counts.placed;
        stats
            .by_community
            .entry(group.community_id)
            .or_default()
            .add(&counts);
        stats
            .by_category
            .entry(group.category_id)
            .or_default()
            .add(&counts);
        stats.by_month.entry(group.month).or_default().add(&counts);
    }
    Ok(stats)
}

/// Whole minutes from `start` to `end` (NULL when `end` is).
fn minutes_between(start: &str, end: &str, backend: DatabaseBackend) -> String {
    match backend {
        DatabaseBackend::Postgres => {
            format!("FLOOR(EXTRACT(EPOCH FROM ({end} - {start})) / 60)")
        }
        // Whole seconds first: julianday's floating point would turn 30 minutes into 29.99….
        _ => {
            format!("CAST(ROUND((julianday({end}) - julianday({start})) * 86400) AS INTEGER) / 60")
        }
    }
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

//! governanceStats' rollup: per community, category and day (China time) the additive counts
//! of the orders placed that day that are closed (completed, rated or cancelled). Open orders
//! are few and change by the minute, so they are counted live; closed ones are counted here,
//! kept up to date by every step in its own transaction (`orders::stats::restate`).
use sea_orm_migration::{prelude::*, schema::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OrderDayStats {
    Table,
    CommunityId,
    CategoryId,
    Day,
}

/// The counted columns, each a sum over the day's closed orders (`COUNTS`'s SQL).
pub const COUNT_COLUMNS: [&str; 22] = [
    "placed",
    "cancelled",
    "phone_or_staff",
    "due_for_response",
    "accepted_in_time",
    "due_for_completion",
    "completed_in_time",
    "rated",
    "satisfied",
    "called_back",
    "accepted",
    "response_minutes",
    "completed",
    "completion_minutes",
    "yellow",
    "red",
    "status_completed",
    "status_rated",
    "status_cancelled",
    "channel_app",
    "channel_staff",
    "channel_hotline",
];

/// Orders not yet closed, as SQL with literals (a partial index's predicate and the queries it
/// serves must match as text for the planner to use it with bound parameters).
pub const OPEN_ORDERS: &str = "status NOT IN ('COMPLETED', 'RATED', 'CANCELLED')";

/// Whole minutes from `start` to `end` (NULL when `end` is).
pub fn minutes_between(start: &str, end: &str, backend: DatabaseBackend) -> String {
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

/// `YYYY-MM-DD` of a timestamp in China time (UTC+8, no daylight saving).
pub fn day_of(column: &str, backend: DatabaseBackend) -> String {
    match backend {
        DatabaseBackend::Postgres => {
            format!("to_char({column} AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')")
        }
        _ => format!("strftime('%Y-%m-%d', {column}, '+8 hours')"),
    }
}

/// What each counted column sums for a closed order.
fn closed_order_sum(column: &str, backend: DatabaseBackend) -> String {
    let when = |condition: &str| format!("SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)");
    match column {
        "placed" => "COUNT(*)".to_owned(),
        "cancelled" | "status_cancelled" => when("status = 'CANCELLED'"),
        "phone_or_staff" => when("channel <> 'APP'"),
        // A closed order that was not cancelled was accepted (a department's resolution
        // records its acceptance too), so only the columns themselves decide.
        "due_for_response" | "accepted" => when("accepted_at IS NOT NULL"),
        "accepted_in_time" => when("accepted_at <= response_due_at"),
        "due_for_completion" | "completed" => when("completed_at IS NOT NULL"),
        "completed_in_time" => when("completed_at <= completion_due_at"),
        "rated" => when("rating_stars IS NOT NULL"),
        "satisfied" => when("rating_stars >= 4"),
        "called_back" => {
            when("rating_stars IS NOT NULL AND orders.id IN (SELECT order_id FROM order_callbacks)")
        }
        "response_minutes" => format!(
            "COALESCE(SUM({}), 0)",
            minutes_between("created_at", "accepted_at", backend)
        ),
        "completion_minutes" => format!(
            "COALESCE(SUM({}), 0)",
            minutes_between("created_at", "completed_at", backend)
        ),
        "yellow" => when("alert_level = 'YELLOW'"),
        "red" => when("alert_level = 'RED'"),
        "status_completed" => when("status = 'COMPLETED'"),
        "status_rated" => when("status = 'RATED'"),
        "channel_app" => when("channel = 'APP'"),
        "channel_staff" => when("channel = 'STAFF'"),
        "channel_hotline" => when("channel = 'HOTLINE'"),
        other => unreachable!("no sum for {other}"),
    }
}

/// Rebuilds the whole rollup from the orders table: after a bulk load, or to check it.
pub fn rebuild_statements(backend: DatabaseBackend) -> Vec<String> {
    let sums: Vec<String> = COUNT_COLUMNS
        .iter()
        .map(|column| format!("CAST({} AS BIGINT)", closed_order_sum(column, backend)))
        .collect();
    let day = day_of("created_at", backend);
    vec![
        "DELETE FROM order_day_stats".to_owned(),
        format!(
            "INSERT INTO order_day_stats (community_id, category_id, day, {columns}) \
             SELECT community_id, category_id, {day}, {sums} FROM orders \
             WHERE NOT ({OPEN_ORDERS}) \
             GROUP BY community_id, category_id, {day}",
            columns = COUNT_COLUMNS.join(", "),
            sums = sums.join(", "),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table(OrderDayStats::Table)
            .col(uuid(OrderDayStats::CommunityId))
            .col(uuid(OrderDayStats::CategoryId))
            .col(string(OrderDayStats::Day))
            .primary_key(
                Index::create()
                    .col(OrderDayStats::CommunityId)
                    .col(OrderDayStats::Day)
                    .col(OrderDayStats::CategoryId),
            );
        for column in COUNT_COLUMNS {
            table.col(big_integer(Alias::new(column)).default(0));
        }
        manager.create_table(table.to_owned()).await?;
        let db = manager.get_connection();
        // The open orders governanceStats counts live, found without reading closed ones.
        db.execute_unprepared(&format!(
            "CREATE INDEX idx_orders_open_placed ON orders (community_id, created_at) WHERE {OPEN_ORDERS}"
        ))
        .await?;
        for statement in rebuild_statements(manager.get_database_backend()) {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("idx_orders_open_placed").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(OrderDayStats::Table).to_owned())
            .await
    }
}

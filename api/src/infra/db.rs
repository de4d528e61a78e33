//! Database connection and the one way write transactions are started.
use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
    sea_query::{Alias, Expr, Func, IntoColumnRef},
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

/// PostgreSQL connections per instance when `DATABASE_MAX_CONNECTIONS` is not set.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    connect_with_pool(url, DEFAULT_MAX_CONNECTIONS).await
}

/// `max_connections` applies to PostgreSQL; more connections than the database has cores
/// mostly add contention.
pub async fn connect_with_pool(
    url: &str,
    max_connections: u32,
) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url);
    options
        .sqlx_logging(false)
        // While the database is down a request fails after this with SERVICE_UNAVAILABLE
        // instead of hanging; a pool this busy for this long is overloaded anyway.
        .acquire_timeout(Duration::from_secs(3));
    if url.starts_with("sqlite:") {
        // SQLite has one writer; WAL lets readers run beside it, and busy_timeout makes
        // IMMEDIATE writers queue instead of failing at once.
        options.max_connections(8).map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    } else {
        // sqlx pings a connection when it goes back to the pool; pinging it again on every
        // checkout would double the round trips of each query, so only stale ones are tested.
        options
            .max_connections(max_connections)
            .min_connections(2)
            .test_before_acquire_if_idle_for(Duration::from_secs(30));
    }
    Database::connect(options)
        .await
        .with_context(|| format!("connecting to the database at {}", redact(url)))
}

pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None)
        .await
        .context("applying database migrations")
}

/// Begins a transaction that will write. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes fails with
/// SQLITE_BUSY at once, ignoring busy_timeout, when another writer got in between.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// `SUM(column)` as a 64-bit integer on every backend: PostgreSQL sums BIGINT to NUMERIC.
pub fn sum_i64(column: impl IntoColumnRef) -> Expr {
    Func::cast_as(Func::sum(Expr::col(column)), Alias::new("bigint")).into()
}

/// Hides the password of a connection URL for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/hongfan"),
            "postgres://app:***@db:5432/hongfan"
        );
        assert_eq!(redact("sqlite://hongfan.db"), "sqlite://hongfan.db");
    }
}

//! Database connection and the one way write transactions are started.
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, SubsecRound, Utc};
use migration::{Migrator, MigratorTrait, one_statement_writes::GUARD_UNMET};
use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, Condition, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, IdenStatic, Iterable, ModelTrait, Order,
    QueryResult, RuntimeErr, SqlErr, SqliteTransactionMode, Statement, StatementBuilder,
    TransactionOptions, TransactionTrait, Value,
    sea_query::{
        Alias, Asterisk, CommonTableExpression, Expr, ExprTrait, Func, InsertStatement,
        IntoColumnRef, IntoCondition, Query, SelectStatement, SubQueryStatement, UpdateStatement,
        WithClause,
    },
    sqlx::{
        postgres::PgSslMode,
        sqlite::{SqliteJournalMode, SqliteSynchronous},
    },
};
use uuid::Uuid;

use crate::config::DEFAULT_MAX_CONNECTIONS;

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
        if !names_ssl_mode(url) && std::env::var_os("PGSSLMODE").is_none() {
            options.map_sqlx_postgres_opts(|opts| {
                if is_loopback(opts.get_host()) {
                    opts.ssl_mode(PgSslMode::Disable)
                } else {
                    opts
                }
            });
        }
    }
    Database::connect(options)
        .await
        .with_context(|| format!("connecting to the database at {}", redact(url)))
}

/// Whether the URL chooses its TLS mode; when it does not, libpq's and sqlx's default
/// (`prefer`) encrypts wherever the server offers TLS, loopback included. There it protects
/// nothing and cost 13 % of the CPU a page of the pool takes in Hongfan and PostgreSQL
/// (bench/RESULTS.md), so a database on the same host is reached in plain text unless
/// `sslmode` or `PGSSLMODE` says otherwise.
fn names_ssl_mode(url: &str) -> bool {
    url.split_once('?').is_some_and(|(_, query)| {
        query
            .split('&')
            .any(|pair| matches!(pair.split('=').next(), Some("sslmode" | "ssl-mode")))
    })
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.starts_with('/')
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    let applied = if db.get_database_backend() == DbBackend::Sqlite {
        // One transaction on one connection: a fresh embedded database is made in one commit,
        // and the pool's other connections reload the schema once rather than after each
        // statement (schema parsing was most of a first start: bench/cold-start.sh).
        async {
            let txn = begin_write(db).await?;
            Migrator::up(&txn, None).await?;
            txn.commit().await
        }
        .await
    } else {
        Migrator::up(db, None).await
    };
    applied.context("applying database migrations")
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

/// Begins a write transaction that holds `subject` (e.g. "adjust:<user id>") until it ends, so
/// that a cap read in it and the write it allows are one step: concurrent requests for the
/// same subject run one after another. On PostgreSQL a transaction-scoped advisory lock; on
/// SQLite the write lock `begin_write` takes before the first read already serialises every
/// writer.
pub async fn begin_serialised(
    db: &DatabaseConnection,
    subject: &str,
) -> Result<DatabaseTransaction, DbErr> {
    let txn = begin_write(db).await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            [subject.into()],
        ))
        .await?;
    }
    Ok(txn)
}

/// Runs the inserts that belong to one change and then `main`, answering how many rows `main`
/// changed. On PostgreSQL they go as one statement, the inserts in a WITH clause (each runs
/// exactly once, whatever `main` does), so the change costs one round trip; SQLite takes them
/// one by one. A caller that refuses the change when `main` changed nothing rolls back the
/// inserts with it.
pub async fn write_together<S>(
    txn: &impl ConnectionTrait,
    inserts: Vec<InsertStatement>,
    main: S,
) -> Result<u64, DbErr>
where
    S: StatementBuilder + Into<SubQueryStatement>,
{
    if !writes_in_one_statement(txn) || inserts.is_empty() {
        for insert in &inserts {
            txn.execute(insert).await?;
        }
        return Ok(txn.execute(&main).await?.rows_affected());
    }
    Ok(txn
        .execute(&written_with(inserts).query(main))
        .await?
        .rows_affected())
}

/// Whether the database runs inserts and updates inside one statement's WITH clause
/// (PostgreSQL), so that `write_together` and `write_at_once` can send a change at once;
/// SQLite takes it one statement at a time.
pub fn writes_in_one_statement(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}

/// The inserts as a WITH clause, each run exactly once whatever its main statement does.
fn written_with(inserts: Vec<InsertStatement>) -> WithClause {
    let mut with = WithClause::new();
    add_inserts(&mut with, inserts);
    with
}

fn add_inserts(with: &mut WithClause, inserts: Vec<InsertStatement>) {
    for (n, insert) in inserts.into_iter().enumerate() {
        with.cte(
            CommonTableExpression::new()
                .query(insert)
                .table_name(Alias::new(format!("written_{n}")))
                .to_owned(),
        );
    }
}

/// The rows the `n`th guard of `write_at_once` changed, as they are after it: an insert of
/// the same statement may select from them (a balance the guard moved, say).
pub fn guarded(n: usize) -> Alias {
    Alias::new(format!("guarded_{n}"))
}

/// For `write_at_once`: the insert of `model`'s row once for each row the `n`th guard changed,
/// its column `taken` read from that row's `from` (a value only the guard finds); none when
/// the guard changed no row.
pub fn insert_from_guarded<M: ModelTrait>(
    model: &M,
    n: usize,
    (taken, from): (<M::Entity as EntityTrait>::Column, impl IntoColumnRef),
) -> InsertStatement {
    let mut row = row_taking(model, taken, Expr::col(from));
    row.from(guarded(n));
    insert_row::<M>(row)
}

/// The insert of `model`'s row with its column `taken` the value of `from` (a subquery, say)
/// when the statement runs.
pub fn insert_taking<M: ModelTrait>(
    model: &M,
    (taken, from): (<M::Entity as EntityTrait>::Column, Expr),
) -> InsertStatement {
    insert_row::<M>(row_taking(model, taken, from))
}

/// `model`'s values, column by column, but `from` for its column `taken`.
fn row_taking<M: ModelTrait>(
    model: &M,
    taken: <M::Entity as EntityTrait>::Column,
    from: Expr,
) -> SelectStatement {
    let mut row = Query::select();
    for column in <M::Entity as EntityTrait>::Column::iter() {
        row.expr(match column.as_str() == taken.as_str() {
            true => from.clone(),
            false => Expr::val(model.get(column)),
        });
    }
    row
}

fn insert_row<M: ModelTrait>(row: SelectStatement) -> InsertStatement {
    Query::insert()
        .into_table(M::Entity::default())
        .columns(<M::Entity as EntityTrait>::Column::iter())
        .select_from(row)
        .expect("one value per column")
        .to_owned()
}

/// On PostgreSQL, stores `guards` (compare-and-sets) and `inserts` as ONE statement in a
/// transaction of its own: a single round trip where BEGIN, the statements and COMMIT take
/// three or more. Nothing is stored unless every guard changes a row (`hongfan_require`
/// aborts the statement otherwise). Answers whether it stored the change: `false` when a guard
/// was not met, and always on SQLite, which takes the change one statement at a time; the
/// caller then runs its transaction path, which decides.
pub async fn write_at_once(
    db: &DatabaseConnection,
    inserts: Vec<InsertStatement>,
    guards: Vec<UpdateStatement>,
) -> Result<bool, DbErr> {
    let stored = write_at_once_answering(db, inserts, guards, Expr::val(true)).await?;
    Ok(stored.is_some())
}

/// `write_at_once` answering `answer` (which may read `guarded(n)`: a balance a guard left,
/// say) as the column `answer` of its row; `None` when it stored nothing. Also `None` when the
/// statement met a unique row or another such statement's locks (a deadlock): the transaction
/// path, which takes its locks in order, decides those.
pub async fn write_at_once_answering(
    db: &DatabaseConnection,
    inserts: Vec<InsertStatement>,
    guards: Vec<UpdateStatement>,
    answer: Expr,
) -> Result<Option<QueryResult>, DbErr> {
    if !writes_in_one_statement(db) {
        return Ok(None);
    }
    let mut with = WithClause::new();
    let mut met = Expr::val(true);
    for (n, mut guard) in guards.into_iter().enumerate() {
        guard.returning(Query::returning().all());
        with.cte(
            CommonTableExpression::new()
                .query(guard)
                .table_name(guarded(n))
                .to_owned(),
        );
        let changed = Query::select()
            .expr(Expr::val(1))
            .from(guarded(n))
            .to_owned();
        met = met.and(Expr::exists(changed));
    }
    add_inserts(&mut with, inserts);
    let check = Query::select()
        .expr(Func::cust("hongfan_require").arg(met))
        .expr_as(answer, Alias::new("answer"))
        .to_owned();
    match db.query_one(&with.query(check)).await {
        Ok(row) => Ok(row),
        Err(error) if decided_by_the_transaction(&error) => Ok(None),
        Err(error) => Err(error),
    }
}

/// A guard unmet, a unique row met, or a deadlock with another one-statement write.
fn decided_by_the_transaction(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
        || database_error_code(error).is_some_and(|code| code == GUARD_UNMET || code == DEADLOCK)
}

/// PostgreSQL's `deadlock_detected`.
const DEADLOCK: &str = "40P01";

fn database_error_code(error: &DbErr) -> Option<String> {
    let (DbErr::Exec(RuntimeErr::SqlxError(error)) | DbErr::Query(RuntimeErr::SqlxError(error))) =
        error
    else {
        return None;
    };
    Some(error.as_database_error()?.code()?.into_owned())
}

/// A new UUIDv7 made by the database, for rows whose number only the statement finds.
pub fn new_id(backend: DbBackend) -> Expr {
    match backend {
        DbBackend::Postgres => Func::cust("hongfan_uuid7").into(),
        // Milliseconds, version 7, 12 random bits, the variant (10) and 62 random bits, as the
        // 16-byte blob SQLite keeps uuids in.
        _ => Expr::cust(
            "unhex(printf('%012x', CAST(unixepoch('subsec') * 1000 AS INTEGER)) || '7' \
             || substr(hex(randomblob(2)), 1, 3) || substr('89ab', 1 + abs(random()) % 4, 1) \
             || substr(hex(randomblob(8)), 1, 15))",
        ),
    }
}

/// The time now as the databases keep it (microseconds), so that a row built in memory beside
/// the statement that wrote it equals the row read back later.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// `SUM(column)` as a 64-bit integer on every backend: PostgreSQL sums BIGINT to NUMERIC.
pub fn sum_i64(column: impl IntoColumnRef) -> Expr {
    Func::cast_as(Func::sum(Expr::col(column)), Alias::new("bigint")).into()
}

/// How many of the selected rows meet `condition` (NULL when none are selected): several
/// such counts of one set of rows cost one statement.
pub fn count_where(condition: impl IntoCondition) -> Expr {
    let case = Expr::case(condition, Expr::val(1)).finally(Expr::val(0));
    Func::cast_as(Func::sum(case), Alias::new("bigint")).into()
}

/// Adds every column of `entity` to `query` as `<prefix><column>`, so that one row of a join
/// decodes into several models (`FromQueryResult::from_query_result(row, prefix)`).
pub fn select_prefixed<E: EntityTrait>(query: &mut SelectStatement, entity: E, prefix: &str) {
    for column in E::Column::iter() {
        query.expr_as(
            Expr::col((entity, column)),
            Alias::new(format!("{prefix}{}", column.as_str())),
        );
    }
}

/// Rows grouped by their parent, in their order; rows without a parent are left out.
pub fn group_by_parent<T>(
    rows: Vec<T>,
    parent: impl Fn(&T) -> Option<Uuid>,
) -> HashMap<Uuid, Vec<T>> {
    let mut grouped: HashMap<Uuid, Vec<T>> = HashMap::new();
    for row in rows {
        if let Some(id) = parent(&row) {
            grouped.entry(id).or_default().push(row);
        }
    }
    grouped
}

/// The first `limit` rows of `E` (in `order_by`, `order`) of each parent in `parents`, among
/// those matching `condition`, grouped by parent: one statement for many parents, with a
/// window function (PostgreSQL and SQLite both have them) so that no parent's rows are read
/// past its limit.
pub async fn first_per_parent<E>(
    db: &impl ConnectionTrait,
    condition: Condition,
    parent: E::Column,
    parents: &[Uuid],
    (order_by, order): (E::Column, Order),
    limit: u64,
) -> Result<HashMap<Uuid, Vec<E::Model>>, DbErr>
where
    E: EntityTrait,
{
    let direction = match order {
        Order::Desc => "DESC",
        _ => "ASC",
    };
    let mut ranked = Query::select();
    ranked
        .column(Asterisk)
        .expr_as(
            Expr::cust(format!(
                "ROW_NUMBER() OVER (PARTITION BY \"{}\" ORDER BY \"{}\" {direction})",
                parent.as_str(),
                order_by.as_str()
            )),
            Alias::new("position"),
        )
        .from(E::default())
        .cond_where(condition.add(parent.is_in(parents.iter().copied())));
    let query = Query::select()
        .column(Asterisk)
        .from_subquery(ranked, Alias::new("ranked"))
        .and_where(Expr::col(Alias::new("position")).lte(limit))
        .order_by(Alias::new(order_by.as_str()), order)
        .to_owned();
    let rows = E::find()
        .from_raw_sql(db.get_database_backend().build(&query))
        .all(db)
        .await?;
    let mut groups: HashMap<Uuid, Vec<E::Model>> = HashMap::new();
    for row in rows {
        if let Value::Uuid(Some(id)) = row.get(parent) {
            groups.entry(id).or_default().push(row);
        }
    }
    Ok(groups)
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
    use super::{is_loopback, names_ssl_mode, redact};

    #[test]
    fn only_a_url_without_sslmode_leaves_tls_to_us() {
        assert!(!names_ssl_mode("postgres://app@127.0.0.1/hongfan"));
        assert!(!names_ssl_mode(
            "postgres://app@db/hongfan?application_name=x"
        ));
        assert!(names_ssl_mode("postgres://app@db/hongfan?sslmode=prefer"));
        assert!(names_ssl_mode(
            "postgres://app@db/hongfan?a=1&ssl-mode=require"
        ));
    }

    #[test]
    fn loopback_hosts_and_sockets_are_local() {
        for host in [
            "localhost",
            "127.0.0.1",
            "127.0.0.2",
            "::1",
            "[::1]",
            "/run/postgresql",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["db", "10.0.0.5", "pg.example.com", "::2"] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/hongfan"),
            "postgres://app:***@db:5432/hongfan"
        );
        assert_eq!(redact("sqlite://hongfan.db"), "sqlite://hongfan.db");
    }
}

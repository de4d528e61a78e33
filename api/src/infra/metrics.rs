//! Prometheus metrics of one instance, served at GET /metrics: GraphQL requests by operation,
//! their latency, SQL statements and the database pool.
use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};
use sea_orm::DatabaseConnection;

use crate::error::causes;

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    request_seconds: HistogramVec,
    statements: IntCounterVec,
    statement_seconds: Histogram,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    near_cache_reads: IntCounterVec,
    job_last_success: IntGaugeVec,
    job_failures: IntCounterVec,
    /// Operation names that label series: each one a logged-in caller ran successfully, up to
    /// `MAX_OPERATION_LABELS`. Strangers' names would make series without bound.
    operations: Arc<Mutex<HashSet<String>>>,
}

const MAX_OPERATION_LABELS: usize = 100;

tokio::task_local! {
    /// Set while a periodic job runs, so that its statements are told apart from the requests'
    /// (a request's statements may run on the data loaders' tasks, so it is the jobs that are
    /// marked).
    static IN_JOB: ();
}

/// Runs `work` as a job's: the statements it runs are counted with `origin="job"`.
pub async fn as_job<T>(work: impl Future<Output = T>) -> T {
    IN_JOB.scope((), work).await
}

#[derive(Clone)]
pub struct NearCacheCounters {
    pub hits: IntCounter,
    pub misses: IntCounter,
}

/// Who sent a request, as far as the metrics care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    Anonymous,
    LoggedIn,
}

const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

impl Metrics {
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new_custom(Some("hongfan".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "graphql_requests_total",
                "GraphQL requests by operation and outcome",
            ),
            &["operation", "outcome"],
        )?;
        let request_seconds = HistogramVec::new(
            HistogramOpts::new(
                "graphql_request_duration_seconds",
                "GraphQL request latency",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["operation"],
        )?;
        let statements = IntCounterVec::new(
            Opts::new(
                "db_statements_total",
                "SQL statements executed, by what ran them (request, job)",
            ),
            &["origin"],
        )?;
        for origin in ["request", "job"] {
            statements.with_label_values(&[origin]);
        }
        let statement_seconds = Histogram::with_opts(
            HistogramOpts::new("db_statement_duration_seconds", "SQL statement latency")
                .buckets(LATENCY_BUCKETS.to_vec()),
        )?;
        let pool_connections = IntGauge::new("db_pool_connections", "open database connections")?;
        let pool_idle = IntGauge::new("db_pool_idle_connections", "idle database connections")?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(request_seconds.clone()))?;
        registry.register(Box::new(statements.clone()))?;
        registry.register(Box::new(statement_seconds.clone()))?;
        registry.register(Box::new(pool_connections.clone()))?;
        let near_cache_reads = IntCounterVec::new(
            Opts::new(
                "near_cache_reads_total",
                "reads of the per-instance caches by namespace and outcome (hit, miss)",
            ),
            &["namespace", "outcome"],
        )?;
        registry.register(Box::new(pool_idle.clone()))?;
        registry.register(Box::new(near_cache_reads.clone()))?;
        let job_last_success = IntGaugeVec::new(
            Opts::new(
                "job_last_success_timestamp_seconds",
                "when each periodic job last succeeded (Unix time)",
            ),
            &["job"],
        )?;
        let job_failures = IntCounterVec::new(
            Opts::new("job_failures_total", "failed runs of each periodic job"),
            &["job"],
        )?;
        registry.register(Box::new(job_last_success.clone()))?;
        registry.register(Box::new(job_failures.clone()))?;
        Ok(Self {
            registry,
            requests,
            request_seconds,
            statements,
            statement_seconds,
            pool_connections,
            pool_idle,
            near_cache_reads,
            job_last_success,
            job_failures,
            operations: Arc::default(),
        })
    }

    /// Requests are labelled with their operation name when the server knows it (see
    /// `operations`), `other` when not, and `anonymous` for requests without a token.
    pub fn observe_request(
        &self,
        sender: Sender,
        operation: Option<&str>,
        elapsed: Duration,
        ok: bool,
    ) {
        let operation = match (sender, operation) {
            (Sender::Anonymous, _) => "anonymous",
            (Sender::LoggedIn, None) => "other",
            (Sender::LoggedIn, Some(name)) => {
                let mut known = self
                    .operations
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                let learnable = ok
                    && known.len() < MAX_OPERATION_LABELS
                    && name.len() <= 64
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if learnable {
                    known.insert(name.to_owned());
                }
                let label = if known.contains(name) { name } else { "other" };
                self.count(label, elapsed, ok);
                return;
            }
        };
        self.count(operation, elapsed, ok);
    }

    fn count(&self, operation: &str, elapsed: Duration, ok: bool) {
        let outcome = if ok { "ok" } else { "error" };
        self.requests.with_label_values(&[operation, outcome]).inc();
        self.request_seconds
            .with_label_values(&[operation])
            .observe(elapsed.as_secs_f64());
    }

    /// The hit and miss counters of one near cache.
    pub fn near_cache_counters(&self, namespace: &str) -> NearCacheCounters {
        let counter = |outcome| {
            self.near_cache_reads
                .with_label_values(&[namespace, outcome])
        };
        NearCacheCounters {
            hits: counter("hit"),
            misses: counter("miss"),
        }
    }

    pub fn job_succeeded(&self, job: &str, at: chrono::DateTime<chrono::Utc>) {
        self.job_last_success
            .with_label_values(&[job])
            .set(at.timestamp());
    }

    pub fn job_failed(&self, job: &str) {
        self.job_failures.with_label_values(&[job]).inc();
    }

    /// Makes a job's failure series exist at 0, so that alerts on its rate see the first one.
    pub fn job_failed_never(&self, job: &str) {
        self.job_failures.with_label_values(&[job]);
    }

    pub fn observe_statement(&self, elapsed: Duration) {
        let origin = if IN_JOB.try_with(|_| ()).is_ok() {
            "job"
        } else {
            "request"
        };
        self.statements.with_label_values(&[origin]).inc();
        self.statement_seconds.observe(elapsed.as_secs_f64());
    }

    /// The text exposition format, with the pool gauges read now.
    pub fn render(&self, db: &DatabaseConnection) -> String {
        let (size, idle) = if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        } else {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        };
        self.pool_connections.set(i64::from(size));
        self.pool_idle.set(idle as i64);
        let mut buffer = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut buffer) {
            tracing::error!(error = %causes(&error), "cannot encode metrics");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}

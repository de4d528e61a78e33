//! The periodic jobs as an operator sees them: `hongfan run-job NAME` runs one now, a failure
//! reaches the log with its root cause, and /metrics tells when each last succeeded and counts
//! their statements apart.
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database};

use crate::helpers::{empty_database, spawn_app};

fn hongfan(database_url: &str, args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_hongfan"))
        .args(args)
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run hongfan");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test]
async fn run_job_runs_one_now_and_a_failure_logs_its_root_cause() {
    let (database_url, _kept) = empty_database().await;
    let (ok, output) = hongfan(&database_url, &["run-job", "points-expiry"]);
    assert!(ok, "{output}");
    assert!(output.contains("points-expiry: 0 changed"), "{output}");

    let (ok, output) = hongfan(&database_url, &["run-job", "no-such-job"]);
    assert!(!ok);
    assert!(output.contains("points-expiry"), "names the jobs: {output}");

    let db = Database::connect(&database_url).await.expect("connect");
    db.execute_unprepared("ALTER TABLE wishes RENAME TO wishes_gone")
        .await
        .expect("rename");
    let (ok, output) = hongfan(&database_url, &["run-job", "wish-expiry"]);
    assert!(!ok, "{output}");
    let logged = output
        .lines()
        .find(|line| line.contains("job failed"))
        .unwrap_or_else(|| panic!("the failure is logged: {output}"));
    assert!(logged.contains("wish-expiry"), "{logged}");
    assert!(
        logged.contains("no such table: wishes")
            || logged.contains(r#"relation "wishes" does not exist"#),
        "the root cause, not only \"internal error\": {logged}"
    );
}

#[tokio::test]
async fn metrics_tell_when_each_job_last_succeeded() {
    let app = spawn_app().await;
    // Delivery runs at start, the sweeps a period later.
    let last_delivery = r#"hongfan_job_last_success_timestamp_seconds{job="delivery"}"#;
    let mut waited = Duration::ZERO;
    while !app.metrics_text().await.contains(last_delivery) {
        assert!(waited < Duration::from_secs(10), "delivery never succeeded");
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
    let now = chrono::Utc::now().timestamp() as u64;
    assert!(app.metric(last_delivery).await + 60 > now);
    assert!(
        app.metric(r#"hongfan_db_statements_total{origin="job"}"#)
            .await
            > 0,
        "the jobs' statements are counted apart from the requests'"
    );
    for job in hongfan::jobs::Job::ALL {
        let failures = format!(r#"hongfan_job_failures_total{{job="{}"}}"#, job.name());
        assert_eq!(app.metric(&failures).await, 0, "{failures}");
    }
}

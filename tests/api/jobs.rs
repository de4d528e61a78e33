//! The periodic jobs as an operator sees them: `hongfan run-job NAME` runs one now, a failure
//! reaches the log with its root cause, and /metrics tells when each last succeeded and counts
//! their statements apart.
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database};

use crate::helpers::{World, empty_database, inbox_kinds, spawn_app};

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

/// A notice for a community's Party members that its instance stopped before filing (here
/// stored by hand, so no commit woke a worker) is filed by the next sweep of any instance, once
/// per member.
#[tokio::test]
async fn a_fan_out_left_by_a_stopped_instance_is_filed_by_the_next_sweep() {
    use entity::inbox_fanout;
    use hongfan::notify::{inbox, notifications::NotificationKind};
    use sea_orm::{EntityTrait, PaginatorTrait, Set};

    let w = World::new().await;
    let notice = uuid::Uuid::now_v7();
    inbox_fanout::Entity::insert(inbox_fanout::ActiveModel {
        notification_id: Set(notice),
        kind: Set(inbox::kind_name(NotificationKind::NewOpenOrder)),
        order_id: Set(None),
        redemption_id: Set(None),
        message: Set("新的可接订单: 留下的".to_owned()),
        created_at: Set(chrono::Utc::now()),
        members_of: Set(w.demo.community.parse().expect("uuid")),
    })
    .exec(&w.app.db)
    .await
    .expect("a fan-out");
    let (ok, output) = hongfan(&w.app.settings.database_url, &["run-job", "inbox-fanout"]);
    assert!(ok, "{output}");
    assert_eq!(
        inbox_fanout::Entity::find()
            .count(&w.app.db)
            .await
            .expect("count"),
        0
    );
    for member in [&w.member, &w.other_member] {
        assert_eq!(inbox_kinds(&w.app, &member.token).await, ["NEW_OPEN_ORDER"]);
    }
    assert!(
        inbox_kinds(&w.app, &w.resident.token).await.is_empty(),
        "only the community's Party members"
    );
}

//! PostgreSQL goes away under load and comes back: requests fail fast with
//! SERVICE_UNAVAILABLE instead of hanging, readiness reports it while liveness does not, and
//! the same process serves again shortly after the database returns. The outage is made by a
//! TCP relay between Hongfan and PostgreSQL that drops every connection and refuses new ones,
//! as a database restart does, without disturbing the shared server other tests use.
use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::json;
use tokio::{
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

use crate::{
    helpers::World,
    helpers::{TestApp, spawn_app_with},
};

const POSTGRES: &str = "127.0.0.1:5432";

/// Relays a local port to PostgreSQL while up.
struct Relay {
    port: u16,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    async fn start(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind relay");
        let port = listener.local_addr().expect("address").port();
        let tasks: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let connections = Arc::clone(&tasks);
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let relay = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(POSTGRES).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                connections.lock().expect("tasks").push(relay);
            }
        });
        tasks.lock().expect("tasks").push(accept);
        Self { port, tasks }
    }

    /// Stops listening and cuts every relayed connection.
    fn stop(self) -> u16 {
        for task in self.tasks.lock().expect("tasks").drain(..) {
            task.abort();
        }
        self.port
    }
}

async fn status(app: &TestApp, path: &str) -> u16 {
    app.http
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .expect(path)
        .status()
        .as_u16()
}

#[tokio::test]
async fn requests_fail_fast_while_postgres_is_down_and_the_api_recovers_by_itself() {
    let Ok(server) = std::env::var("HONGFAN_TEST_DATABASE_URL") else {
        // The embedded database lives in the process: it cannot go away on its own.
        return;
    };
    assert!(
        server.contains(POSTGRES),
        "expects PostgreSQL on {POSTGRES}"
    );
    let relay = Relay::start(0).await;
    let relayed = format!("127.0.0.1:{}", relay.port);
    let app = spawn_app_with(|settings| {
        settings.database_url = settings.database_url.replace(POSTGRES, &relayed);
    })
    .await;
    let w = World::on(app).await;
    let before = w.place().await;

    let port = relay.stop();
    assert_eq!(
        status(&w.app, "/healthz").await,
        200,
        "the process is alive"
    );
    assert_eq!(status(&w.app, "/readyz").await, 503, "but not ready");
    for _ in 0..3 {
        let started = Instant::now();
        let body = tokio::time::timeout(
            Duration::from_secs(10),
            w.app.graphql(
                Some(&w.resident.token),
                "query($id: ID!) { order(id: $id) { status } }",
                json!({ "id": before }),
            ),
        )
        .await
        .expect("a request while the database is down must not hang");
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "SERVICE_UNAVAILABLE",
            "after {:?}: {body}",
            started.elapsed()
        );
    }

    let relay = Relay::start(port).await;
    let back = Instant::now();
    while status(&w.app, "/readyz").await != 200 {
        assert!(
            back.elapsed() < Duration::from_secs(5),
            "not ready 5 s after the database returned"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every request after that succeeds, on connections made after the outage.
    let order = w
        .app
        .ok(
            &w.staff.token,
            "query($id: ID!) { order(id: $id) { status events { action } } }",
            json!({ "id": before }),
        )
        .await;
    assert_eq!(order["order"]["status"], "PENDING_DISPATCH");
    assert_eq!(order["order"]["events"], json!([{ "action": "PLACE" }]));
    for _ in 0..5 {
        w.place().await;
    }
    relay.stop();
}

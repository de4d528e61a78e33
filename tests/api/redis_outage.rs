//! A configured Redis that goes away: the API keeps serving from the database, reports
//! itself degraded, and recovers by itself when Redis returns.
use std::{
    process::Stdio,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    process::{Child, Command},
};

use crate::{helpers::PUBLISH, helpers::spawn_app_with};

/// A throwaway redis-server of our own on a free port, so stopping it disturbs nothing else.
async fn start_redis(port: u16) -> Child {
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("redis-server must be installed to run this test");
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("redis-server did not start on port {port}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("free port")
}

async fn readiness(app: &crate::helpers::TestApp) -> (u16, Value) {
    let response = app
        .http
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .expect("readyz");
    (
        response.status().as_u16(),
        response.json().await.expect("json"),
    )
}

/// Readiness reports Redis as ok again within 10 s.
async fn assert_recovers(app: &crate::helpers::TestApp) {
    for _ in 0..50 {
        if readiness(app).await.1["redis"] == "ok" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("readiness did not see Redis come back");
}

#[tokio::test]
async fn the_api_keeps_serving_while_redis_is_down_and_recovers_after() {
    let port = free_port();
    let mut redis = start_redis(port).await;
    let app = spawn_app_with(|settings| {
        settings.redis_url = Some(format!("redis://127.0.0.1:{port}"));
        settings.redis_key_prefix = "outage-test".into();
    })
    .await;
    let w = crate::helpers::World::on(app).await;
    assert_eq!(
        readiness(&w.app).await,
        (200, json!({ "database": "ok", "redis": "ok" }))
    );

    redis.kill().await.expect("stop redis");
    redis.wait().await.expect("reap redis");
    let (status, body) = readiness(&w.app).await;
    assert_eq!((status, &body["redis"]), (200, &json!("degraded")));

    // Everything the database can serve still works: log in, order, publish, log out.
    let resident = w.app.login("demo-resident").await;
    let order = w.place().await;
    w.app
        .ok(&w.staff.token, PUBLISH, json!({ "id": order }))
        .await;
    w.app
        .ok(&resident.token, "mutation { logout }", json!({}))
        .await;
    // The revocation is in the database, which answers while Redis cannot.
    let after = w
        .app
        .graphql(Some(&resident.token), "{ me { id } }", json!({}))
        .await;
    assert_eq!(after["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");

    let _redis = start_redis(port).await;
    assert_recovers(&w.app).await;
    w.app.ok(&w.member.token, "{ me { id } }", json!({})).await;
}

/// A relay in front of Redis that can cut the link the way a failed network does: the
/// connections stay open and nothing gets through until the link is back, when TCP delivers
/// what was held. It counts what the API tried while the link was cut: each write and each
/// new connection.
struct Relay {
    port: u16,
    cut: Arc<AtomicBool>,
    held: Arc<AtomicUsize>,
}

async fn wait_while(cut: &AtomicBool) {
    while cut.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn relay_to(upstream: u16) -> Relay {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let (cut, held) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let (link_cut, link_held) = (cut.clone(), held.clone());
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (cut, held) = (link_cut.clone(), link_held.clone());
            if cut.load(Ordering::SeqCst) {
                held.fetch_add(1, Ordering::SeqCst);
            }
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                    return;
                };
                let ((mut from_client, mut to_client), (mut from_server, mut to_server)) =
                    (client.into_split(), server.into_split());
                // Reads go on while the link is cut (so that each try is counted); what was
                // read is forwarded, in order, once the link is back.
                let (queue, mut queued) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
                let read = async {
                    let mut buffer = [0u8; 8192];
                    while let Ok(n @ 1..) = from_client.read(&mut buffer).await {
                        if cut.load(Ordering::SeqCst) {
                            held.fetch_add(1, Ordering::SeqCst);
                        }
                        if queue.send(buffer[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                    drop(queue);
                };
                let up = async {
                    while let Some(bytes) = queued.recv().await {
                        wait_while(&cut).await;
                        if to_server.write_all(&bytes).await.is_err() {
                            break;
                        }
                    }
                };
                let down = async {
                    let mut buffer = [0u8; 8192];
                    while let Ok(n @ 1..) = from_server.read(&mut buffer).await {
                        wait_while(&cut).await;
                        if to_client.write_all(&buffer[..n]).await.is_err() {
                            break;
                        }
                    }
                };
                tokio::join!(read, up, down);
            });
        }
    });
    Relay { port, cut, held }
}

#[tokio::test]
async fn while_redis_hangs_requests_skip_it_instead_of_each_waiting_for_a_timeout() {
    let port = free_port();
    let _redis = start_redis(port).await;
    let relay = relay_to(port).await;
    let app = spawn_app_with(|settings| {
        settings.redis_url = Some(format!("redis://127.0.0.1:{}", relay.port));
        settings.redis_key_prefix = "hang-test".into();
    })
    .await;
    let w = crate::helpers::World::on(app).await;
    const REQUESTS: usize = 40;
    let run = || async {
        let started = Instant::now();
        for _ in 0..REQUESTS {
            w.app.ok(&w.member.token, "{ me { id } }", json!({})).await;
        }
        REQUESTS as f64 / started.elapsed().as_secs_f64()
    };
    let before = run().await;
    relay.cut.store(true, Ordering::SeqCst);
    let during = run().await;
    // Every request counts itself in Redis. Without skipping, each would try the cut link
    // (a command, or a new connection) and wait out the timeout; with it, a probe now and
    // then does.
    let sent = relay.held.load(Ordering::SeqCst);
    assert!(
        sent < REQUESTS / 2,
        "{sent} tries into the cut link for {REQUESTS} requests"
    );
    eprintln!(
        "requests/s with Redis answering: {before:.0}; with its link cut: {during:.0} \
         ({sent} tries into the cut link)"
    );
    relay.cut.store(false, Ordering::SeqCst);
    assert_recovers(&w.app).await;
}

//! A configured Redis that goes away: the API keeps serving from the database, reports
//! itself degraded, and recovers by itself when Redis returns.
use std::{process::Stdio, time::Duration};

use serde_json::{Value, json};
use tokio::process::{Child, Command};

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
    let mut recovered = false;
    for _ in 0..50 {
        if readiness(&w.app).await.1["redis"] == "ok" {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(recovered, "readiness did not see Redis come back");
    w.app.ok(&w.member.token, "{ me { id } }", json!({})).await;
}

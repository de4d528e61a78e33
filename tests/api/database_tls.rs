//! How the API reaches PostgreSQL: on a loopback host, without `sslmode` in the URL, in plain
//! text (TLS there protects nothing and costs both sides CPU on every query); an `sslmode`
//! in the URL is obeyed. Runs in the PostgreSQL half of the suite.
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

async fn one_bool(db: &DatabaseConnection, sql: &str) -> bool {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("a row");
    row.try_get_by_index(0).expect("a boolean")
}

async fn encrypted(url: &str) -> bool {
    let db = hongfan::infra::db::connect(url).await.expect("connect");
    let tls = one_bool(
        &db,
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    )
    .await;
    db.close().await.expect("close");
    tls
}

#[tokio::test]
async fn a_loopback_database_is_reached_without_tls_unless_the_url_asks_for_it() {
    let Some(server) = std::env::var("HONGFAN_TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
    else {
        return;
    };
    let database = format!("{}/postgres", server.trim_end_matches('/'));
    if !(database.contains("@127.0.0.1") || database.contains("@localhost")) {
        return; // a server elsewhere keeps libpq's default
    }
    let offered = {
        let db = hongfan::infra::db::connect(&database)
            .await
            .expect("connect");
        one_bool(&db, "SELECT current_setting('ssl') = 'on'").await
    };
    assert!(!encrypted(&database).await, "plain text on loopback");
    assert_eq!(
        encrypted(&format!("{database}?sslmode=prefer")).await,
        offered,
        "an explicit sslmode is obeyed"
    );
}

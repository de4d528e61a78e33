//! Spawns the real application per test, on its own database: a fresh SQLite file by default,
//! or a PostgreSQL database cloned from a migrated template when HONGFAN_TEST_DATABASE_URL
//! points at a PostgreSQL server (and Redis when HONGFAN_TEST_REDIS_URL is set).
use std::sync::atomic::{AtomicUsize, Ordering};

use entity::{community, enums::Role, service_category};
use hongfan::{
    config::{Secret, Settings},
    identity::roles::grant_role_by_openid,
    notify::Dispatcher,
    startup::Application,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, QueryOrder};
use serde_json::{Value, json};
use tokio::sync::Mutex;

pub struct TestApp {
    pub address: String,
    pub metrics_address: Option<String>,
    pub db: DatabaseConnection,
    /// What the CLI and background jobs settle their changes with.
    pub dispatcher: Dispatcher,
    /// How this instance's delivery worker sends inbox messages.
    pub delivery: hongfan::notify::delivery::Sender,
    pub http: reqwest::Client,
    pub settings: Settings,
    /// The SQLite file and local object storage, removed with the app.
    _dir: Option<std::sync::Arc<tempfile::TempDir>>,
}

/// A logged-in user.
pub struct Login {
    pub token: String,
    pub refresh_token: String,
    pub user_id: String,
}

/// Ids from the demo data every test starts from.
pub struct Demo {
    pub community: String,
    pub other_community: String,
    pub repair: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customise: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = Settings {
        hongfan_bind: "127.0.0.1:0".parse().expect("address"),
        hongfan_metrics_bind: Some("127.0.0.1:0".parse().expect("address")),
        // Tests move many points; the cap has a test of its own.
        adjustment_daily_cap: 1_000_000,
        jwt_secret: Some(Secret::new("test-secret-test-secret-test-secret!")),
        ..Settings::default()
    };
    let dir = tempfile::tempdir().expect("temp dir");
    settings.hongfan_data_dir = dir.path().join("data").display().to_string();
    // Tests deliver with `deliver_due` at times they choose; the worker's own rounds would
    // also add SQL to the statement counts tests compare.
    settings.delivery_interval_seconds = 3600;
    settings.database_url = match std::env::var("HONGFAN_TEST_DATABASE_URL") {
        Ok(server) if !server.is_empty() => postgres_database(&server).await,
        _ => format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display()),
    };
    if let Some(endpoint) = s3_endpoint() {
        settings.storage_s3_bucket = Some(S3_BUCKET.to_owned());
        settings.storage_s3_endpoint = Some(endpoint);
        settings.storage_s3_access_key_id = Some("test".to_owned());
        settings.storage_s3_secret_access_key = Some(Secret::new("test"));
    }
    if let Ok(redis) = std::env::var("HONGFAN_TEST_REDIS_URL")
        && !redis.is_empty()
    {
        settings.redis_url = Some(redis);
        settings.redis_key_prefix = format!("hongfan-test:{}", uuid::Uuid::now_v7());
    }
    customise(&mut settings);
    start(settings, Some(std::sync::Arc::new(dir))).await
}

async fn start(settings: Settings, dir: Option<std::sync::Arc<tempfile::TempDir>>) -> TestApp {
    let app = Application::build(&settings).await.expect("build app");
    let address = format!("http://{}", app.local_addr().expect("address"));
    let metrics_address = app
        .metrics_addr()
        .map(|address| format!("http://{address}"));
    let db = app.state().db.clone();
    let dispatcher = app.state().dispatcher.clone();
    let delivery = app.state().delivery.clone();
    tokio::spawn(app.serve());
    TestApp {
        address,
        metrics_address,
        db,
        dispatcher,
        delivery,
        http: reqwest::Client::new(),
        settings,
        _dir: dir,
    }
}

/// The bucket `scripts/test` creates on the S3-protocol server it starts.
pub const S3_BUCKET: &str = "hongfan-test";

/// The S3-protocol server photos go to, when `scripts/test` started one (else local files).
pub fn s3_endpoint() -> Option<String> {
    std::env::var("HONGFAN_TEST_S3_ENDPOINT")
        .ok()
        .filter(|url| !url.is_empty())
}

/// Whether the tests run against a shared Redis (and so several instances share state).
pub fn with_redis() -> bool {
    std::env::var("HONGFAN_TEST_REDIS_URL").is_ok_and(|url| !url.is_empty())
}

static TEMPLATE: Mutex<Option<String>> = Mutex::const_new(None);
static DATABASES: AtomicUsize = AtomicUsize::new(0);

/// A new, empty database (not even migrated) and what must live as long as it: a fresh
/// PostgreSQL database when HONGFAN_TEST_DATABASE_URL is set, else a SQLite file.
pub async fn empty_database() -> (String, Option<tempfile::TempDir>) {
    match std::env::var("HONGFAN_TEST_DATABASE_URL") {
        Ok(server) if !server.is_empty() => {
            let server = server.trim_end_matches('/');
            let name = format!(
                "hongfan_test_{}_{}",
                std::process::id(),
                DATABASES.fetch_add(1, Ordering::SeqCst)
            );
            let admin = sea_orm::Database::connect(format!("{server}/postgres"))
                .await
                .expect("connect to PostgreSQL");
            execute(&admin, &format!("CREATE DATABASE \"{name}\"")).await;
            admin.close().await.expect("close admin connection");
            (format!("{server}/{name}"), None)
        }
        _ => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("fresh.db").display()
            );
            (url, Some(dir))
        }
    }
}

/// A new database cloned from a template migrated once per test process.
async fn postgres_database(server: &str) -> String {
    let server = server.trim_end_matches('/');
    let pid = std::process::id();
    let admin = sea_orm::Database::connect(format!("{server}/postgres"))
        .await
        .expect("connect to PostgreSQL (HONGFAN_TEST_DATABASE_URL)");
    // Held while cloning too: PostgreSQL refuses to copy a template that is being copied.
    let mut template = TEMPLATE.lock().await;
    if template.is_none() {
        let stale = admin
            .query_all_raw(sea_orm::Statement::from_string(
                admin.get_database_backend(),
                "SELECT datname FROM pg_database WHERE datname LIKE 'hongfan\\_t%'",
            ))
            .await
            .expect("list databases");
        for row in stale {
            let name: String = row.try_get("", "datname").expect("datname");
            if !name.ends_with(&format!("_{pid}")) && !name.contains(&format!("_{pid}_")) {
                execute(
                    &admin,
                    &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                )
                .await;
            }
        }
        let name = format!("hongfan_tpl_{pid}");
        execute(&admin, &format!("DROP DATABASE IF EXISTS \"{name}\"")).await;
        execute(&admin, &format!("CREATE DATABASE \"{name}\"")).await;
        let db = hongfan::infra::db::connect(&format!("{server}/{name}"))
            .await
            .expect("connect template");
        hongfan::infra::db::migrate(&db)
            .await
            .expect("migrate template");
        db.close().await.expect("close template");
        *template = Some(name);
    }
    let name = format!(
        "hongfan_test_{pid}_{}",
        DATABASES.fetch_add(1, Ordering::SeqCst)
    );
    let source = template.as_deref().expect("template");
    execute(
        &admin,
        &format!("CREATE DATABASE \"{name}\" TEMPLATE \"{source}\""),
    )
    .await;
    drop(template);
    admin.close().await.expect("close admin connection");
    format!("{server}/{name}")
}

async fn execute(db: &DatabaseConnection, sql: &str) {
    db.execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

impl TestApp {
    /// A second API instance on the same database (and Redis, when configured), as behind a
    /// load balancer.
    pub async fn another_instance(&self) -> TestApp {
        start(self.settings.clone(), self._dir.clone()).await
    }

    /// Opens a graphql-transport-ws subscription as `token`.
    pub async fn subscribe(&self, token: &str, query: &str, variables: Value) -> Subscription {
        use futures::{SinkExt, StreamExt};
        use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

        let url = format!("{}/graphql/ws", self.address.replace("http://", "ws://"));
        let mut request = url.into_client_request().expect("request");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().expect("header"),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("connect");
        let init = json!({ "type": "connection_init", "payload": { "accessToken": token } });
        socket
            .send(Message::text(init.to_string()))
            .await
            .expect("init");
        let ack = socket.next().await.expect("ack").expect("ack");
        assert!(
            ack.to_text().unwrap_or_default().contains("connection_ack"),
            "{ack:?}"
        );
        let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": variables } });
        socket
            .send(Message::text(subscribe.to_string()))
            .await
            .expect("subscribe");
        // The server registers the subscription asynchronously; give it (and the Redis relay) a moment.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        Subscription { socket }
    }

    /// GET /metrics, on the private metrics address.
    pub async fn metrics_text(&self) -> String {
        self.http
            .get(format!(
                "{}/metrics",
                self.metrics_address.as_deref().expect("metrics are served")
            ))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text")
    }

    /// A counter or gauge from GET /metrics.
    pub async fn metric(&self, name: &str) -> u64 {
        let text = self.metrics_text().await;
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} not in metrics:\n{text}"))
    }

    /// Waits until the fan-out worker has filed every notice for a community's Party members
    /// in their inboxes: it runs after the commit that left them, beside the next request.
    pub async fn fanned_out(&self) {
        use sea_orm::PaginatorTrait;
        for _ in 0..500 {
            let waiting = entity::inbox_fanout::Entity::find()
                .count(&self.db)
                .await
                .expect("fan-outs");
            if waiting == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("fan-outs still waiting after 5 s");
    }

    /// The SQL statements requests ran so far: the periodic jobs' are counted apart, so that a
    /// job's round during a test does not add to the count it compares.
    pub async fn statements(&self) -> u64 {
        self.metric("hongfan_db_statements_total{origin=\"request\"}")
            .await
    }

    /// Asserts that `what` ran `counted` statements: `postgres` on PostgreSQL, `sqlite` on
    /// SQLite, which takes in a transaction what PostgreSQL can send as one statement.
    pub fn assert_statements(&self, what: &str, counted: u64, (postgres, sqlite): (u64, u64)) {
        let on_postgres = self.settings.database_url.starts_with("postgres");
        let expected = if on_postgres { postgres } else { sqlite };
        assert_eq!(counted, expected, "{what}'s statements");
    }

    /// POSTs a GraphQL request and returns the JSON body.
    pub async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self
            .http
            .post(format!("{}/graphql", self.address))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        response.json().await.expect("JSON body")
    }

    /// Like `graphql`, but the request must succeed; returns `data`.
    pub async fn ok(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = self.graphql(Some(token), query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// The code of the error a request is refused with; fails the test if it is not refused.
    pub async fn refused(&self, token: Option<&str>, query: &str, variables: Value) -> String {
        error_code(&self.graphql(token, query, variables).await).to_owned()
    }

    pub async fn login(&self, openid: &str) -> Login {
        let body = self
            .graphql(
                None,
                "mutation($code: String!) { loginWithWechat(code: $code) { accessToken refreshToken user { id } } }",
                json!({ "code": openid }),
            )
            .await;
        let payload = &body["data"]["loginWithWechat"];
        assert!(payload.is_object(), "login failed: {body}");
        Login {
            token: payload["accessToken"].as_str().expect("token").to_owned(),
            refresh_token: payload["refreshToken"]
                .as_str()
                .expect("refresh")
                .to_owned(),
            user_id: payload["user"]["id"].as_str().expect("id").to_owned(),
        }
    }

    pub async fn seed_demo(&self) -> Demo {
        let seeded = hongfan::seed::demo(&self.db).await.expect("seed");
        self.dispatcher.settle(seeded).await;
        let communities = community::Entity::find()
            .order_by_asc(community::Column::Id)
            .all(&self.db)
            .await
            .expect("communities");
        let repair = service_category::Entity::find()
            .order_by_asc(service_category::Column::Id)
            .one(&self.db)
            .await
            .expect("categories")
            .expect("a category");
        Demo {
            community: communities[0].id.to_string(),
            other_community: communities[1].id.to_string(),
            repair: repair.id.to_string(),
        }
    }

    /// Test set-up shortcut, the same path as the `grant-role` command.
    pub async fn grant(&self, openid: &str, role: Role, community: Option<&str>) {
        let community = community.map(|c| c.parse().expect("uuid"));
        let granted = grant_role_by_openid(&self.db, openid, role, community)
            .await
            .expect("grant role");
        self.dispatcher.settle(granted).await;
    }

    /// Logs in a new user who lives in `community` (profile set through the API), confirmed
    /// as a resident by the community.
    pub async fn resident(&self, openid: &str, community: &str) -> Login {
        let login = self.login(openid).await;
        self.grant(openid, Role::Resident, Some(community)).await;
        self.ok(
            &login.token,
            "mutation($c: ID!) { updateMyProfile(input: { name: \"测试居民\", phone: \"13912345678\", communityId: $c }) { id } }",
            json!({ "c": community }),
        )
        .await;
        login
    }
}

/// The `extensions.code` of the first error.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error with a code: {body}"))
}

pub struct Subscription {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl Subscription {
    /// The next message's payload (`next` or `error`), waiting at most five seconds.
    pub async fn next(&mut self) -> Value {
        self.next_within(std::time::Duration::from_secs(5)).await
    }

    pub async fn next_within(&mut self, wait: std::time::Duration) -> Value {
        use futures::StreamExt;
        loop {
            let message = tokio::time::timeout(wait, self.socket.next())
                .await
                .expect("no subscription message in time")
                .expect("socket open")
                .expect("message");
            let Ok(text) = message.to_text() else {
                continue;
            };
            let Ok(body) = serde_json::from_str::<Value>(text) else {
                continue;
            };
            match body["type"].as_str() {
                Some("next") | Some("error") => return body["payload"].clone(),
                _ => continue,
            }
        }
    }
}

/// What the server logs, at the production default level, for tests of what must never be
/// logged. Capturing starts at the first call and covers every test in this process after it.
pub fn captured_logs() -> String {
    use std::sync::{Arc, Mutex as StdMutex, OnceLock};

    #[derive(Clone, Default)]
    struct Buffer(Arc<StdMutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    static LOGS: OnceLock<Buffer> = OnceLock::new();
    let buffer = LOGS.get_or_init(|| {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init();
        buffer
    });
    let bytes = buffer
        .0
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The demo data with a logged-in resident, two Party members and a STAFF member of the
/// first community: where most tests start.
pub struct World {
    pub app: TestApp,
    pub demo: Demo,
    pub resident: Login,
    pub member: Login,
    pub other_member: Login,
    pub staff: Login,
}

impl World {
    pub async fn new() -> Self {
        Self::on(spawn_app().await).await
    }

    pub async fn on(app: TestApp) -> Self {
        let demo = app.seed_demo().await;
        Self {
            resident: app.login("demo-resident").await,
            member: app.login("demo-member").await,
            other_member: app.login("demo-member-2").await,
            staff: app.login("demo-staff").await,
            demo,
            app,
        }
    }

    pub async fn place(&self) -> String {
        let data = self
            .app
            .ok(
                &self.resident.token,
                PLACE,
                json!({ "input": {
                    "categoryId": self.demo.repair,
                    "title": "厨房水管漏水",
                    "description": "水槽下面的管子一直滴水",
                    "address": "凤凰社区3号楼2单元401",
                    "contactPhone": "13800000001",
                }}),
            )
            .await;
        data["placeOrder"]["id"].as_str().expect("id").to_owned()
    }

    pub async fn publish(&self, order: &str) {
        self.app
            .ok(&self.staff.token, PUBLISH, json!({ "id": order }))
            .await;
    }

    /// A published order of the demo resident, on the first page of the demo member's pool,
    /// which that read leaves cached.
    pub async fn listed_in_the_pool(&self) -> String {
        let order = self.place().await;
        self.publish(&order).await;
        let listed = self.member_pool().await;
        assert_eq!(
            listed["orderPool"]["edges"][0]["node"]["id"],
            order.as_str()
        );
        order
    }

    /// The first page of the demo member's order pool.
    pub async fn member_pool(&self) -> Value {
        self.app.ok(&self.member.token, POOL_IDS, json!({})).await
    }
}

pub const PLACE: &str = "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status responseDueAt isOverdue community { name } } }";
pub const POOL_IDS: &str = "{ orderPool(first: 20) { edges { node { id } } } }";
pub const PUBLISH: &str = "mutation($id: ID!) { publishOrder(orderId: $id) { status } }";
pub const CANCEL: &str =
    "mutation($id: ID!) { cancelOrder(orderId: $id, reason: \"不需要了\") { status } }";
pub const TAKE: &str = "mutation($id: ID!) { takeOrder(orderId: $id) { status taker { id } } }";

/// An approved merchant of `community` whose owner is `{prefix}-owner`, and its cashier.
pub async fn merchant_with_cashier(
    w: &World,
    community: &str,
    staff: &Login,
    prefix: &str,
) -> (String, Login) {
    let owner = w.app.resident(&format!("{prefix}-owner"), community).await;
    let merchant = w
        .app
        .ok(
            &owner.token,
            "mutation($c: ID!) { applyMerchant(input: { communityId: $c, name: \"授权检查店\", category: \"理发\", address: \"1号\", latitude: 36.66, longitude: 117.02, phone: \"13700000000\", openingHours: \"全天\" }) { id } }",
            json!({ "c": community }),
        )
        .await["applyMerchant"]["id"]
        .as_str()
        .expect("merchant")
        .to_owned();
    w.app
        .ok(
            &staff.token,
            "mutation($m: ID!) { approveMerchant(merchantId: $m) { id } }",
            json!({ "m": merchant }),
        )
        .await;
    let cashier_openid = format!("{prefix}-cashier");
    w.app
        .ok(
            &owner.token,
            "mutation($m: ID!, $o: String!) { addMerchantStaff(merchantId: $m, openid: $o) { id } }",
            json!({ "m": merchant, "o": cashier_openid }),
        )
        .await;
    (merchant, w.app.login(&cashier_openid).await)
}

/// The kinds of the newest 50 messages in the inbox of the holder of `token`.
pub async fn inbox_kinds(app: &TestApp, token: &str) -> Vec<String> {
    app.fanned_out().await;
    let inbox = app
        .ok(
            token,
            "{ myInbox(first: 50) { edges { node { kind } } } }",
            json!({}),
        )
        .await;
    inbox["myInbox"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| edge["node"]["kind"].as_str().expect("kind").to_owned())
        .collect()
}

/// An offer of `merchant` created by its owner: 10 points, valid for 30 days.
pub async fn offer_of(app: &TestApp, owner: &Login, merchant: &str) -> String {
    let now = chrono::Utc::now();
    app.ok(
        &owner.token,
        "mutation($input: CreateOfferInput!) { createOffer(input: $input) { id } }",
        json!({ "input": {
            "merchantId": merchant, "title": "理发一次", "pointsCost": 10,
            "validFrom": (now - chrono::Duration::hours(1)).to_rfc3339(),
            "validUntil": (now + chrono::Duration::days(30)).to_rfc3339(),
        }}),
    )
    .await["createOffer"]["id"]
        .as_str()
        .expect("offer")
        .to_owned()
}

/// The ids of a community's grids.
pub async fn grids_of(app: &TestApp, token: &str, community: &str) -> Vec<String> {
    let data = app
        .ok(
            token,
            "query($c: ID!) { community(id: $c) { grids { id } } }",
            json!({ "c": community }),
        )
        .await;
    data["community"]["grids"]
        .as_array()
        .expect("grids")
        .iter()
        .map(|grid| grid["id"].as_str().expect("id").to_owned())
        .collect()
}

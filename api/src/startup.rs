//! Builds the whole application from settings: database, shared store, schema and router.
//! Tests build it the same way, bound to port 0.
use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use axum::{Router, extract::State, routing::get};
use rand::RngCore;
use tokio::net::TcpListener;

use crate::{
    codes::MiniProgramCodes,
    config::{Environment, Settings, Templates},
    consultations::BallotBox,
    content::ContentGuard,
    content::photos::PhotoService,
    error::causes,
    graphql,
    http::{self, graphql::GraphqlEndpoint},
    identity::{sessions::SessionService, tokens::TokenKeys, wechat::WechatLogin},
    infra::cache::Namespace,
    infra::db,
    infra::metrics::Metrics,
    infra::object_storage::ObjectStorage,
    infra::rate_limit::{self, Limit},
    infra::shared_store::SharedStore,
    infra::wechat::WechatApi,
    jobs::Runner,
    notify::Dispatcher,
    notify::EventBus,
    notify::delivery::Sender,
    orders::{PlacingLimits, Placings, PoolCache, categories::Catalog},
    points::{attendance::NoShowPolicy, certificates::CertificateDesk},
    state::AppState,
};

pub struct Application {
    listener: TcpListener,
    router: Router,
    /// The private listener for /metrics, apart from the public one.
    metrics: Option<(TcpListener, Router)>,
    state: AppState,
    jobs: Runner,
}

impl Application {
    /// Connects, migrates and binds; `serve` then runs it.
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        // object_store's S3 client brings rustls's aws-lc-rs provider beside ring (which sqlx
        // and reqwest use): with two compiled in, rustls needs a process default or panics.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let metrics = Metrics::new()?;
        let mut db =
            db::connect_with_pool(&settings.database_url, settings.database_max_connections)
                .await?;
        let statements = metrics.clone();
        db.set_metric_callback(move |info| statements.observe_statement(info.elapsed));
        db::migrate(&db).await?;
        let (store, bus) = shared_store_and_bus(settings)?;
        let secret = match &settings.jwt_secret {
            Some(secret) => secret.expose().as_bytes().to_vec(),
            None => {
                tracing::warn!(
                    "JWT_SECRET is not set: using a random secret, so sessions end when the \
                     server restarts and are not shared between instances"
                );
                let mut secret = vec![0u8; 32];
                rand::rng().fill_bytes(&mut secret);
                secret
            }
        };
        let wechat_api = match (&settings.wechat_appid, &settings.wechat_secret) {
            (Some(appid), Some(secret)) => Some(WechatApi::new(
                appid.clone(),
                secret.clone(),
                &settings.wechat_api_base,
                store.clone(),
            )?),
            _ => None,
        };
        let wechat = match &wechat_api {
            Some(api) => WechatLogin::Api(api.clone()),
            None => {
                tracing::warn!(
                    "WECHAT_APPID/WECHAT_SECRET are not set: dev-login mode, the login code is \
                     taken as the openid. Never run like this in production."
                );
                WechatLogin::Dev
            }
        };
        let sessions = SessionService {
            db: db.clone(),
            keys: TokenKeys::new(&secret, settings.access_token_ttl()),
            wechat,
            store: store.clone(),
            refresh_ttl: settings.refresh_token_ttl(),
            login_per_ip: rate_limit::login_per_ip(settings.login_rate_limit_per_ip),
            request_budget: Limit {
                name: "requests",
                max: settings.rate_limit_per_minute,
                window: Duration::from_secs(60),
            },
        };
        let (delivery, content) = match wechat_api.clone() {
            Some(api) => (
                Sender::Wechat {
                    api: api.clone(),
                    templates: Templates::parse(settings.wechat_subscribe_templates.as_deref())
                        .map_err(|error| anyhow::anyhow!("WECHAT_SUBSCRIBE_TEMPLATES: {error}"))?,
                },
                ContentGuard::wechat(api, settings.content_check_fail_open),
            ),
            None => (Sender::Log, ContentGuard::Off),
        };
        let listener = TcpListener::bind(settings.hongfan_bind)
            .await
            .with_context(|| format!("binding {}", settings.hongfan_bind))?;
        let public_url = match &settings.hongfan_public_url {
            Some(url) => url.clone(),
            None => format!("http://{}", listener.local_addr()?),
        };
        let storage = ObjectStorage::from_settings(settings, &public_url, &secret)
            .context("setting up object storage")?;
        let state = AppState {
            db,
            store: store.clone(),
            sessions: sessions.clone(),
            order_minutes_cap: settings.order_minutes_cap,
            adjustment_daily_cap: settings.adjustment_daily_cap,
            placing: PlacingLimits {
                per_hour: settings.orders_per_resident_per_hour,
                open: settings.open_orders_per_resident,
                findings_per_hour: settings.patrol_findings_per_hour,
            },
            no_shows: NoShowPolicy {
                limit: settings.no_show_limit,
                hold: chrono::Duration::days(settings.no_show_hold_days),
            },
            redemption_valid_for: chrono::Duration::days(settings.redemption_valid_days),
            dispatcher: Dispatcher::new(bus),
            delivery,
            content: content.clone(),
            wechat: wechat_api.clone(),
            categories: Catalog::default(),
            placings: Placings::default(),
            order_pool: Arc::new(PoolCache::new(Namespace::OrderPool, &metrics)),
            photos: PhotoService {
                storage: storage.clone(),
                content,
            },
            codes: MiniProgramCodes {
                storage: storage.clone(),
                wechat: wechat_api,
                check_in_page: settings.wechat_check_in_page.clone(),
                counter_page: settings.wechat_counter_page.clone(),
                console_login_page: settings.wechat_console_login_page.clone(),
                env_version: settings.wechat_code_env_version.clone(),
            },
            certificates: CertificateDesk {
                storage: storage.clone(),
                store: store.clone(),
                verify_base: public_url.clone(),
            },
            storage,
            ballots: BallotBox::new(&secret),
        };
        let development = settings.hongfan_env == Environment::Development;
        let endpoint = GraphqlEndpoint {
            api: graphql::Api::new(state.clone(), development),
            sessions,
            graphiql: development,
            trusted_proxy_hops: settings.trusted_proxy_hops(),
            anonymous_budget: Limit {
                name: "anonymous-requests",
                max: settings.anonymous_rate_limit_per_minute,
                window: Duration::from_secs(60),
            },
            metrics: metrics.clone(),
        };
        let router = http::router(http::Routes {
            endpoint,
            state: state.clone(),
            per_address_per_minute: settings.anonymous_rate_limit_per_minute,
            trusted_proxy_hops: settings.trusted_proxy_hops(),
            public_url,
            wechat_push_token: settings.wechat_push_token.clone(),
            development,
        });
        let rendered = metrics.clone();
        let metrics_listener =
            match settings.hongfan_metrics_bind {
                Some(address) => Some((
                    TcpListener::bind(address)
                        .await
                        .with_context(|| format!("binding {address} (HONGFAN_METRICS_BIND)"))?,
                    Router::new().route(
                        "/metrics",
                        get(move |State(state): State<AppState>| async move {
                            rendered.render(&state.db)
                        })
                        .with_state(state.clone()),
                    ),
                )),
                None => None,
            };
        Ok(Self {
            listener,
            router,
            metrics: metrics_listener,
            jobs: Runner {
                state: state.clone(),
                metrics,
                delivery_interval: Duration::from_secs(settings.delivery_interval_seconds),
            },
            state,
        })
    }

    /// Where GET /metrics is served, when it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics
            .as_ref()
            .and_then(|(listener, _)| listener.local_addr().ok())
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn jobs(&self) -> &Runner {
        &self.jobs
    }

    /// Serves until Ctrl-C or SIGTERM, then lets in-flight requests finish.
    pub async fn serve(self) -> std::io::Result<()> {
        tokio::spawn(
            self.state
                .categories
                .clone()
                .forget_on_change(self.state.dispatcher.bus().categories_changes()),
        );
        self.jobs.spawn_all();
        if let Some((listener, router)) = self.metrics {
            tokio::spawn(async move {
                if let Err(error) = axum::serve(listener, router).await {
                    tracing::error!(error = %causes(&error), "the metrics listener stopped");
                }
            });
        }
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await
    }
}

/// Redis for both when it is configured, else their in-process stand-ins.
fn shared_store_and_bus(settings: &Settings) -> anyhow::Result<(SharedStore, EventBus)> {
    Ok(match &settings.redis_url {
        Some(url) => {
            let store = SharedStore::redis(url, &settings.redis_key_prefix)?;
            let bus = EventBus::redis(store.clone(), url, &settings.redis_key_prefix)?;
            (store, bus)
        }
        None => {
            let store = SharedStore::in_memory();
            (store.clone(), EventBus::in_process(store))
        }
    })
}

/// The dispatcher for work done outside a server (CLI commands): servers sharing Redis hear
/// of the change at once; an embedded server, whose caches live in its own process, picks it
/// up within a minute.
pub fn dispatcher(settings: &Settings) -> anyhow::Result<Dispatcher> {
    let (_, bus) = shared_store_and_bus(settings)?;
    Ok(Dispatcher::new(bus))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %causes(&error), "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(error = %causes(&error), "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

//! Everything that speaks HTTP apart from GraphQL execution: the GraphQL endpoint's handler
//! and its WebSocket, GraphiQL, the staff console's files, CSV exports, Open311, the certificate check, WeChat's push and
//! local files. Every route is listed in `router`; who is calling is read in `caller` only.
use std::{sync::Arc, time::Duration};

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, State},
    http::StatusCode,
    response::IntoResponse,
    routing::get,
};
use tower_http::{
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::TraceLayer,
};

use crate::{
    config::Secret,
    error::causes,
    infra::{object_storage, rate_limit::Limit},
    state::AppState,
};
use caller::PerAddress;
use certificate_check::CertificateCheck;
use graphql::GraphqlEndpoint;

pub mod assets;
pub mod caller;
pub mod certificate_check;
pub mod console;
pub mod exports;
pub mod graphiql;
pub mod graphql;
pub mod open311;
pub mod push;
pub mod socket;

/// Large enough for any real form (a 1 MB description gets a clear validation error, not 413).
const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What the routes are built from.
pub struct Routes {
    pub endpoint: GraphqlEndpoint,
    pub state: AppState,
    /// The budget of each route anyone may call, per client address and minute.
    pub per_address_per_minute: u64,
    pub trusted_proxy_hops: usize,
    pub public_url: String,
    /// `/wechat/push` is served only with its token.
    pub wechat_push_token: Option<Secret>,
    pub development: bool,
}

/// Every HTTP route of the API, with the layers each request passes.
pub fn router(routes: Routes) -> Router {
    let state = routes.state;
    // Routes anyone may call are counted per address, each apart from GraphQL's budget.
    let per_address = |name| PerAddress {
        store: state.store.clone(),
        limit: Limit {
            name,
            max: routes.per_address_per_minute,
            window: Duration::from_secs(60),
        },
        trusted_proxy_hops: routes.trusted_proxy_hops,
    };
    let mut router = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(graphql::websocket))
        // Shared, not cloned per request (the token keys and validations allocate).
        .with_state(Arc::new(routes.endpoint))
        .route("/healthz", get(|| async { "ok" }))
        .route("/console", get(console::page))
        .route("/console/{version}/{name}", get(console::asset))
        .route("/readyz", get(readiness).with_state(state.clone()))
        .route(
            "/exports/{file}",
            get(exports::export).with_state(state.clone()),
        )
        .route(
            "/exports/activities/{id}/roster.csv",
            get(exports::roster).with_state(state.clone()),
        )
        .nest(
            "/open311/v2",
            open311::routes(open311::Open311 {
                state: state.clone(),
                budget: per_address("open311"),
                public_url: routes.public_url,
            }),
        )
        .route(
            "/certificates/{code}",
            get(certificate_check::check).with_state(CertificateCheck {
                state: state.clone(),
                budget: per_address("certificate-checks"),
            }),
        )
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES));
    if state.storage.is_local() {
        router = router.route(
            "/files/{*key}",
            get(object_storage::serve_local)
                .put(object_storage::serve_local)
                .with_state(state.storage.clone())
                .layer(DefaultBodyLimit::max(
                    object_storage::MAX_LOCAL_UPLOAD_BYTES,
                )),
        );
    }
    if let Some(token) = routes.wechat_push_token {
        router = router.route(
            "/wechat/push",
            get(push::verify_url)
                .post(push::receive)
                .with_state(push::Push {
                    token,
                    state: state.clone(),
                }),
        );
    }
    if routes.development {
        router = router.route("/graphiql/{version}/{name}", get(graphiql::asset));
    }
    router
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        // Every request carries an id (the caller's X-Request-Id, or a new one) in its log
        // span and in the response.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
            let id = request
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            // The path only: a GET query string may carry variables (phones, codes).
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// Ready when the database answers. Redis is reported but does not decide readiness: every
/// instance shares it, so failing them all would turn a degraded service into an outage.
async fn readiness(State(state): State<AppState>) -> impl IntoResponse {
    let database = state.db.ping().await;
    if let Err(error) = &database {
        tracing::warn!(error = %causes(error), "readiness: the database is unreachable");
    }
    let redis = match state.store.ping().await {
        None => "not configured",
        Some(Ok(())) => "ok",
        Some(Err(error)) => {
            tracing::warn!(error = %causes(error.as_ref()), "readiness: Redis is unreachable; running degraded");
            "degraded"
        }
    };
    let ready = database.is_ok();
    let body = serde_json::json!({
        "database": if ready { "ok" } else { "unavailable" },
        "redis": redis,
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

//! GraphQL over HTTP (https://graphql.github.io/graphql-over-http/): content negotiation
//! between `application/graphql-response+json` and `application/json`, 4xx for requests that
//! never executed, GET for queries only, and the caller's bearer token.
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::{
    ServerError,
    parser::types::{DocumentOperations, OperationType},
};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::{
    body::Bytes,
    extract::{ConnectInfo, RawQuery, State, WebSocketUpgrade},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{
    caller::{self, bearer_token, forwarded_client},
    socket::SocketExecutor,
};
use crate::graphql::{Api, RequestContext, error::coded_error};
use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Instant,
};

use sha2::{Digest, Sha256};

use crate::{
    error::{AppError, causes},
    identity::sessions::SessionService,
    infra::metrics::{Metrics, Sender},
    infra::rate_limit::{self, Limit},
};

/// Persisted queries are kept this long after their last registration, and may be this long:
/// the mini-program's largest query is a few KB, and strangers may register them.
const PERSISTED_QUERY_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
const MAX_PERSISTED_QUERY_BYTES: usize = 8 * 1024;

#[derive(Clone)]
pub struct GraphqlEndpoint {
    pub api: Api,
    pub sessions: SessionService,
    pub graphiql: bool,
    /// Behind this many proxies that append to `X-Forwarded-For` (0: trust no header), the
    /// client's address is the entry the outermost of them appended.
    pub trusted_proxy_hops: usize,
    /// Requests without a token, per client address and window.
    pub anonymous_budget: Limit,
    pub metrics: Metrics,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaType {
    GraphqlResponseJson,
    Json,
}

impl MediaType {
    fn header(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            MediaType::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            MediaType::Json => "application/json; charset=utf-8",
        })
    }
}

/// The first acceptable media type the client lists; `application/json` when it lists none,
/// as the spec asks for legacy clients.
fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(MediaType::Json);
    };
    accept.split(',').find_map(|item| {
        let mut parts = item.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let refused = parts.any(|p| p.replace(' ', "") == "q=0");
        if refused {
            return None;
        }
        match media.as_str() {
            "application/graphql-response+json" => Some(MediaType::GraphqlResponseJson),
            "application/json" | "application/*" | "*/*" => Some(MediaType::Json),
            _ => None,
        }
    })
}

fn errors_body(errors: &[ServerError]) -> serde_json::Value {
    serde_json::json!({ "errors": errors })
}

fn reply(status: StatusCode, media: MediaType, body: &impl serde::Serialize) -> Response {
    let body = serde_json::to_vec(body)
        .unwrap_or_else(|_| b"{\"errors\":[{\"message\":\"internal error\"}]}".to_vec());
    (status, [(header::CONTENT_TYPE, media.header())], body).into_response()
}

/// A request that never executed: no `data` entry; a 4xx status only for clients that
/// understand `application/graphql-response+json`.
fn not_executed(
    media: MediaType,
    status_for_graphql_response: StatusCode,
    errors: &[ServerError],
) -> Response {
    let status = match media {
        MediaType::GraphqlResponseJson => status_for_graphql_response,
        MediaType::Json => StatusCode::OK,
    };
    reply(status, media, &errors_body(errors))
}

/// A body that is not a GraphQL request at all is a 400 whatever the media type.
fn malformed(media: MediaType, message: impl Into<String>) -> Response {
    reply(
        StatusCode::BAD_REQUEST,
        media,
        &errors_body(&[coded_error(message, "BAD_REQUEST")]),
    )
}

impl GraphqlEndpoint {
    fn client_ip(&self, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
        forwarded_client(headers, self.trusted_proxy_hops).unwrap_or(peer.ip())
    }

    /// Automatic persisted queries (Apollo APQ): a query sent with its SHA-256 is stored in the
    /// shared store, so that afterwards — on any instance — the hash alone stands for it.
    async fn resolve_persisted_query(
        &self,
        request: &mut async_graphql::Request,
    ) -> Result<(), Vec<ServerError>> {
        let Some(persisted) = request.extensions.get("persistedQuery") else {
            return Ok(());
        };
        let hash = match serde_json::to_value(persisted)
            .ok()
            .and_then(|v| v["sha256Hash"].as_str().map(str::to_owned))
        {
            Some(hash) if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
                hash.to_ascii_lowercase()
            }
            _ => {
                return Err(vec![coded_error(
                    "persistedQuery needs a sha256Hash",
                    "BAD_USER_INPUT",
                )]);
            }
        };
        let key = format!("apq:{hash}");
        let store = &self.sessions.store;
        if request.query.trim().is_empty() {
            return match store.get_text(&key).await {
                Ok(Some(query)) => {
                    request.query = query;
                    Ok(())
                }
                Ok(None) => Err(vec![coded_error(
                    "PersistedQueryNotFound",
                    "PERSISTED_QUERY_NOT_FOUND",
                )]),
                Err(error) => {
                    tracing::warn!(error = %causes(error.as_ref()), "shared store unavailable; persisted query not found");
                    Err(vec![coded_error(
                        "PersistedQueryNotFound",
                        "PERSISTED_QUERY_NOT_FOUND",
                    )])
                }
            };
        }
        if request.query.len() > MAX_PERSISTED_QUERY_BYTES {
            return Err(vec![coded_error(
                format!("a persisted query may have at most {MAX_PERSISTED_QUERY_BYTES} bytes"),
                "BAD_USER_INPUT",
            )]);
        }
        let actual = format!("{:x}", Sha256::digest(request.query.as_bytes()));
        if actual != hash {
            return Err(vec![coded_error(
                "provided sha256Hash does not match the query",
                "BAD_USER_INPUT",
            )]);
        }
        if let Err(error) = store
            .set_text(&key, &request.query, PERSISTED_QUERY_TTL)
            .await
        {
            tracing::warn!(error = %causes(error.as_ref()), "shared store unavailable; persisted query not stored");
        }
        Ok(())
    }

    async fn execute(
        &self,
        headers: &HeaderMap,
        peer: SocketAddr,
        media: MediaType,
        mut request: async_graphql::Request,
    ) -> Response {
        let client_ip = self.client_ip(headers, peer);
        let sender = if bearer_token(headers).is_some() {
            Sender::LoggedIn
        } else {
            Sender::Anonymous
        };
        let admission = match bearer_token(headers) {
            None => {
                let counted = rate_limit::check(
                    &self.sessions.store,
                    self.anonymous_budget,
                    &client_ip.to_string(),
                )
                .await;
                if let Err(error) = counted {
                    return refused(media, error);
                }
                None
            }
            // An invalid token is an error, not "anonymous": the client must log in again.
            Some(token) => match self.sessions.authenticate(token).await {
                Ok(admission) => Some(admission),
                Err(error) => return refused(media, error),
            },
        };
        if let Err(errors) = self.resolve_persisted_query(&mut request).await {
            return reply(StatusCode::OK, media, &errors_body(&errors));
        }
        request = request.data(RequestContext::new(
            &self.sessions.db,
            admission,
            Some(client_ip),
        ));
        let operation = request.operation_name.clone();
        let started = Instant::now();
        let response = self.api.execute(request).await;
        self.metrics.observe_request(
            sender,
            operation.as_deref(),
            started.elapsed(),
            response.errors.is_empty(),
        );
        // Errors without a path happened before execution (parse, validation, limits).
        let never_executed = response.data == async_graphql::Value::Null
            && !response.errors.is_empty()
            && response.errors.iter().all(|e| e.path.is_empty());
        if never_executed {
            not_executed(media, StatusCode::BAD_REQUEST, &response.errors)
        } else {
            reply(StatusCode::OK, media, &response)
        }
    }
}

/// A request turned away before execution: 401 for a bad token, 429 (with Retry-After) for
/// a spent request budget.
fn refused(media: MediaType, error: AppError) -> Response {
    let retry_after = match &error {
        AppError::RateLimited { retry_after, .. } => *retry_after,
        _ => None,
    };
    let errors = [crate::graphql::error::request_error(error)];
    let Some(retry_after) = retry_after else {
        return not_executed(media, StatusCode::UNAUTHORIZED, &errors);
    };
    let mut response = reply(StatusCode::TOO_MANY_REQUESTS, media, &errors_body(&errors));
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(retry_after.as_secs()),
    );
    response
}

pub async fn post(
    State(endpoint): State<Arc<GraphqlEndpoint>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(media) = negotiate(&headers) else {
        return StatusCode::NOT_ACCEPTABLE.into_response();
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/json")
    {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "use Content-Type: application/json",
        )
            .into_response();
    }
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(error) => return malformed(media, format!("the body is not valid JSON: {error}")),
    };
    if value.is_array() {
        return malformed(
            media,
            "batched requests are not supported; send one operation per request",
        );
    }
    let request: async_graphql::Request = match serde_json::from_value(value) {
        Ok(request) => request,
        Err(error) => {
            return malformed(media, format!("the body is not a GraphQL request: {error}"));
        }
    };
    if request.query.trim().is_empty() && !request.extensions.contains_key("persistedQuery") {
        return malformed(media, "the request has no query");
    }
    endpoint.execute(&headers, peer, media, request).await
}

/// GET runs queries given in the URL (cacheable); without a query it serves GraphiQL.
pub async fn get(
    State(endpoint): State<Arc<GraphqlEndpoint>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    if query.is_empty() {
        return if endpoint.graphiql {
            super::graphiql::page("/graphql").into_response()
        } else {
            (
                StatusCode::METHOD_NOT_ALLOWED,
                [(header::ALLOW, "POST")],
                "POST GraphQL requests here",
            )
                .into_response()
        };
    }
    let Some(media) = negotiate(&headers) else {
        return StatusCode::NOT_ACCEPTABLE.into_response();
    };
    let mut request = match async_graphql::http::parse_query_string(&query) {
        Ok(request)
            if !request.query.trim().is_empty()
                || request.extensions.contains_key("persistedQuery") =>
        {
            request
        }
        _ => return malformed(media, "the URL does not hold a GraphQL request"),
    };
    // A persisted query must be resolved before it can be checked for being a mutation.
    if let Err(errors) = endpoint.resolve_persisted_query(&mut request).await {
        return reply(StatusCode::OK, media, &errors_body(&errors));
    }
    let name = request.operation_name.clone();
    let is_mutation = match request.parsed_query() {
        Ok(document) => match (&document.operations, name) {
            (DocumentOperations::Single(op), _) => op.node.ty == OperationType::Mutation,
            (DocumentOperations::Multiple(ops), Some(name)) => ops
                .get(name.as_str())
                .is_some_and(|op| op.node.ty == OperationType::Mutation),
            (DocumentOperations::Multiple(_), None) => false,
        },
        // Let execution report the syntax error in the usual shape.
        Err(_) => false,
    };
    if is_mutation {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "POST")],
            "mutations must use POST",
        )
            .into_response();
    }
    endpoint.execute(&headers, peer, media, request).await
}

/// Subscriptions (graphql-transport-ws, or the legacy graphql-ws). The access token comes in
/// `connection_init`: `{"accessToken": "…"}` or `{"Authorization": "Bearer …"}`.
pub async fn websocket(
    State(endpoint): State<Arc<GraphqlEndpoint>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            let executor = SocketExecutor::new(
                endpoint.api.clone(),
                endpoint.sessions.clone(),
                endpoint.client_ip(&headers, peer),
            );
            let opened = executor.clone();
            let sessions = endpoint.sessions.clone();
            GraphQLWebSocket::new(socket, executor, protocol)
                .on_connection_init(move |payload| async move {
                    let token = payload["accessToken"]
                        .as_str()
                        .or_else(|| payload["Authorization"].as_str().and_then(caller::bearer))
                        .ok_or_else(|| {
                            AppError::Unauthenticated("send accessToken in connection_init".into())
                        })?;
                    sessions.authenticate(token).await?;
                    opened.opened_with(token.to_owned());
                    Ok(async_graphql::Data::default())
                })
                .serve()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_str(value).expect("header"),
        );
        headers
    }

    #[test]
    fn negotiation_follows_the_clients_order() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(MediaType::Json));
        assert_eq!(
            negotiate(&accept(
                "application/graphql-response+json, application/json"
            )),
            Some(MediaType::GraphqlResponseJson)
        );
        assert_eq!(
            negotiate(&accept("application/json")),
            Some(MediaType::Json)
        );
        assert_eq!(negotiate(&accept("text/html")), None);
    }
}

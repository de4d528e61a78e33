//! Who is calling, as HTTP says it: the bearer token (one parser for every route and the
//! WebSocket's `connection_init`), the client's address behind trusted proxies, and the
//! per-address budget of routes anyone may call.
use std::net::{IpAddr, SocketAddr};

use axum::http::{HeaderMap, header};

use crate::{
    error::{AppError, AppResult},
    identity::{Actor, actor_of},
    infra::{
        rate_limit::{self, Limit},
        shared_store::SharedStore,
    },
    state::AppState,
};

/// The token of an `Authorization: Bearer <token>` value; the scheme in any case.
pub fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The bearer token of a request's `Authorization` header.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    bearer(headers.get(header::AUTHORIZATION)?.to_str().ok()?)
}

/// The signed-in caller of a plain HTTP route (a CSV export): an absent or invalid token is
/// an error, never "anonymous".
pub async fn signed_in(state: &AppState, headers: &HeaderMap) -> AppResult<Actor> {
    let token = bearer_token(headers)
        .ok_or_else(|| AppError::Unauthenticated("send Authorization: Bearer <token>".into()))?;
    let admission = state.sessions.authenticate(token).await?;
    actor_of(
        &state.db,
        &state.store,
        admission.caller.user_id,
        &admission.roles,
    )
    .await
}

/// The address the outermost of `hops` trusted proxies appended to `X-Forwarded-For`: entries
/// left of it are whatever the client wrote.
pub fn forwarded_client(headers: &HeaderMap, hops: usize) -> Option<IpAddr> {
    if hops == 0 {
        return None;
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect();
    let index = entries.len().checked_sub(hops)?;
    entries[index].trim().parse().ok()
}

/// A budget counted per client address, for routes anyone may call without logging in.
#[derive(Clone)]
pub struct PerAddress {
    pub store: SharedStore,
    pub limit: Limit,
    /// Proxies in front of the service whose `X-Forwarded-For` entries are trusted.
    pub trusted_proxy_hops: usize,
}

impl PerAddress {
    pub async fn admit(&self, headers: &HeaderMap, peer: SocketAddr) -> AppResult<()> {
        let ip = forwarded_client(headers, self.trusted_proxy_hops).unwrap_or(peer.ip());
        rate_limit::check(&self.store, self.limit, &ip.to_string()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_client_is_who_the_trusted_proxy_saw() {
        let mut headers = HeaderMap::new();
        headers.append(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 10.0.0.1"),
        );
        headers.append("x-forwarded-for", HeaderValue::from_static("10.0.0.2"));
        let ip = |s: &str| s.parse::<IpAddr>().ok();
        assert_eq!(forwarded_client(&headers, 0), None);
        assert_eq!(forwarded_client(&headers, 1), ip("10.0.0.2"));
        assert_eq!(forwarded_client(&headers, 2), ip("10.0.0.1"));
        assert_eq!(forwarded_client(&headers, 4), None);
    }

    #[test]
    fn the_scheme_is_read_in_any_case_and_an_empty_token_is_none() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("BEARER abc"), Some("abc"));
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("abc"), None);
    }
}

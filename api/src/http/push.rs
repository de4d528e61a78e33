//! WeChat's message push (消息推送) at `/wechat/push`, configured in plaintext mode with JSON
//! data. GET answers WeChat's URL check; POST receives events, of which Hongfan acts on the
//! verdicts of image checks (`wxa_media_check`).
//!
//! Each request is signed: sha1 of the sorted token, timestamp and nonce. Requests older than
//! five minutes, or naming a nonce already seen, are ignored, so a captured push cannot be
//! replayed.
use std::time::Duration;

use axum::{
    Json,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::Utc;
use serde::Deserialize;
use serde_json::Value;
use sha1::{Digest, Sha1};

use crate::{config::Secret, error::causes, state::AppState};

/// How far a push's timestamp may be from now.
const FRESHNESS: Duration = Duration::from_secs(300);

#[derive(Clone)]
pub struct Push {
    pub token: Secret,
    pub state: AppState,
}

#[derive(Deserialize)]
pub struct Signed {
    signature: String,
    timestamp: String,
    nonce: String,
    echostr: Option<String>,
}

impl Signed {
    fn is_valid(&self, token: &Secret) -> bool {
        let mut parts = [token.expose(), &self.timestamp, &self.nonce];
        parts.sort_unstable();
        let expected = Sha1::digest(parts.concat().as_bytes());
        let expected: String = expected.iter().map(|b| format!("{b:02x}")).collect();
        let given = self.signature.to_ascii_lowercase();
        // In constant time, so that timing does not reveal how much of a forgery was right.
        expected.len() == given.len()
            && expected
                .bytes()
                .zip(given.bytes())
                .fold(0u8, |differ, (a, b)| differ | (a ^ b))
                == 0
    }

    fn is_fresh(&self) -> bool {
        self.timestamp
            .parse::<i64>()
            .is_ok_and(|at| (Utc::now().timestamp() - at).unsigned_abs() <= FRESHNESS.as_secs())
    }
}

/// WeChat's URL check: echo `echostr` when the signature is ours.
pub async fn verify_url(State(push): State<Push>, Query(signed): Query<Signed>) -> Response {
    match (&signed.echostr, signed.is_valid(&push.token)) {
        (Some(echo), true) => echo.clone().into_response(),
        _ => StatusCode::FORBIDDEN.into_response(),
    }
}

pub async fn receive(
    State(push): State<Push>,
    Query(signed): Query<Signed>,
    Json(event): Json<Value>,
) -> Response {
    if !signed.is_valid(&push.token) {
        return StatusCode::FORBIDDEN.into_response();
    }
    if !signed.is_fresh() {
        tracing::warn!("ignored a stale WeChat push");
        return "success".into_response();
    }
    let nonce = format!("wechat-push-nonce:{}", signed.nonce);
    match push.state.store.hit(&nonce, FRESHNESS * 2).await {
        Ok(1) => {}
        Ok(_) => {
            tracing::warn!("ignored a replayed WeChat push");
            return "success".into_response();
        }
        // Without the store a replay cannot be told apart; acting twice on a verdict is
        // harmless (it only decides photos still pending).
        Err(error) => tracing::warn!(error = %causes(error.as_ref()), "push nonce not recorded"),
    }
    if event["Event"] == "wxa_media_check" {
        let Some(trace_id) = event["trace_id"].as_str() else {
            return StatusCode::BAD_REQUEST.into_response();
        };
        let risky = event["result"]["suggest"] == "risky" || event["isrisky"] == 1;
        let state = &push.state;
        if let Err(error) = state.photos.apply_verdict(&state.db, trace_id, risky).await {
            tracing::error!(error = %causes(&error), "could not apply an image verdict; WeChat will retry");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    "success".into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_sha1_of_the_sorted_parts() {
        // sha1("1700000000" + "nonce" + "token"), the parts in sorted order.
        let expected: String = Sha1::digest(b"1700000000noncetoken")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let signed = Signed {
            signature: expected,
            timestamp: "1700000000".into(),
            nonce: "nonce".into(),
            echostr: None,
        };
        assert!(signed.is_valid(&Secret::new("token")));
        assert!(!signed.is_valid(&Secret::new("other")));
        assert!(!signed.is_fresh());
    }
}

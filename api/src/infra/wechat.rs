//! WeChat's server API, the one place that calls it: one access token shared by every instance,
//! timeouts on every call, and WeChat's error codes turned into what callers can act on.
//!
//! The access token comes from the stable-token endpoint and is kept in the shared store
//! until five minutes before it expires. One instance at a time fetches it (a short lock in
//! the store); the others wait for it to appear. A call refused for a stale token (40001,
//! 42001) fetches a fresh one and is tried once more. When the fetch fails for want of
//! WeChat, every instance gives up at once for a few seconds rather than each caller waiting
//! out the lock behind a fetch that will time out too.
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{config::Secret, error::causes, infra::shared_store::SharedStore};

const TOKEN_KEY: &str = "wechat:access-token";
const TOKEN_LOCK_KEY: &str = "wechat:access-token-lock";
/// Set while a fetch just failed for want of WeChat: why.
const TOKEN_OUTAGE_KEY: &str = "wechat:access-token-outage";
/// How long callers fail at once after such a failure.
const TOKEN_OUTAGE: Duration = Duration::from_secs(10);
/// Longest one instance holds the right to fetch the token.
const TOKEN_LOCK: Duration = Duration::from_secs(5);
/// Refresh this long before WeChat's expiry.
const TOKEN_MARGIN: Duration = Duration::from_secs(300);
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a call did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum WechatError {
    /// Worth trying again later: WeChat is down or busy, or the network is.
    #[error("WeChat is unavailable: {0}")]
    Unavailable(String),
    /// WeChat refused this request as it is (errcode and message); retrying will not help.
    #[error("WeChat refused the request: {errcode} {errmsg}")]
    Refused { errcode: i64, errmsg: String },
}

enum Answer {
    Json(Value),
    Binary(Vec<u8>),
}

fn unavailable(error: reqwest::Error) -> WechatError {
    WechatError::Unavailable(error.without_url().to_string())
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, WechatError> {
    serde_json::from_slice(body)
        .map_err(|error| WechatError::Unavailable(format!("unreadable answer: {error}")))
}

#[derive(Clone)]
pub struct WechatApi {
    http: reqwest::Client,
    appid: String,
    secret: Secret,
    base: String,
    store: SharedStore,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    expires_in: Option<u64>,
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

/// WeChat asks callers to retry after -1 (busy); 40001/42001 mean the token is stale.
const BUSY: i64 = -1;
const STALE_TOKEN: [i64; 2] = [40001, 42001];

impl WechatApi {
    pub fn new(
        appid: String,
        secret: Secret,
        base: &str,
        store: SharedStore,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder().timeout(CALL_TIMEOUT).build()?,
            appid,
            secret,
            base: base.trim_end_matches('/').to_owned(),
            store,
        })
    }

    /// POSTs `body` to `path` with the access token; the answer's JSON when errcode is 0.
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, WechatError> {
        match self.post_authorised(path, body).await? {
            Answer::Json(answer) => Ok(answer),
            Answer::Binary(_) => Err(WechatError::Unavailable(
                "WeChat answered with a file where JSON was expected".into(),
            )),
        }
    }

    /// POSTs to an endpoint that answers with an image (小程序码), or with JSON on error.
    pub async fn post_for_image(&self, path: &str, body: &Value) -> Result<Vec<u8>, WechatError> {
        match self.post_authorised(path, body).await? {
            Answer::Binary(image) => Ok(image),
            Answer::Json(_) => Err(WechatError::Unavailable(
                "WeChat answered without the image".into(),
            )),
        }
    }

    /// jscode2session: the session of a `wx.login()` code, signed with the AppSecret rather
    /// than the access token. The answer as WeChat gave it: login reads its error codes.
    pub async fn code_to_session<T: serde::de::DeserializeOwned>(
        &self,
        code: &str,
    ) -> Result<T, WechatError> {
        self.send(
            self.http
                .get(format!("{}/sns/jscode2session", self.base))
                .query(&[
                    ("appid", self.appid.as_str()),
                    ("secret", self.secret.expose()),
                    ("js_code", code),
                    ("grant_type", "authorization_code"),
                ]),
        )
        .await
    }

    async fn post_authorised(&self, path: &str, body: &Value) -> Result<Answer, WechatError> {
        let token = self.access_token(None).await?;
        match self.post_with(&token, path, body).await {
            Err(WechatError::Refused { errcode, .. }) if STALE_TOKEN.contains(&errcode) => {
                let token = self.access_token(Some(&token)).await?;
                self.post_with(&token, path, body).await
            }
            other => other,
        }
    }

    async fn post_with(
        &self,
        token: &str,
        path: &str,
        body: &Value,
    ) -> Result<Answer, WechatError> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .query(&[("access_token", token)])
            .json(body)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unavailable)?;
        // WeChat may label its JSON as text/plain; anything else is a file.
        let is_json = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_none_or(|value| {
                value.starts_with("application/json") || value.starts_with("text/")
            });
        let bytes = response.bytes().await.map_err(unavailable)?;
        if !is_json {
            return Ok(Answer::Binary(bytes.to_vec()));
        }
        let answer: Value = parse(&bytes)?;
        match answer["errcode"].as_i64().unwrap_or(0) {
            0 => Ok(Answer::Json(answer)),
            BUSY => Err(WechatError::Unavailable("WeChat is busy".into())),
            errcode => Err(WechatError::Refused {
                errcode,
                errmsg: answer["errmsg"].as_str().unwrap_or_default().to_owned(),
            }),
        }
    }

    /// URLs carry the token: errors are logged without them.
    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, WechatError> {
        let body = request
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unavailable)?
            .bytes()
            .await
            .map_err(unavailable)?;
        parse(&body)
    }

    /// The shared token; `stale` is one WeChat just refused, to be replaced.
    async fn access_token(&self, stale: Option<&str>) -> Result<String, WechatError> {
        // One lock per token being replaced, so that replacing a stale token never waits for
        // the lock of the fetch that produced it.
        let lock = match stale {
            Some(token) => format!("{TOKEN_LOCK_KEY}:{:x}", Sha256::digest(token.as_bytes())),
            None => TOKEN_LOCK_KEY.to_owned(),
        };
        for _ in 0..40 {
            if let Ok(Some(token)) = self.store.get_text(TOKEN_KEY).await
                && !token.is_empty()
                && Some(token.as_str()) != stale
            {
                return Ok(token);
            }
            if let Ok(Some(outage)) = self.store.get_text(TOKEN_OUTAGE_KEY).await
                && !outage.is_empty()
            {
                return Err(WechatError::Unavailable(outage));
            }
            // The first to count in the lock's window fetches; a store that is down lets
            // every instance fetch for itself (the stable token allows that).
            if self.store.hit(&lock, TOKEN_LOCK).await.unwrap_or(1) == 1 {
                let fetched = self.fetch_token(stale.is_some()).await;
                if let Err(WechatError::Unavailable(reason)) = &fetched
                    && let Err(error) = self
                        .store
                        .set_text(TOKEN_OUTAGE_KEY, reason, TOKEN_OUTAGE)
                        .await
                {
                    tracing::warn!(error = %causes(error.as_ref()), "shared store unavailable; the outage is not shared");
                }
                return fetched;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(WechatError::Unavailable(
            "timed out waiting for another instance to fetch the access token".into(),
        ))
    }

    async fn fetch_token(&self, force_refresh: bool) -> Result<String, WechatError> {
        let answer: TokenAnswer = self
            .send(
                self.http
                    .post(format!("{}/cgi-bin/stable_token", self.base))
                    .json(&json!({
                        "grant_type": "client_credential",
                        "appid": self.appid,
                        "secret": self.secret.expose(),
                        "force_refresh": force_refresh,
                    })),
            )
            .await?;
        let (Some(token), 0) = (answer.access_token, answer.errcode) else {
            return Err(match answer.errcode {
                BUSY => WechatError::Unavailable("WeChat is busy".into()),
                errcode => WechatError::Refused {
                    errcode,
                    errmsg: answer.errmsg,
                },
            });
        };
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(7200));
        let keep = lifetime
            .saturating_sub(TOKEN_MARGIN)
            .max(Duration::from_secs(60));
        if let Err(error) = self.store.set_text(TOKEN_KEY, &token, keep).await {
            tracing::warn!(error = %causes(error.as_ref()), "shared store unavailable; the access token is not shared");
        }
        Ok(token)
    }
}

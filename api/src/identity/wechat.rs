//! Turning a mini-program `wx.login()` code into a WeChat openid.
use std::time::Duration;

use serde::Deserialize;

use crate::{
    error::{AppError, AppResult, causes},
    infra::wechat::WechatApi,
};

#[derive(Clone)]
pub enum WechatLogin {
    /// No app credentials configured: the code *is* the openid. For local development only.
    Dev,
    Api(WechatApi),
}

#[derive(Debug, Deserialize)]
struct Code2SessionResponse {
    openid: Option<String>,
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

const BUSY: i64 = -1;

impl WechatLogin {
    pub async fn openid_for_code(&self, code: &str) -> AppResult<String> {
        let code = code.trim();
        if code.is_empty() || code.len() > 128 || !code.chars().all(|c| c.is_ascii_graphic()) {
            return Err(AppError::bad_input("login code is empty or malformed"));
        }
        match self {
            Self::Dev => Ok(code.to_owned()),
            Self::Api(api) => {
                // WeChat answers -1 when it is momentarily busy and asks callers to retry.
                let mut response = code2session(api, code).await?;
                if response.errcode == BUSY {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    response = code2session(api, code).await?;
                }
                interpret(response)
            }
        }
    }
}

async fn code2session(api: &WechatApi, code: &str) -> AppResult<Code2SessionResponse> {
    api.code_to_session(code).await.map_err(|error| {
        tracing::warn!(error = %causes(&error), "WeChat jscode2session request failed");
        AppError::Unavailable("WeChat login is unavailable; try again shortly".into())
    })
}

fn interpret(response: Code2SessionResponse) -> AppResult<String> {
    match (response.errcode, response.openid) {
        (0, Some(openid)) if !openid.is_empty() => Ok(openid),
        (40029 | 40163, _) => Err(AppError::bad_input(
            "the login code is invalid or already used; call wx.login() again",
        )),
        (45011, _) => Err(AppError::RateLimited {
            message: "too many login attempts; wait a minute and try again".into(),
            retry_after: Some(Duration::from_secs(60)),
        }),
        (40226, _) => Err(AppError::forbidden(
            "WeChat has blocked this account from logging in (high-risk user)",
        )),
        (BUSY, _) => Err(AppError::Unavailable(
            "WeChat is busy; try again shortly".into(),
        )),
        (errcode, _) => {
            tracing::error!(errcode, errmsg = %response.errmsg, "unexpected jscode2session answer");
            Err(AppError::Unavailable(
                "WeChat login failed; try again shortly".into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(errcode: i64, openid: Option<&str>) -> Code2SessionResponse {
        Code2SessionResponse {
            openid: openid.map(str::to_owned),
            errcode,
            errmsg: String::new(),
        }
    }

    #[test]
    fn success_yields_the_openid() {
        assert_eq!(interpret(answer(0, Some("o-1"))).expect("ok"), "o-1");
    }

    #[test]
    fn wechat_error_codes_map_to_stable_codes() {
        assert_eq!(
            interpret(answer(40029, None)).unwrap_err().code(),
            "BAD_USER_INPUT"
        );
        assert_eq!(
            interpret(answer(40163, None)).unwrap_err().code(),
            "BAD_USER_INPUT"
        );
        assert_eq!(
            interpret(answer(45011, None)).unwrap_err().code(),
            "RATE_LIMITED"
        );
        assert_eq!(
            interpret(answer(40226, None)).unwrap_err().code(),
            "FORBIDDEN"
        );
        assert_eq!(
            interpret(answer(-1, None)).unwrap_err().code(),
            "SERVICE_UNAVAILABLE"
        );
        assert_eq!(
            interpret(answer(0, None)).unwrap_err().code(),
            "SERVICE_UNAVAILABLE"
        );
    }
}

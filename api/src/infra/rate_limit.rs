//! Fixed-window rate limits kept in the shared store, so that every instance counts together.
//! While the store is down limits are not enforced (and a warning is logged): the service keeps
//! working rather than refusing everyone.
use std::time::Duration;

use crate::{
    error::{AppError, AppResult, causes},
    infra::shared_store::SharedStore,
};

#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub name: &'static str,
    pub max: u64,
    pub window: Duration,
}

pub const LOGIN_PER_OPENID: Limit = Limit {
    name: "login-openid",
    max: 10,
    window: Duration::from_secs(60),
};

/// Logins from one address per minute (`LOGIN_RATE_LIMIT_PER_IP`): generous, because a
/// whole community hall may share one Wi-Fi address.
pub fn login_per_ip(max: u64) -> Limit {
    Limit {
        name: "login-ip",
        max,
        window: Duration::from_secs(60),
    }
}

/// Where the uses of `limit` by `subject` are counted.
pub fn counter_key(limit: Limit, subject: &str) -> String {
    format!("rate:{}:{subject}", limit.name)
}

/// RATE_LIMITED once `count` uses exceed the limit.
pub fn enforce(limit: Limit, count: u64) -> AppResult<()> {
    if count > limit.max {
        return Err(AppError::RateLimited {
            message: format!(
                "too many requests; try again in {} seconds",
                limit.window.as_secs()
            ),
            retry_after: Some(limit.window),
        });
    }
    Ok(())
}

/// Counts one use of `limit` by `subject`; RATE_LIMITED once it is used up.
pub async fn check(store: &SharedStore, limit: Limit, subject: &str) -> AppResult<()> {
    match store.hit(&counter_key(limit, subject), limit.window).await {
        Ok(count) => enforce(limit, count),
        Err(error) => {
            tracing::warn!(error = %causes(error.as_ref()), limit = limit.name, "shared store unavailable; rate limit not enforced");
            Ok(())
        }
    }
}

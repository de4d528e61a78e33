//! Typed settings read from the environment once at start-up and validated there, so a bad
//! value stops the process with a message naming the variable instead of failing later.
use std::{collections::HashMap, fmt, net::SocketAddr, time::Duration};

use figment::{Figment, providers::Env, providers::Serialized};
use serde::{Deserialize, Serialize};

/// The environment variables the server reads; docs/configuration.md documents each.
const VARIABLES: &[&str] = &[
    "HONGFAN_ENV",
    "HONGFAN_BIND",
    "DATABASE_URL",
    "REDIS_URL",
    "REDIS_KEY_PREFIX",
    "JWT_SECRET",
    "ACCESS_TOKEN_TTL_SECONDS",
    "REFRESH_TOKEN_TTL_DAYS",
    "WECHAT_APPID",
    "WECHAT_SECRET",
    "WECHAT_API_BASE",
    "ORDER_MINUTES_CAP",
    "REDEMPTION_VALID_DAYS",
    "RATE_LIMIT_PER_MINUTE",
    "HONGFAN_TRUST_PROXY",
    "LOGIN_RATE_LIMIT_PER_IP",
    "DATABASE_MAX_CONNECTIONS",
    "ANONYMOUS_RATE_LIMIT_PER_MINUTE",
    "HONGFAN_PROXY_HOPS",
    "HONGFAN_METRICS_BIND",
    "ADJUSTMENT_DAILY_CAP",
    "ORDERS_PER_RESIDENT_PER_HOUR",
    "OPEN_ORDERS_PER_RESIDENT",
    "NO_SHOW_LIMIT",
    "PATROL_FINDINGS_PER_HOUR",
    "NO_SHOW_HOLD_DAYS",
    "WECHAT_SUBSCRIBE_TEMPLATES",
    "DELIVERY_INTERVAL_SECONDS",
    "CONTENT_CHECK_FAIL_OPEN",
    "HONGFAN_DATA_DIR",
    "HONGFAN_PUBLIC_URL",
    "STORAGE_S3_BUCKET",
    "STORAGE_S3_ENDPOINT",
    "STORAGE_S3_REGION",
    "STORAGE_S3_ACCESS_KEY_ID",
    "STORAGE_S3_SECRET_ACCESS_KEY",
    "STORAGE_S3_VIRTUAL_HOSTED",
    "WECHAT_PUSH_TOKEN",
    "WECHAT_CODE_ENV_VERSION",
    "WECHAT_CHECK_IN_PAGE",
    "WECHAT_COUNTER_PAGE",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

/// A string that never shows up in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// PostgreSQL connections per instance when `DATABASE_MAX_CONNECTIONS` is not set.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// Field names are the environment variable names, lower-cased.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub hongfan_env: Environment,
    pub hongfan_bind: SocketAddr,
    pub database_url: String,
    pub redis_url: Option<String>,
    /// Namespaces every Redis key, so that several deployments (or test runs) can share one Redis.
    pub redis_key_prefix: String,
    pub jwt_secret: Option<Secret>,
    pub access_token_ttl_seconds: u64,
    pub refresh_token_ttl_days: u64,
    pub wechat_appid: Option<String>,
    pub wechat_secret: Option<Secret>,
    pub wechat_api_base: String,
    /// Subscription-message templates per message kind, as JSON (docs/deployment.md).
    pub wechat_subscribe_templates: Option<String>,
    /// How often each instance's worker sends due subscription messages.
    pub delivery_interval_seconds: u64,
    /// While WeChat's content check is unreachable: store user text and flag it for STAFF
    /// (true), or refuse it with SERVICE_UNAVAILABLE (false).
    pub content_check_fail_open: bool,
    /// Most minutes one order may credit to its taker (default 8 h).
    pub order_minutes_cap: i32,
    /// How long a redemption code stays valid before it expires and is refunded.
    pub redemption_valid_days: i64,
    /// GraphQL requests one user may make per minute, across all instances.
    pub rate_limit_per_minute: u64,
    /// Behind a load balancer that appends to X-Forwarded-For: take the client address from it.
    pub hongfan_trust_proxy: bool,
    /// How many trusted proxies append to X-Forwarded-For (the client is the entry this far
    /// from the right).
    pub hongfan_proxy_hops: usize,
    /// Requests without a token per minute from one client address.
    pub anonymous_rate_limit_per_minute: u64,
    /// Where GET /metrics is served; unset = not served. Never the public address.
    pub hongfan_metrics_bind: Option<SocketAddr>,
    /// Points one STAFF member may adjust per day (China time) before a second member must
    /// approve each further adjustment.
    pub adjustment_daily_cap: i64,
    /// Orders one resident may place in any hour; those STAFF place for them count apart.
    pub orders_per_resident_per_hour: u64,
    /// Orders one resident may have open at once; those STAFF placed for them count apart.
    pub open_orders_per_resident: u64,
    /// Patrol findings one grid worker may file in any hour.
    pub patrol_findings_per_hour: u64,
    /// No-shows at a community's activities (within 90 days) that hold back someone's
    /// sign-ups there.
    pub no_show_limit: usize,
    /// How long such a hold lasts after the last no-show, unless STAFF lift it.
    pub no_show_hold_days: i64,
    /// Logins per minute from one client address.
    pub login_rate_limit_per_ip: u64,
    /// PostgreSQL connections per instance.
    pub database_max_connections: u32,
    /// Where local files live when no bucket is configured.
    pub hongfan_data_dir: String,
    /// How apps reach this server (for links to local files); default `http://` + the bound
    /// address.
    pub hongfan_public_url: Option<String>,
    /// Set: photos and 小程序码 live in this S3-compatible bucket instead of local files.
    pub storage_s3_bucket: Option<String>,
    /// The S3-compatible service (e.g. `https://cos.ap-guangzhou.myqcloud.com`); unset = AWS.
    pub storage_s3_endpoint: Option<String>,
    pub storage_s3_region: String,
    pub storage_s3_access_key_id: Option<String>,
    pub storage_s3_secret_access_key: Option<Secret>,
    /// Bucket in the host name (COS and OSS need it) instead of in the path.
    pub storage_s3_virtual_hosted: bool,
    /// The token configured for WeChat's message push (消息推送); unset = no push route.
    pub wechat_push_token: Option<Secret>,
    /// Which mini-program version 小程序码 open: release, trial or develop.
    pub wechat_code_env_version: String,
    /// The mini-program page an activity's check-in code opens (scene = the activity id).
    pub wechat_check_in_page: String,
    /// The page a merchant's counter code opens (scene = the merchant id).
    pub wechat_counter_page: String,
    /// The page a staff console's login code opens (scene = the login ticket).
    pub wechat_console_login_page: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            hongfan_env: Environment::Development,
            hongfan_bind: SocketAddr::from(([127, 0, 0, 1], 8000)),
            database_url: "sqlite://hongfan.db?mode=rwc".to_owned(),
            redis_url: None,
            redis_key_prefix: "hongfan".to_owned(),
            jwt_secret: None,
            access_token_ttl_seconds: 15 * 60,
            refresh_token_ttl_days: 30,
            wechat_appid: None,
            wechat_secret: None,
            wechat_api_base: "https://api.weixin.qq.com".to_owned(),
            wechat_subscribe_templates: None,
            delivery_interval_seconds: 5,
            content_check_fail_open: true,
            order_minutes_cap: 8 * 60,
            redemption_valid_days: 7,
            rate_limit_per_minute: 600,
            hongfan_trust_proxy: false,
            hongfan_proxy_hops: 1,
            anonymous_rate_limit_per_minute: 120,
            hongfan_metrics_bind: None,
            adjustment_daily_cap: 1_000,
            orders_per_resident_per_hour: 10,
            open_orders_per_resident: 20,
            no_show_limit: 3,
            patrol_findings_per_hour: 30,
            no_show_hold_days: 30,
            login_rate_limit_per_ip: 120,
            database_max_connections: DEFAULT_MAX_CONNECTIONS,
            hongfan_data_dir: "data".to_owned(),
            hongfan_public_url: None,
            storage_s3_bucket: None,
            storage_s3_endpoint: None,
            storage_s3_region: "us-east-1".to_owned(),
            storage_s3_access_key_id: None,
            storage_s3_secret_access_key: None,
            storage_s3_virtual_hosted: false,
            wechat_push_token: None,
            wechat_code_env_version: "release".to_owned(),
            wechat_check_in_page: "pages/activity/check-in".to_owned(),
            wechat_counter_page: "pages/merchant/counter".to_owned(),
            wechat_console_login_page: "pages/console/login".to_owned(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid configuration: {0}")]
    Parse(#[from] Box<figment::Error>),
    #[error("invalid configuration: {variable} {problem}")]
    Invalid {
        variable: &'static str,
        problem: String,
    },
}

fn invalid(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        variable,
        problem: problem.into(),
    }
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        let settings: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Env::raw().only(VARIABLES))
            .extract()
            .map_err(Box::new)?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.database_url.starts_with("sqlite:") || self.is_postgres()) {
            return Err(invalid(
                "DATABASE_URL",
                "must start with sqlite:, postgres:// or postgresql://",
            ));
        }
        if let Some(url) = &self.redis_url
            && !(url.starts_with("redis://") || url.starts_with("rediss://"))
        {
            return Err(invalid(
                "REDIS_URL",
                "must start with redis:// or rediss://",
            ));
        }
        match &self.jwt_secret {
            Some(secret) if secret.expose().len() < 32 => {
                return Err(invalid("JWT_SECRET", "must be at least 32 characters"));
            }
            None if self.hongfan_env == Environment::Production => {
                return Err(invalid("JWT_SECRET", "is required in production"));
            }
            _ => {}
        }
        if let Err(error) = Templates::parse(self.wechat_subscribe_templates.as_deref()) {
            return Err(invalid(
                "WECHAT_SUBSCRIBE_TEMPLATES",
                format!("must be a JSON object of message kind → template: {error}"),
            ));
        }
        if self.delivery_interval_seconds == 0 {
            return Err(invalid("DELIVERY_INTERVAL_SECONDS", "must be positive"));
        }
        if self.access_token_ttl_seconds == 0 {
            return Err(invalid("ACCESS_TOKEN_TTL_SECONDS", "must be positive"));
        }
        if self.refresh_token_ttl_days == 0 {
            return Err(invalid("REFRESH_TOKEN_TTL_DAYS", "must be positive"));
        }
        if !(1..=24 * 60).contains(&self.order_minutes_cap) {
            return Err(invalid("ORDER_MINUTES_CAP", "must be between 1 and 1440"));
        }
        if !(1..=365).contains(&self.redemption_valid_days) {
            return Err(invalid(
                "REDEMPTION_VALID_DAYS",
                "must be between 1 and 365",
            ));
        }
        if self.rate_limit_per_minute == 0 {
            return Err(invalid("RATE_LIMIT_PER_MINUTE", "must be positive"));
        }
        if !(1..=1000).contains(&self.database_max_connections) {
            return Err(invalid(
                "DATABASE_MAX_CONNECTIONS",
                "must be between 1 and 1000",
            ));
        }
        if self.anonymous_rate_limit_per_minute == 0 {
            return Err(invalid(
                "ANONYMOUS_RATE_LIMIT_PER_MINUTE",
                "must be positive",
            ));
        }
        if !(1..=10).contains(&self.hongfan_proxy_hops) {
            return Err(invalid("HONGFAN_PROXY_HOPS", "must be between 1 and 10"));
        }
        if self.adjustment_daily_cap < 0 {
            return Err(invalid("ADJUSTMENT_DAILY_CAP", "must not be negative"));
        }
        if self.orders_per_resident_per_hour == 0 {
            return Err(invalid("ORDERS_PER_RESIDENT_PER_HOUR", "must be positive"));
        }
        if self.patrol_findings_per_hour == 0 {
            return Err(invalid("PATROL_FINDINGS_PER_HOUR", "must be positive"));
        }
        if self.no_show_limit == 0 {
            return Err(invalid("NO_SHOW_LIMIT", "must be positive"));
        }
        if !(1..=365).contains(&self.no_show_hold_days) {
            return Err(invalid("NO_SHOW_HOLD_DAYS", "must be 1 to 365"));
        }
        if self.open_orders_per_resident == 0 {
            return Err(invalid("OPEN_ORDERS_PER_RESIDENT", "must be positive"));
        }
        if self.hongfan_metrics_bind.is_some()
            && self.hongfan_metrics_bind == Some(self.hongfan_bind)
            && self.hongfan_bind.port() != 0
        {
            return Err(invalid(
                "HONGFAN_METRICS_BIND",
                "must differ from HONGFAN_BIND: metrics are not for the public port",
            ));
        }
        if self.login_rate_limit_per_ip == 0 {
            return Err(invalid("LOGIN_RATE_LIMIT_PER_IP", "must be positive"));
        }
        if self.wechat_appid.is_some() != self.wechat_secret.is_some() {
            return Err(invalid(
                "WECHAT_APPID",
                "and WECHAT_SECRET must be set together (or neither, for dev login)",
            ));
        }
        if self.hongfan_env == Environment::Production && self.wechat_appid.is_none() {
            return Err(invalid(
                "WECHAT_APPID",
                "is required in production: dev login accepts any openid",
            ));
        }
        if self.storage_s3_access_key_id.is_some() != self.storage_s3_secret_access_key.is_some() {
            return Err(invalid(
                "STORAGE_S3_ACCESS_KEY_ID",
                "and STORAGE_S3_SECRET_ACCESS_KEY must be set together",
            ));
        }
        if let Some(url) = &self.hongfan_public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(invalid(
                "HONGFAN_PUBLIC_URL",
                "must start with http:// or https://",
            ));
        }
        if !["release", "trial", "develop"].contains(&self.wechat_code_env_version.as_str()) {
            return Err(invalid(
                "WECHAT_CODE_ENV_VERSION",
                "must be release, trial or develop",
            ));
        }
        Ok(())
    }

    pub fn is_postgres(&self) -> bool {
        self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://")
    }

    pub fn access_token_ttl(&self) -> Duration {
        Duration::from_secs(self.access_token_ttl_seconds)
    }

    /// Proxies whose X-Forwarded-For entries are trusted: none unless HONGFAN_TRUST_PROXY.
    pub fn trusted_proxy_hops(&self) -> usize {
        if self.hongfan_trust_proxy {
            self.hongfan_proxy_hops
        } else {
            0
        }
    }

    pub fn refresh_token_ttl(&self) -> Duration {
        Duration::from_secs(self.refresh_token_ttl_days * 24 * 3600)
    }
}

/// Where a template field's value comes from.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The notification's text, cut to WeChat's 20 characters for `thing` fields.
    Message,
    /// When it happened, China time.
    Time,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    pub template_id: String,
    /// The mini-program page the message opens.
    #[serde(default)]
    pub page: Option<String>,
    /// Template field (thing1, time2, …) → what fills it.
    pub fields: HashMap<String, Source>,
}

/// Templates by message kind as the app names it (ORDER_DISPATCHED_TO_YOU, …).
#[derive(Debug, Clone, Default)]
pub struct Templates(HashMap<String, Template>);

impl Templates {
    /// From `WECHAT_SUBSCRIBE_TEMPLATES`: a JSON object of kind → template.
    pub fn parse(json: Option<&str>) -> Result<Self, String> {
        match json {
            None => Ok(Self::default()),
            Some(text) => serde_json::from_str(text)
                .map(Self)
                .map_err(|error| error.to_string()),
        }
    }

    /// The template messages of `kind` are sent with, if one is set.
    pub fn get(&self, kind: &str) -> Option<&Template> {
        self.0.get(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_come_from_json() {
        let templates = Templates::parse(Some(
            r#"{"ORDER_DISPATCHED_TO_YOU": {"templateId": "t-1", "page": "pages/order/detail", "fields": {"thing1": "message", "time2": "time"}}}"#,
        ))
        .expect("parses");
        assert_eq!(
            templates
                .get("ORDER_DISPATCHED_TO_YOU")
                .expect("template")
                .template_id,
            "t-1"
        );
        assert!(Templates::parse(Some("{not json")).is_err());
    }

    #[test]
    fn defaults_are_valid() {
        assert!(Settings::default().validate().is_ok());
    }

    #[test]
    fn short_jwt_secret_is_rejected() {
        let settings = Settings {
            jwt_secret: Some(Secret::new("short")),
            ..Settings::default()
        };
        let error = settings.validate().unwrap_err().to_string();
        assert!(error.contains("JWT_SECRET"), "{error}");
    }

    #[test]
    fn production_requires_secrets() {
        let settings = Settings {
            hongfan_env: Environment::Production,
            ..Settings::default()
        };
        assert!(settings.validate().is_err());
    }

    #[test]
    fn secrets_are_masked_in_debug_output() {
        let shown = format!("{:?}", Secret::new("hunter2-hunter2"));
        assert!(!shown.contains("hunter2"));
    }
}

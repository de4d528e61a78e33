//! Integration tests through the real HTTP endpoint. One binary for all of them: each test
//! binary links the whole stack.
mod authorization;
mod caching;
mod concurrency;
mod database_outage;
mod escalations;
mod first_deployment;
mod governance;
mod helpers;
mod http_protocol;
mod identity;
mod inbox;
mod ledger_properties;
mod merchants;
mod observability;
mod orders;
mod organisation;
mod photos;
mod points;
mod rate_limits;
mod redemption_races;
mod redis_outage;
mod schema_file;
mod security;
mod subscriptions;
mod wechat_login;
mod wechat_messages;

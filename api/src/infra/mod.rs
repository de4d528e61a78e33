//! What talks to the outside world: the database, the shared store (Redis or its in-process
//! stand-in) and what is built on it (cache, rate limits, the notification bus), and metrics.
//! Domain modules use these; nothing here knows the domain's rules.
pub mod cache;
pub mod db;
pub mod memo;
pub mod metrics;
pub mod object_storage;
pub mod rate_limit;
pub mod rows;
pub mod shared_store;
pub mod wechat;

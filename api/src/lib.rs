//! Hongfan (红帆): the backend of a community-service mini-program. Layers, top to bottom:
//! `graphql` (thin resolvers) → domain services (`identity`, `organisation`, `orders`) →
//! `entity` (sea-orm). `startup` wires them together.
pub mod cache;
pub mod config;
pub mod db;
pub mod error;
pub mod graphql;
pub mod identity;
pub mod merchants;
pub mod metrics;
pub mod notifications;
pub mod orders;
pub mod organisation;
pub mod pagination;
pub mod points;
pub mod rate_limit;
pub mod seed;
pub mod shared_store;
pub mod startup;
pub mod validate;

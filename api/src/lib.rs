//! Hongfan (红帆): the backend of a community-service mini-program. Layers, top to bottom:
//! `http` (routes, who is calling) and `graphql` (thin resolvers) → domain services
//! (`identity`, `organisation`, `orders`, `points`, `merchants`, `wishes`; `content` holds the
//! rules for what users write and upload, with WeChat's checks), which return the events their
//! commands caused for `notify` to apply after the commit → `entity` (sea-orm). `values` are
//! parsed inputs; `infra` talks to the outside (database, Redis, WeChat, object storage,
//! metrics); `startup` wires it all into the `state` that handlers share.
pub mod codes;
pub mod config;
pub mod consultations;
pub mod content;
pub mod error;
pub mod graphql;
pub mod http;
pub mod idempotency;
pub mod identity;
pub mod infra;
pub mod jobs;
pub mod merchants;
pub mod notify;
pub mod orders;
pub mod organisation;
pub mod pagination;
pub mod patrols;
pub mod points;
pub mod property;
pub mod publication;
pub mod seed;
pub mod startup;
pub mod state;
pub mod validate;
pub mod values;
pub mod wishes;

//! What resolvers, handlers and background jobs share; `startup` builds it.
use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    codes::MiniProgramCodes,
    consultations::BallotBox,
    content::ContentGuard,
    content::photos::PhotoService,
    identity::sessions::SessionService,
    infra::object_storage::ObjectStorage,
    infra::shared_store::SharedStore,
    infra::wechat::WechatApi,
    notify::Dispatcher,
    notify::delivery::Sender,
    orders::{PlacingLimits, Placings, PoolCache, categories::Catalog},
    points::{attendance::NoShowPolicy, certificates::CertificateDesk},
};

/// What resolvers and handlers share.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub store: SharedStore,
    pub sessions: SessionService,
    pub order_minutes_cap: i32,
    pub adjustment_daily_cap: i64,
    pub placing: PlacingLimits,
    pub no_shows: NoShowPolicy,
    pub redemption_valid_for: chrono::Duration,
    pub dispatcher: Dispatcher,
    /// How inbox messages leave the app (WeChat, or the log in development).
    pub delivery: Sender,
    /// Content security for text users write for others.
    pub content: ContentGuard,
    /// WeChat's server API; `None` without credentials (development).
    pub wechat: Option<WechatApi>,
    pub categories: Catalog,
    /// What each resident's last order was built from, for their next (`orders::place`).
    pub placings: Placings,
    pub order_pool: Arc<PoolCache>,
    /// Photos and generated 小程序码 (links, not bytes, go to apps).
    pub storage: ObjectStorage,
    pub photos: PhotoService,
    pub codes: MiniProgramCodes,
    pub certificates: CertificateDesk,
    /// Files ballots so that a changed one replaces the last without naming its voter.
    pub ballots: BallotBox,
}

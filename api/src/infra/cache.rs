//! A read-through cache in the shared store for what is read far more often than it changes
//! (communities, merchants, offers, roles). Each namespace has a version; a change bumps it, so every
//! instance's next read misses and reloads. Entries also expire after a minute. While the store
//! is down, reads go straight to the database.
use std::{fmt, future::Future, sync::Arc, time::Duration};

use serde::{Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    error::{AppResult, causes},
    infra::{
        memo::Memo,
        metrics::{Metrics, NearCacheCounters},
        shared_store::SharedStore,
    },
};

const ENTRY_TTL: Duration = Duration::from_secs(60);
/// Versions outlive every entry written under them.
pub const VERSION_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    Communities,
    Merchants,
    /// Users' roles (see `identity::KnownRoles`).
    Roles,
    /// First pages of the order pool, with their requesters.
    OrderPool,
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Namespace::Communities => "communities",
            Namespace::Merchants => "merchants",
            Namespace::Roles => "roles",
            Namespace::OrderPool => "order-pool",
        })
    }
}

/// A change bumps it (`notify::EventBus::announce`), so that every instance reloads the
/// namespace on its next read.
pub fn version_key(namespace: Namespace) -> String {
    Stale::everywhere(namespace).version_key()
}

/// What a change made stale: a namespace, or only one community's part of it (an order step
/// there leaves every other community's pool as it was).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stale {
    namespace: Namespace,
    community_id: Option<Uuid>,
}

impl Stale {
    pub fn everywhere(namespace: Namespace) -> Self {
        Self {
            namespace,
            community_id: None,
        }
    }

    pub fn in_community(namespace: Namespace, community_id: Uuid) -> Self {
        Self {
            namespace,
            community_id: Some(community_id),
        }
    }

    /// The version a change bumps (`notify::EventBus::announce`).
    pub fn version_key(&self) -> String {
        match self.community_id {
            None => format!("cache-version:{}", self.namespace),
            Some(community_id) => format!("cache-version:{}:{community_id}", self.namespace),
        }
    }
}

/// The cached value of `query` in `namespace`, or `load()` stored for the next reader.
pub async fn read_through<T, F, Fut>(
    store: &SharedStore,
    namespace: Namespace,
    query: &impl fmt::Debug,
    load: F,
) -> AppResult<T>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce() -> Fut,
    Fut: Future<Output = AppResult<T>>,
{
    let Ok(version) = store.count(&version_key(namespace)).await else {
        return load().await;
    };
    let digest = Sha256::digest(format!("{query:?}").as_bytes());
    let key = format!("cache:{namespace}:{version}:{digest:x}");
    if let Ok(Some(text)) = store.get_text(&key).await
        && let Ok(value) = serde_json::from_str(&text)
    {
        return Ok(value);
    }
    let value = load().await?;
    if let Ok(text) = serde_json::to_string(&value)
        && let Err(error) = store.set_text(&key, &text, ENTRY_TTL).await
    {
        tracing::warn!(error = %causes(error.as_ref()), "shared store unavailable; not caching");
    }
    Ok(value)
}

/// Most entries one near cache keeps; past that it starts afresh.
const MAX_NEAR_ENTRIES: usize = 1_000;

/// The versions a near-cache entry was loaded at, as the shared store holds them; shared, so
/// that a look-up on the hot path copies none.
type Versions = Arc<[Option<String>]>;

/// Values kept in this process, for reads so hot that even fetching them from the shared store
/// costs too much. Each entry remembers the versions it was loaded at (its namespace's, and
/// those of the communities it shows) and is used only while the shared store still has them,
/// so a change made through any instance is seen on the next read. The versions are read
/// before loading, so a value loaded while a change commits is kept under the old versions and
/// never served. While the store is down every read loads.
pub struct NearCache<V> {
    namespace: Namespace,
    entries: Memo<String, (Versions, Arc<V>)>,
    counters: NearCacheCounters,
}

impl<V> NearCache<V> {
    pub fn new(namespace: Namespace, metrics: &Metrics) -> Self {
        Self {
            namespace,
            entries: Memo::new(MAX_NEAR_ENTRIES),
            counters: metrics.near_cache_counters(&namespace.to_string()),
        }
    }

    /// The value under `key`, which shows what `communities` hold, or `load()` kept for the
    /// next reader.
    pub async fn get_or_load<Fut>(
        &self,
        store: &SharedStore,
        key: String,
        communities: &[Uuid],
        load: impl FnOnce() -> Fut,
    ) -> AppResult<Arc<V>>
    where
        Fut: Future<Output = AppResult<V>>,
    {
        let version_keys: Vec<String> = std::iter::once(Stale::everywhere(self.namespace))
            .chain(
                communities
                    .iter()
                    .map(|id| Stale::in_community(self.namespace, *id)),
            )
            .map(|stale| stale.version_key())
            .collect();
        let Ok(versions) = store.read(&version_keys).await else {
            return Ok(Arc::new(load().await?));
        };
        if let Some((at, value)) = self.entries.get(&key)
            && *at == *versions
        {
            self.counters.hits.inc();
            return Ok(value);
        }
        self.counters.misses.inc();
        let value = Arc::new(load().await?);
        self.entries.put(key, (versions.into(), Arc::clone(&value)));
        Ok(value)
    }
}

//! State that every API instance must see at once (session revocations now; rate limits
//! and caches later). Redis when `REDIS_URL` is set; an in-process stand-in otherwise, which is
//! only correct for a single instance — the embedded default.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context;
use redis::{AsyncCommands, aio::ConnectionManager};

#[derive(Clone)]
pub enum SharedStore {
    Memory(Arc<Mutex<HashMap<String, Instant>>>),
    Redis {
        connection: ConnectionManager,
        prefix: String,
    },
}

impl SharedStore {
    pub fn in_memory() -> Self {
        Self::Memory(Arc::default())
    }

    pub async fn redis(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url).context("parsing REDIS_URL")?;
        let connection = ConnectionManager::new(client)
            .await
            .context("connecting to Redis")?;
        Ok(Self::Redis {
            connection,
            prefix: prefix.to_owned(),
        })
    }

    /// Marks `key` for `ttl`; marks outlive nothing they guard, so they expire on their own.
    pub async fn set_flag(&self, key: &str, ttl: Duration) -> anyhow::Result<()> {
        match self {
            Self::Memory(flags) => {
                let mut flags = flags
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                let now = Instant::now();
                flags.retain(|_, expires| *expires > now);
                flags.insert(key.to_owned(), now + ttl);
                Ok(())
            }
            Self::Redis { connection, prefix } => {
                let seconds = ttl.as_secs().max(1);
                connection
                    .clone()
                    .set_ex::<_, _, ()>(format!("{prefix}:{key}"), 1, seconds)
                    .await
                    .context("writing a flag to Redis")
            }
        }
    }

    pub async fn has_flag(&self, key: &str) -> anyhow::Result<bool> {
        match self {
            Self::Memory(flags) => {
                let flags = flags
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                Ok(flags
                    .get(key)
                    .is_some_and(|expires| *expires > Instant::now()))
            }
            Self::Redis { connection, prefix } => connection
                .clone()
                .exists(format!("{prefix}:{key}"))
                .await
                .context("reading a flag from Redis"),
        }
    }

    /// For readiness: `None` when there is no external store to check.
    pub async fn ping(&self) -> Option<anyhow::Result<()>> {
        match self {
            Self::Memory(_) => None,
            Self::Redis { connection, .. } => Some(
                redis::cmd("PING")
                    .query_async::<String>(&mut connection.clone())
                    .await
                    .map(drop)
                    .context("pinging Redis"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_flags_expire() {
        let store = SharedStore::in_memory();
        store
            .set_flag("a", Duration::from_millis(20))
            .await
            .expect("set");
        assert!(store.has_flag("a").await.expect("get"));
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(!store.has_flag("a").await.expect("get"));
    }
}

//! State that every API instance must see at once: session revocations, rate-limit counters
//! and cached entries. Redis when `REDIS_URL` is set; an in-process stand-in otherwise, which is
//! only correct for a single instance — the embedded default.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context;
use redis::{
    AsyncCommands,
    aio::{ConnectionManager, ConnectionManagerConfig},
};

/// A Redis connection that is made on first use and re-made after failures, and that gives up
/// on a call quickly: while Redis is down, requests degrade instead of hanging. The server
/// therefore also starts while Redis is down.
pub fn redis_connection(url: &str) -> anyhow::Result<ConnectionManager> {
    let client = redis::Client::open(url).context("parsing REDIS_URL")?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_millis(500)))
        .set_response_timeout(Some(Duration::from_millis(500)))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_secs(1));
    ConnectionManager::new_lazy_with_config(client, config)
        .context("setting up the Redis connection")
}

/// Most cached texts, and bytes of them, the in-process store keeps; past either it starts
/// afresh (everything in it can be re-read or re-sent).
const MAX_MEMORY_TEXTS: usize = 10_000;
const MAX_MEMORY_TEXT_BYTES: usize = 32 * 1024 * 1024;

#[derive(Default)]
pub struct MemoryState {
    /// Counters with their expiry; a flag is a counter of 1.
    counters: HashMap<String, (u64, Instant)>,
    texts: HashMap<String, (String, Instant)>,
    text_bytes: usize,
}

impl MemoryState {
    fn values(&self, keys: &[String]) -> Vec<Option<String>> {
        let now = Instant::now();
        keys.iter()
            .map(|key| {
                let text = self.texts.get(key).filter(|(_, expires)| *expires > now);
                let count = self.counters.get(key).filter(|(_, expires)| *expires > now);
                text.map(|(text, _)| text.clone())
                    .or_else(|| count.map(|(count, _)| count.to_string()))
            })
            .collect()
    }
}

#[derive(Clone)]
pub enum SharedStore {
    Memory(Arc<Mutex<MemoryState>>),
    Redis {
        connection: ConnectionManager,
        prefix: String,
    },
}

impl SharedStore {
    pub fn in_memory() -> Self {
        Self::Memory(Arc::default())
    }

    /// Redis when a URL is configured, else the in-process stand-in.
    pub fn connect(redis_url: Option<&str>, prefix: &str) -> anyhow::Result<Self> {
        match redis_url {
            Some(url) => Self::redis(url, prefix),
            None => Ok(Self::in_memory()),
        }
    }

    pub fn redis(url: &str, prefix: &str) -> anyhow::Result<Self> {
        Ok(Self::Redis {
            connection: redis_connection(url)?,
            prefix: prefix.to_owned(),
        })
    }

    /// Marks `key` for `ttl`; marks outlive nothing they guard, so they expire on their own.
    pub async fn set_flag(&self, key: &str, ttl: Duration) -> anyhow::Result<()> {
        match self {
            Self::Memory(entries) => {
                let mut state = lock(entries);
                let now = Instant::now();
                state.counters.retain(|_, (_, expires)| *expires > now);
                state.counters.insert(key.to_owned(), (1, now + ttl));
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

    /// Counts one event in a fixed window that starts with the first event; returns the count.
    pub async fn hit(&self, key: &str, window: Duration) -> anyhow::Result<u64> {
        match self {
            Self::Memory(entries) => {
                let mut state = lock(entries);
                let now = Instant::now();
                let entry = state
                    .counters
                    .entry(key.to_owned())
                    .or_insert((0, now + window));
                if entry.1 <= now {
                    *entry = (0, now + window);
                }
                entry.0 += 1;
                Ok(entry.0)
            }
            Self::Redis { connection, prefix } => {
                let key = format!("{prefix}:{key}");
                let (count,): (u64,) = redis::pipe()
                    .atomic()
                    .incr(&key, 1)
                    .cmd("EXPIRE")
                    .arg(&key)
                    .arg(window.as_secs().max(1))
                    .arg("NX")
                    .ignore()
                    .query_async(&mut connection.clone())
                    .await
                    .context("counting in Redis")?;
                Ok(count)
            }
        }
    }

    pub async fn count(&self, key: &str) -> anyhow::Result<u64> {
        match self {
            Self::Memory(entries) => Ok(lock(entries)
                .counters
                .get(key)
                .filter(|(_, expires)| *expires > Instant::now())
                .map_or(0, |(count, _)| *count)),
            Self::Redis { connection, prefix } => {
                let count: Option<u64> = connection
                    .clone()
                    .get(format!("{prefix}:{key}"))
                    .await
                    .context("reading a counter from Redis")?;
                Ok(count.unwrap_or(0))
            }
        }
    }

    /// In one round trip: the values under `keys` (texts, or counters and flags as numbers),
    /// and one more event on the `hit` counter, as [`Self::hit`] counts them.
    pub async fn read_and_hit(
        &self,
        keys: &[String],
        (counter, window): (&str, Duration),
    ) -> anyhow::Result<(Vec<Option<String>>, u64)> {
        match self {
            Self::Memory(state) => {
                let values = lock(state).values(keys);
                Ok((values, self.hit(counter, window).await?))
            }
            Self::Redis { connection, prefix } => {
                let counter = format!("{prefix}:{counter}");
                let mut pipe = redis::pipe();
                pipe.cmd("MGET")
                    .arg(
                        keys.iter()
                            .map(|key| format!("{prefix}:{key}"))
                            .collect::<Vec<_>>(),
                    )
                    .incr(&counter, 1)
                    .cmd("EXPIRE")
                    .arg(&counter)
                    .arg(window.as_secs().max(1))
                    .arg("NX")
                    .ignore();
                pipe.query_async(&mut connection.clone())
                    .await
                    .context("reading and counting in Redis")
            }
        }
    }

    /// The values under `keys` in one round trip (texts, or counters and flags as numbers).
    pub async fn read(&self, keys: &[String]) -> anyhow::Result<Vec<Option<String>>> {
        match self {
            Self::Memory(state) => Ok(lock(state).values(keys)),
            Self::Redis { connection, prefix } => redis::cmd("MGET")
                .arg(
                    keys.iter()
                        .map(|key| format!("{prefix}:{key}"))
                        .collect::<Vec<_>>(),
                )
                .query_async(&mut connection.clone())
                .await
                .context("reading from Redis"),
        }
    }

    pub async fn get_text(&self, key: &str) -> anyhow::Result<Option<String>> {
        match self {
            Self::Memory(state) => Ok(lock(state)
                .texts
                .get(key)
                .filter(|(_, expires)| *expires > Instant::now())
                .map(|(text, _)| text.clone())),
            Self::Redis { connection, prefix } => connection
                .clone()
                .get(format!("{prefix}:{key}"))
                .await
                .context("reading from Redis"),
        }
    }

    pub async fn set_text(&self, key: &str, text: &str, ttl: Duration) -> anyhow::Result<()> {
        match self {
            Self::Memory(state) => {
                let mut state = lock(state);
                let bytes = key.len() + text.len();
                if state.texts.len() >= MAX_MEMORY_TEXTS
                    || state.text_bytes + bytes > MAX_MEMORY_TEXT_BYTES
                {
                    state.texts.clear();
                    state.text_bytes = 0;
                }
                let replaced = state
                    .texts
                    .insert(key.to_owned(), (text.to_owned(), Instant::now() + ttl));
                state.text_bytes += bytes;
                if let Some((old, _)) = replaced {
                    state.text_bytes -= key.len() + old.len();
                }
                Ok(())
            }
            Self::Redis { connection, prefix } => connection
                .clone()
                .set_ex::<_, _, ()>(format!("{prefix}:{key}"), text, ttl.as_secs().max(1))
                .await
                .context("writing to Redis"),
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

fn lock(state: &Mutex<MemoryState>) -> std::sync::MutexGuard<'_, MemoryState> {
    // A panic while holding the lock cannot leave an entry half-written.
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
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
        assert!(store.count("a").await.expect("get") > 0);
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(store.count("a").await.expect("get") == 0);
    }

    #[tokio::test]
    async fn memory_counters_restart_after_their_window() {
        let store = SharedStore::in_memory();
        let window = Duration::from_millis(30);
        assert_eq!(store.hit("k", window).await.expect("hit"), 1);
        assert_eq!(store.hit("k", window).await.expect("hit"), 2);
        assert_eq!(store.count("k").await.expect("count"), 2);
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(store.count("k").await.expect("count"), 0);
        assert_eq!(store.hit("k", window).await.expect("hit"), 1);
    }

    #[tokio::test]
    async fn memory_reads_texts_and_counters_while_counting() {
        let store = SharedStore::in_memory();
        let minute = Duration::from_secs(60);
        store.set_text("t", "hello", minute).await.expect("set");
        store.set_flag("f", minute).await.expect("flag");
        let keys = ["t".to_owned(), "f".to_owned(), "missing".to_owned()];
        let (values, count) = store
            .read_and_hit(&keys, ("c", minute))
            .await
            .expect("read");
        assert_eq!(values, [Some("hello".into()), Some("1".into()), None]);
        assert_eq!(count, 1);
        let (_, count) = store
            .read_and_hit(&keys, ("c", minute))
            .await
            .expect("read");
        assert_eq!(count, 2);
    }
}

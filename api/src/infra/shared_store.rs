//! State that every API instance must see at once: session revocations, rate-limit counters
//! and cached entries. Redis when `REDIS_URL` is set; an in-process stand-in otherwise, which is
//! only correct for a single instance — the embedded default.
use std::{
    collections::HashMap,
    future::Future,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
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
fn redis_connection(url: &str) -> anyhow::Result<ConnectionManager> {
    let client = redis::Client::open(url).context("parsing REDIS_URL")?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_millis(500)))
        .set_response_timeout(Some(Duration::from_millis(500)))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_secs(1));
    ConnectionManager::new_lazy_with_config(client, config)
        .context("setting up the Redis connection")
}

/// One more event on the counter `key` (its new count is the pipeline's answer), in a fixed
/// window that starts with the first event.
fn counted<'p>(
    pipe: &'p mut redis::Pipeline,
    key: &str,
    window: Duration,
) -> &'p mut redis::Pipeline {
    pipe.incr(key, 1)
        .cmd("EXPIRE")
        .arg(key)
        .arg(window.as_secs().max(1))
        .arg("NX")
        .ignore()
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

/// How long calls skip Redis after one failed: while Redis hangs, only one call per interval
/// waits for its timeout, and the rest go on at the database's speed.
const SKIP_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// A circuit breaker: open (skipping Redis) until a moment, then one call probes.
#[derive(Default)]
pub struct Breaker {
    /// Milliseconds since `epoch()` until which calls skip Redis; 0 while closed.
    open_until: AtomicU64,
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    epoch().elapsed().as_millis() as u64
}

impl Breaker {
    /// Whether this call may use Redis: always while closed; once the interval is over, only
    /// the one call that claims the probe (the others keep skipping until it answers).
    fn admit(&self) -> bool {
        let until = self.open_until.load(Ordering::Acquire);
        if until == 0 {
            return true;
        }
        let now = now_ms();
        now >= until
            && self
                .open_until
                .compare_exchange(
                    until,
                    now + SKIP_AFTER_FAILURE.as_millis() as u64,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                )
                .is_ok()
    }

    fn record<T>(&self, result: &anyhow::Result<T>) {
        let until = match result {
            Ok(_) => 0,
            Err(_) => now_ms() + SKIP_AFTER_FAILURE.as_millis() as u64,
        };
        self.open_until.store(until, Ordering::Release);
    }

    /// Runs `call` unless Redis is being skipped; a failure opens the breaker.
    async fn guard<T>(&self, call: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
        if !self.admit() {
            anyhow::bail!("Redis is skipped for a moment after a failure");
        }
        let result = call.await;
        self.record(&result);
        result
    }
}

#[derive(Clone)]
pub enum SharedStore {
    Memory(Arc<Mutex<MemoryState>>),
    Redis {
        connection: ConnectionManager,
        prefix: String,
        breaker: Arc<Breaker>,
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
            breaker: Arc::default(),
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
            Self::Redis {
                connection,
                prefix,
                breaker,
            } => {
                let seconds = ttl.as_secs().max(1);
                let mut connection = connection.clone();
                let call = connection.set_ex::<_, _, ()>(format!("{prefix}:{key}"), 1, seconds);
                breaker
                    .guard(async { call.await.context("writing a flag to Redis") })
                    .await
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
            Self::Redis {
                connection,
                prefix,
                breaker,
            } => {
                let key = format!("{prefix}:{key}");
                let mut pipe = redis::pipe();
                counted(pipe.atomic(), &key, window);
                let (count,): (u64,) = breaker
                    .guard(async {
                        pipe.query_async(&mut connection.clone())
                            .await
                            .context("counting in Redis")
                    })
                    .await?;
                Ok(count)
            }
        }
    }

    /// In one round trip: one more event on each of `counters` (as [`Self::hit`] counts them),
    /// and `messages` published on `channel` (a whole channel name). Whether they were
    /// published: the in-process store has no channels, so its caller delivers them.
    pub async fn hit_and_publish(
        &self,
        counters: &[String],
        window: Duration,
        channel: &str,
        messages: &[String],
    ) -> anyhow::Result<bool> {
        match self {
            Self::Memory(_) => {
                for counter in counters {
                    self.hit(counter, window).await?;
                }
                Ok(false)
            }
            Self::Redis {
                connection,
                prefix,
                breaker,
            } => {
                let mut pipe = redis::pipe();
                for counter in counters {
                    counted(&mut pipe, &format!("{prefix}:{counter}"), window);
                }
                for message in messages {
                    pipe.cmd("PUBLISH").arg(channel).arg(message).ignore();
                }
                breaker
                    .guard(async {
                        // The counts are not needed.
                        pipe.query_async::<redis::Value>(&mut connection.clone())
                            .await
                            .context("counting and publishing in Redis")
                    })
                    .await?;
                Ok(true)
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
            Self::Redis {
                connection,
                prefix,
                breaker,
            } => {
                let mut connection = connection.clone();
                let call = connection.get(format!("{prefix}:{key}"));
                let count: Option<u64> = breaker
                    .guard(async { call.await.context("reading a counter from Redis") })
                    .await?;
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
            Self::Redis {
                connection,
                prefix,
                breaker,
            } => {
                let counter = format!("{prefix}:{counter}");
                let mut pipe = redis::pipe();
                pipe.cmd("MGET").arg(
                    keys.iter()
                        .map(|key| format!("{prefix}:{key}"))
                        .collect::<Vec<_>>(),
                );
                counted(&mut pipe, &counter, window);
                breaker
                    .guard(async {
                        pipe.query_async(&mut connection.clone())
                            .await
                            .context("reading and counting in Redis")
                    })
                    .await
            }
        }
    }

    /// The values under `keys` in one round trip (texts, or counters and flags as numbers).
    pub async fn read(&self, keys: &[String]) -> anyhow::Result<Vec<Option<String>>> {
        match self {
            Self::Memory(state) => Ok(lock(state).values(keys)),
            Self::Redis {
                connection,
                prefix,
                breaker,
            } => {
                breaker
                    .guard(async {
                        redis::cmd("MGET")
                            .arg(
                                keys.iter()
                                    .map(|key| format!("{prefix}:{key}"))
                                    .collect::<Vec<_>>(),
                            )
                            .query_async(&mut connection.clone())
                            .await
                            .context("reading from Redis")
                    })
                    .await
            }
        }
    }

    pub async fn get_text(&self, key: &str) -> anyhow::Result<Option<String>> {
        match self {
            Self::Memory(state) => Ok(lock(state)
                .texts
                .get(key)
                .filter(|(_, expires)| *expires > Instant::now())
                .map(|(text, _)| text.clone())),
            Self::Redis {
                connection,
                prefix,
                breaker,
            } => {
                let mut connection = connection.clone();
                let call = connection.get(format!("{prefix}:{key}"));
                breaker
                    .guard(async { call.await.context("reading from Redis") })
                    .await
            }
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
            Self::Redis {
                connection,
                prefix,
                breaker,
            } => {
                let mut connection = connection.clone();
                let call = connection.set_ex::<_, _, ()>(
                    format!("{prefix}:{key}"),
                    text,
                    ttl.as_secs().max(1),
                );
                breaker
                    .guard(async { call.await.context("writing to Redis") })
                    .await
            }
        }
    }

    /// For readiness: `None` when there is no external store to check. Pings even while
    /// calls skip Redis, and an answer ends the skipping at once.
    pub async fn ping(&self) -> Option<anyhow::Result<()>> {
        match self {
            Self::Memory(_) => None,
            Self::Redis {
                connection,
                breaker,
                ..
            } => {
                let result = redis::cmd("PING")
                    .query_async::<String>(&mut connection.clone())
                    .await
                    .map(drop)
                    .context("pinging Redis");
                breaker.record(&result);
                Some(result)
            }
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
    async fn after_a_failure_calls_skip_redis_until_one_probe_answers() {
        let breaker = Breaker::default();
        let failed: anyhow::Result<()> = breaker.guard(async { anyhow::bail!("down") }).await;
        assert!(failed.is_err());
        let mut ran = false;
        let skipped = breaker
            .guard(async {
                ran = true;
                Ok(())
            })
            .await;
        assert!(skipped.is_err() && !ran, "skipped while open");
        // Once the interval is over, one call probes; the others still skip meanwhile.
        tokio::time::sleep(Duration::from_millis(5)).await;
        breaker.open_until.store(1, Ordering::Release);
        assert!(breaker.admit(), "the probe");
        assert!(!breaker.admit(), "others wait for the probe");
        breaker.record(&Ok(()));
        assert!(breaker.admit() && breaker.admit(), "closed again");
    }

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

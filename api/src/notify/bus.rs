//! The notification bus: notifications fanned out to subscribers on every instance.
//!
//! With Redis, notifications are published to a Redis channel and every instance (this one
//! included) relays what it hears to its local subscribers; without Redis the relay is
//! in-process. Delivery is best effort: a notification missed while disconnected is not
//! replayed — the app reloads lists when it reconnects. A change's cache invalidations go
//! out with its notifications, in the same round trip to Redis.
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::broadcast;

use serde::{Deserialize, Serialize};

use super::notifications::Notification;
use crate::{
    error::causes,
    infra::{
        cache::{self, Stale},
        shared_store::SharedStore,
    },
};

/// What instances tell each other over the event bus.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Broadcast {
    /// For the people in its audience.
    Notification(Notification),
    /// Service categories changed: forget the remembered ones (`categories::Catalog`).
    CategoriesChanged,
}

/// Subscribers that fall this far behind skip ahead.
const BUFFER: usize = 1024;

#[derive(Clone)]
pub struct EventBus {
    /// This instance's live subscriptions.
    notifications: broadcast::Sender<Notification>,
    /// This instance's catalog of categories, apart: it would wake for every notification.
    categories_changed: broadcast::Sender<()>,
    /// Publishes, and keeps the caches' versions.
    store: SharedStore,
    redis: Option<RedisChannel>,
}

#[derive(Clone)]
struct RedisChannel {
    client: redis::Client,
    name: String,
}

impl EventBus {
    pub fn in_process(store: SharedStore) -> Self {
        Self {
            notifications: broadcast::channel(BUFFER).0,
            categories_changed: broadcast::channel(BUFFER).0,
            store,
            redis: None,
        }
    }

    /// Publishes through `store`'s Redis and starts relaying the channel to local subscribers.
    pub fn redis(store: SharedStore, url: &str, prefix: &str) -> anyhow::Result<Self> {
        let bus = Self {
            redis: Some(RedisChannel {
                client: redis::Client::open(url)?,
                name: format!("{prefix}:notifications"),
            }),
            ..Self::in_process(store)
        };
        tokio::spawn(bus.clone().relay());
        Ok(bus)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Notification> {
        self.notifications.subscribe()
    }

    /// Hears every change of the service categories, made through any instance.
    pub fn categories_changes(&self) -> broadcast::Receiver<()> {
        self.categories_changed.subscribe()
    }

    /// Makes every instance reload the `stale` namespaces on its next read, and tells every
    /// instance's subscribers `notifications`: one round trip to Redis. Never fails the caller:
    /// the change it reports is already committed.
    pub async fn announce(&self, stale: &[Stale], notifications: Vec<Broadcast>) {
        let versions: Vec<String> = stale.iter().map(Stale::version_key).collect();
        let (channel, payloads) = match &self.redis {
            Some(channel) => (
                channel.name.as_str(),
                notifications
                    .iter()
                    .filter_map(|notification| serde_json::to_string(notification).ok())
                    .collect(),
            ),
            None => ("", Vec::new()),
        };
        match self
            .store
            .hit_and_publish(&versions, cache::VERSION_TTL, channel, &payloads)
            .await
        {
            Ok(true) => {}
            Ok(false) => self.deliver_here(notifications),
            Err(error) => {
                tracing::warn!(error = %causes(error.as_ref()), ?stale, "cannot reach Redis: cached reads may be stale for a minute, and only this instance's subscribers hear of the change");
                self.deliver_here(notifications);
            }
        }
    }

    fn deliver_here(&self, notifications: Vec<Broadcast>) {
        for notification in notifications {
            self.deliver(notification);
        }
    }

    fn deliver(&self, broadcast: Broadcast) {
        // No receivers is fine: nobody is listening right now.
        match broadcast {
            Broadcast::Notification(notification) => {
                let _ = self.notifications.send(notification);
            }
            Broadcast::CategoriesChanged => {
                let _ = self.categories_changed.send(());
            }
        }
    }

    /// Relays the Redis channel to local subscribers, reconnecting when Redis comes back.
    async fn relay(self) {
        let Some(channel) = self.redis.clone() else {
            return;
        };
        // Told apart without decoding; a decoded message would say the same.
        let categories_changed =
            serde_json::to_string(&Broadcast::CategoriesChanged).unwrap_or_default();
        loop {
            let listened = async {
                let mut pubsub = channel.client.get_async_pubsub().await?;
                pubsub.subscribe(&channel.name).await?;
                let mut messages = pubsub.on_message();
                while let Some(message) = messages.next().await {
                    let payload: String = message.get_payload()?;
                    // Most messages are notifications: not worth reading while nobody here
                    // subscribes.
                    if self.notifications.receiver_count() == 0 && payload != categories_changed {
                        continue;
                    }
                    match serde_json::from_str::<Broadcast>(&payload) {
                        Ok(broadcast) => self.deliver(broadcast),
                        Err(error) => {
                            tracing::warn!(error = %causes(&error), "unreadable message on Redis")
                        }
                    }
                }
                anyhow::Ok(())
            }
            .await;
            if let Err(error) = listened {
                tracing::warn!(error = %causes(error.as_ref()), "lost the Redis notification channel; retrying");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

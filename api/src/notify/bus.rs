//! The notification bus: notifications fanned out to subscribers on every instance.
//!
//! With Redis, notifications are published to a Redis channel and every instance (this one
//! included) relays what it hears to its local subscribers; without Redis the relay is
//! in-process. Delivery is best effort: a notification missed while disconnected is not
//! replayed — the app reloads lists when it reconnects.
use std::time::Duration;

use futures::StreamExt;
use redis::aio::ConnectionManager;
use tokio::sync::broadcast;

use serde::{Deserialize, Serialize};

use super::notifications::Notification;
use crate::{error::causes, infra::shared_store::redis_connection};

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
    local: broadcast::Sender<Broadcast>,
    redis: Option<RedisChannel>,
}

#[derive(Clone)]
struct RedisChannel {
    client: redis::Client,
    publisher: ConnectionManager,
    name: String,
}

impl EventBus {
    pub fn in_process() -> Self {
        Self {
            local: broadcast::channel(BUFFER).0,
            redis: None,
        }
    }

    /// Publishes through Redis and starts relaying the channel to local subscribers.
    pub fn redis(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let publisher = redis_connection(url)?;
        let bus = Self {
            local: broadcast::channel(BUFFER).0,
            redis: Some(RedisChannel {
                client,
                publisher,
                name: format!("{prefix}:notifications"),
            }),
        };
        tokio::spawn(bus.clone().relay());
        Ok(bus)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Broadcast> {
        self.local.subscribe()
    }

    /// In one round trip to Redis. Never fails the caller: the change it reports is already
    /// committed.
    pub async fn publish_all(&self, notifications: Vec<Broadcast>) {
        let Some(channel) = &self.redis else {
            self.deliver_here(notifications);
            return;
        };
        let published = async {
            let mut pipe = redis::pipe();
            for notification in &notifications {
                pipe.cmd("PUBLISH")
                    .arg(&channel.name)
                    .arg(serde_json::to_string(notification)?)
                    .ignore();
            }
            pipe.query_async::<()>(&mut channel.publisher.clone())
                .await?;
            anyhow::Ok(())
        }
        .await;
        if let Err(error) = published {
            tracing::warn!(error = %causes(error.as_ref()), "cannot publish to Redis; delivering on this instance only");
            self.deliver_here(notifications);
        }
    }

    fn deliver_here(&self, notifications: Vec<Broadcast>) {
        for notification in notifications {
            // No receivers is fine: nobody is listening right now.
            let _ = self.local.send(notification);
        }
    }

    /// Relays the Redis channel to local subscribers, reconnecting when Redis comes back.
    async fn relay(self) {
        let Some(channel) = self.redis.clone() else {
            return;
        };
        loop {
            let listened = async {
                let mut pubsub = channel.client.get_async_pubsub().await?;
                pubsub.subscribe(&channel.name).await?;
                let mut messages = pubsub.on_message();
                while let Some(message) = messages.next().await {
                    let payload: String = message.get_payload()?;
                    match serde_json::from_str::<Broadcast>(&payload) {
                        Ok(notification) => {
                            let _ = self.local.send(notification);
                        }
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

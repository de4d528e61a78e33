//! Live notifications: domain events fanned out to subscribers on every instance.
//!
//! With Redis, events are published to a Redis channel and every instance (this one included)
//! relays what it hears to its local subscribers; without Redis the relay is in-process.
//! Delivery is best effort: a notification missed while disconnected is not replayed — the
//! app reloads lists when it reconnects.
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

use entity::order;
use redis::aio::ConnectionManager;

use crate::{identity::Roles, orders::workflow::Step, shared_store::redis_connection};

/// Subscribers that fall this far behind skip ahead.
const BUFFER: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotificationKind {
    NewOrder,
    OrderDispatchedToYou,
    NewOpenOrder,
    OrderAccepted,
    OrderCompleted,
    LowRating,
    RedemptionVerified,
    /// Any change to an order; `orderUpdated` subscribers hear these.
    OrderChanged,
}

/// Who hears a notification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audience {
    pub users: Vec<Uuid>,
    pub staff_of: Option<Uuid>,
    pub members_of: Option<Uuid>,
}

impl Audience {
    pub fn includes(&self, user_id: Uuid, roles: &Roles) -> bool {
        self.users.contains(&user_id)
            || self.staff_of.is_some_and(|c| roles.is_staff_of(c))
            || self.members_of.is_some_and(|c| roles.is_member_of(c))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub id: Uuid,
    pub kind: NotificationKind,
    pub order_id: Option<Uuid>,
    pub redemption_id: Option<Uuid>,
    pub message: String,
    pub at: DateTime<Utc>,
    pub audience: Audience,
}

impl Notification {
    pub fn new(kind: NotificationKind, message: impl Into<String>, audience: Audience) -> Self {
        Self {
            id: Uuid::now_v7(),
            kind,
            order_id: None,
            redemption_id: None,
            message: message.into(),
            at: Utc::now(),
            audience,
        }
    }
}

/// What an order's step tells whom. Every step also tells `orderUpdated` subscribers.
pub fn for_order(order: &order::Model, step: Option<Step>) -> Vec<Notification> {
    let about = |kind, message: &str, audience| Notification {
        order_id: Some(order.id),
        ..Notification::new(kind, format!("{message}: {}", order.title), audience)
    };
    let requester = Audience {
        users: vec![order.requester_id],
        ..Audience::default()
    };
    let mut notifications = vec![about(
        NotificationKind::OrderChanged,
        "order updated",
        Audience {
            users: [Some(order.requester_id), order.assignee_id, order.taker_id]
                .into_iter()
                .flatten()
                .collect(),
            staff_of: Some(order.community_id),
            members_of: None,
        },
    )];
    let specific = match step {
        None => Some(about(
            NotificationKind::NewOrder,
            "新的群众点单",
            Audience {
                staff_of: Some(order.community_id),
                ..Audience::default()
            },
        )),
        Some(Step::Dispatch) => order.assignee_id.map(|assignee| {
            about(
                NotificationKind::OrderDispatchedToYou,
                "社区派单给您",
                Audience {
                    users: vec![assignee],
                    ..Audience::default()
                },
            )
        }),
        Some(Step::Publish) => Some(about(
            NotificationKind::NewOpenOrder,
            "新的可接订单",
            Audience {
                members_of: Some(order.community_id),
                ..Audience::default()
            },
        )),
        Some(Step::Take) => Some(about(
            NotificationKind::OrderAccepted,
            "您的订单已被接单",
            requester,
        )),
        Some(Step::Complete) => Some(about(
            NotificationKind::OrderCompleted,
            "您的订单已完成，请评价",
            requester,
        )),
        Some(Step::Rate) if order.rating_stars.is_some_and(|stars| stars <= 2) => Some(about(
            NotificationKind::LowRating,
            "低分评价，请回访",
            Audience {
                staff_of: Some(order.community_id),
                ..Audience::default()
            },
        )),
        Some(_) => None,
    };
    notifications.extend(specific);
    notifications
}

#[derive(Clone)]
pub struct EventBus {
    local: broadcast::Sender<Notification>,
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

    pub fn subscribe(&self) -> broadcast::Receiver<Notification> {
        self.local.subscribe()
    }

    pub async fn publish(&self, notification: Notification) {
        self.publish_all(vec![notification]).await;
    }

    /// In one round trip to Redis. Never fails the caller: the change it reports is already
    /// committed.
    pub async fn publish_all(&self, notifications: Vec<Notification>) {
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
            tracing::warn!(%error, "cannot publish to Redis; delivering on this instance only");
            self.deliver_here(notifications);
        }
    }

    fn deliver_here(&self, notifications: Vec<Notification>) {
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
                    match serde_json::from_str::<Notification>(&payload) {
                        Ok(notification) => {
                            let _ = self.local.send(notification);
                        }
                        Err(error) => tracing::warn!(%error, "unreadable notification on Redis"),
                    }
                }
                anyhow::Ok(())
            }
            .await;
            if let Err(error) = listened {
                tracing::warn!(%error, "lost the Redis notification channel; retrying");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::enums::{OrderStatus, Urgency};

    fn order() -> order::Model {
        let now = Utc::now();
        order::Model {
            id: Uuid::now_v7(),
            community_id: Uuid::now_v7(),
            requester_id: Uuid::now_v7(),
            category_id: Uuid::now_v7(),
            title: "修水管".into(),
            description: String::new(),
            address: String::new(),
            contact_phone: String::new(),
            preferred_time: None,
            urgency: Urgency::Normal,
            status: OrderStatus::Accepted,
            assignee_id: None,
            taker_id: Some(Uuid::now_v7()),
            response_due_at: now,
            accepted_at: None,
            completed_at: None,
            completion_summary: None,
            minutes_spent: None,
            photo_urls: None,
            rating_stars: None,
            rating_comment: None,
            rated_at: None,
            cancel_reason: None,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn taking_an_order_tells_its_requester() {
        let order = order();
        let notifications = for_order(&order, Some(Step::Take));
        let accepted = notifications
            .iter()
            .find(|n| n.kind == NotificationKind::OrderAccepted)
            .expect("accepted");
        assert!(
            accepted
                .audience
                .includes(order.requester_id, &Roles::default())
        );
        assert!(
            !accepted
                .audience
                .includes(order.taker_id.expect("taker"), &Roles::default())
        );
        assert!(
            notifications
                .iter()
                .any(|n| n.kind == NotificationKind::OrderChanged)
        );
    }

    #[test]
    fn only_low_ratings_alert_staff() {
        let mut order = order();
        order.rating_stars = Some(5);
        assert!(
            !for_order(&order, Some(Step::Rate))
                .iter()
                .any(|n| n.kind == NotificationKind::LowRating)
        );
        order.rating_stars = Some(2);
        assert!(
            for_order(&order, Some(Step::Rate))
                .iter()
                .any(|n| n.kind == NotificationKind::LowRating)
        );
    }
}

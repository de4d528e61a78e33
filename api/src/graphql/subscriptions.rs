//! GraphQL subscriptions, served over WebSocket at /graphql/ws.
use async_graphql::{Context, Enum, ID, Result, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use tokio::sync::broadcast;

use super::{actor, orders::Order, parse_id, state, to_id};
use crate::{
    notify::notifications::{self, Notification},
    orders,
};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "notifications::NotificationKind")]
pub enum NotificationKind {
    NewOrder,
    OrderDispatchedToYou,
    NewOpenOrder,
    OrderAccepted,
    OrderCompleted,
    LowRating,
    RedemptionVerified,
    ApplicationReviewed,
    ActivityReminder,
    OrderChanged,
    OrderAlert,
    OrderEscalated,
    EscalationAnswered,
    WishUpdated,
    /// A result that concerns me is published (公示): a topic I was on the roll of, a
    /// red/black list that lists my company; I may object until the date the message gives.
    ResultPublished,
}

#[derive(SimpleObject)]
#[graphql(name = "Notification")]
pub struct NotificationItem {
    id: ID,
    kind: NotificationKind,
    order_id: Option<ID>,
    redemption_id: Option<ID>,
    message: String,
    at: DateTime<Utc>,
}

impl From<Notification> for NotificationItem {
    fn from(n: Notification) -> Self {
        Self {
            id: to_id(n.id),
            kind: n.kind.into(),
            order_id: n.order_id.map(to_id),
            redemption_id: n.redemption_id.map(to_id),
            message: n.message,
            at: n.at,
        }
    }
}

/// Notifications as they arrive; a subscriber that lags behind skips what it missed.
fn notifications(receiver: broadcast::Receiver<Notification>) -> impl Stream<Item = Notification> {
    futures::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(notification) => return Some((notification, receiver)),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

#[derive(Default)]
pub struct SubscriptionRoot;

#[Subscription]
impl SubscriptionRoot {
    /// Every change to an order you may see (requester, assignee, taker, STAFF).
    async fn order_updated(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
    ) -> Result<impl Stream<Item = Result<Order>>> {
        let actor = actor(ctx).await?.clone();
        let db = state(ctx)?.db.clone();
        let id = parse_id("orderId", &order_id)?;
        orders::get(&db, &actor, id).await?;
        let receiver = state(ctx)?.dispatcher.bus().subscribe();
        Ok(notifications(receiver)
            .filter(move |n| {
                std::future::ready(
                    n.kind == notifications::NotificationKind::OrderChanged
                        && n.order_id == Some(id),
                )
            })
            .then(move |_| {
                let (db, actor) = (db.clone(), actor.clone());
                async move { Ok(Order::from(orders::get(&db, &actor, id).await?)) }
            }))
    }

    /// What concerns me: orders dispatched to me, new OPEN orders in my communities (members),
    /// my orders accepted and completed, my redemptions verified, new orders and low ratings
    /// (STAFF).
    async fn my_notifications(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = NotificationItem>> {
        let actor = actor(ctx).await?.clone();
        let receiver = state(ctx)?.dispatcher.bus().subscribe();
        Ok(notifications(receiver)
            .filter(move |n| {
                std::future::ready(
                    n.kind != notifications::NotificationKind::OrderChanged
                        && n.audience.includes(actor.id, &actor.roles),
                )
            })
            .map(NotificationItem::from))
    }
}

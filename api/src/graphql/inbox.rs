//! The in-app inbox: what was meant for me, whether or not the app was open at the time.
use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject, connection::Connection};
use chrono::{DateTime, Utc};
use entity::{enums, inbox_message};

use super::{actor, connection, parse_id, state, subscriptions::NotificationKind, to_id};
use crate::{
    notify::{delivery, inbox},
    pagination::PageRequest,
};

/// Where a message stands in being sent to the phone outside the app.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::Delivery")]
pub enum Delivery {
    Pending,
    Sent,
    Skipped,
    Logged,
    Dead,
}

#[derive(SimpleObject)]
pub struct InboxMessage {
    id: ID,
    /// Null for a kind this server no longer sends.
    kind: Option<NotificationKind>,
    order_id: Option<ID>,
    redemption_id: Option<ID>,
    message: String,
    at: DateTime<Utc>,
    read_at: Option<DateTime<Utc>>,
    /// Sent as a WeChat subscription message (SENT), not (SKIPPED: no consent or template),
    /// still trying (PENDING), or given up (DEAD).
    delivery: Delivery,
    attempts: i32,
    last_error: Option<String>,
}

impl From<inbox_message::Model> for InboxMessage {
    fn from(message: inbox_message::Model) -> Self {
        Self {
            id: to_id(message.id),
            kind: inbox::kind_of(&message).map(Into::into),
            order_id: message.order_id.map(to_id),
            redemption_id: message.redemption_id.map(to_id),
            at: message.created_at,
            read_at: message.read_at,
            delivery: message.delivery.into(),
            attempts: message.attempts,
            last_error: message.last_error,
            message: message.message,
        }
    }
}

#[derive(Default)]
pub struct InboxQuery;

#[Object]
impl InboxQuery {
    /// My notifications, newest first; `me { unreadCount }` counts the unread ones.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn my_inbox(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] unread_only: bool,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, InboxMessage>> {
        let actor = actor(ctx).await?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let page = inbox::mine(&state(ctx)?.db, actor, unread_only, request).await?;
        Ok(connection(page, request, |m| m.id, InboxMessage::from))
    }

    /// ADMIN: messages that could not be sent after every attempt, newest first.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn dead_letters(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, InboxMessage>> {
        let actor = actor(ctx).await?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let page = delivery::dead_letters(&state(ctx)?.db, actor, request).await?;
        Ok(connection(page, request, |m| m.id, InboxMessage::from))
    }
}

#[derive(Default)]
pub struct InboxMutation;

#[Object]
impl InboxMutation {
    /// Marks these messages of mine read (at most 100); returns how many were unread.
    async fn mark_inbox_read(
        &self,
        ctx: &Context<'_>,
        #[graphql(validator(max_items = 100))] ids: Vec<ID>,
    ) -> Result<u64> {
        let actor = actor(ctx).await?;
        let ids = ids
            .iter()
            .map(|id| parse_id("ids", id))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(inbox::mark_read(&state(ctx)?.db, actor, ids).await?)
    }

    /// What the user accepted in `wx.requestSubscribeMessage`: each accepted key (a message
    /// kind such as ORDER_DISPATCHED_TO_YOU) allows one more message of that kind to their
    /// phone. Returns how many consents were counted.
    async fn record_subscribe_consent(
        &self,
        ctx: &Context<'_>,
        #[graphql(validator(max_items = 20))] template_keys: Vec<String>,
        accepted: bool,
    ) -> Result<u64> {
        let actor = actor(ctx).await?;
        Ok(delivery::record_consent(&state(ctx)?.db, actor, template_keys, accepted).await?)
    }
}

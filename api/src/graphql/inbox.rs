//! The in-app inbox: what was meant for me, whether or not the app was open at the time.
use async_graphql::{Context, ID, Object, Result, SimpleObject, connection::Connection};
use chrono::{DateTime, Utc};
use entity::inbox_message;

use super::{actor, connection, parse_id, state, subscriptions::NotificationKind, to_id};
use crate::{inbox, pagination::PageRequest};

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
}

#[derive(Default)]
pub struct InboxMutation;

#[Object]
impl InboxMutation {
    /// Marks these messages of mine read (at most 100); returns how many were unread.
    async fn mark_inbox_read(&self, ctx: &Context<'_>, ids: Vec<ID>) -> Result<u64> {
        let actor = actor(ctx).await?;
        let ids = ids
            .iter()
            .map(|id| parse_id("ids", id))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(inbox::mark_read(&state(ctx)?.db, actor, ids).await?)
    }
}

//! Flagged content: user text stored without content security's clearance, for STAFF.
use async_graphql::{Context, ID, Object, Result, SimpleObject, connection::Connection};
use chrono::{DateTime, Utc};
use entity::content_flag;

use super::{actor, connection, parse_id, state, to_id};
use crate::{content, pagination::PageRequest};

#[derive(SimpleObject)]
pub struct ContentFlag {
    id: ID,
    author_id: ID,
    /// Which input it was (title, description, name, …).
    field: String,
    /// Its first 200 characters.
    excerpt: String,
    /// UNCHECKED (WeChat was unreachable) or REVIEW (WeChat's verdict).
    reason: String,
    at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
}

impl From<content_flag::Model> for ContentFlag {
    fn from(flag: content_flag::Model) -> Self {
        Self {
            id: to_id(flag.id),
            author_id: to_id(flag.author_id),
            field: flag.field,
            excerpt: flag.excerpt,
            reason: flag.reason,
            at: flag.created_at,
            resolved_at: flag.resolved_at,
        }
    }
}

#[derive(Default)]
pub struct ContentQuery;

#[Object]
impl ContentQuery {
    /// STAFF: unresolved flags of their community's authors, newest first.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn content_flags(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, ContentFlag>> {
        let actor = actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let page = content::flags(&state(ctx)?.db, actor, community_id, request).await?;
        Ok(connection(page, request, |f| f.id, ContentFlag::from))
    }
}

#[derive(Default)]
pub struct ContentMutation;

#[Object]
impl ContentMutation {
    /// STAFF: mark a flag looked at (correct or remove the text where it lives).
    async fn resolve_content_flag(&self, ctx: &Context<'_>, id: ID) -> Result<ContentFlag> {
        let actor = actor(ctx).await?;
        let id = parse_id("id", &id)?;
        Ok(content::resolve(&state(ctx)?.db, actor, id).await?.into())
    }
}

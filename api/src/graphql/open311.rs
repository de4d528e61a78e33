//! Keys city hotlines file Open311 requests with (`/open311/v2`), for ADMIN.
use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::api_key;

use super::{actor, parse_id, state, to_id};
use crate::organisation::api_keys;

pub struct Open311Key(api_key::Model);

#[Object]
impl Open311Key {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Requests filed with it become HOTLINE orders of this community.
    async fn community_id(&self) -> ID {
        to_id(self.0.community_id)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

#[derive(SimpleObject)]
pub struct IssuedOpen311Key {
    /// Shown this once: only its hash is kept.
    api_key: String,
    key: Open311Key,
}

#[derive(Default)]
pub struct Open311Query;

#[Object]
impl Open311Query {
    /// ADMIN: the Open311 keys issued, newest first.
    #[graphql(complexity = "200 * child_complexity")]
    async fn open311_keys(&self, ctx: &Context<'_>) -> Result<Vec<Open311Key>> {
        let actor = actor(ctx).await?;
        let keys = api_keys::keys(&state(ctx)?.db, actor).await?;
        Ok(keys.into_iter().map(Open311Key).collect())
    }
}

#[derive(Default)]
pub struct Open311Mutation;

#[Object]
impl Open311Mutation {
    /// ADMIN: a key for a hotline to file requests into a community
    /// (`POST /open311/v2/requests.json` with `api_key`).
    async fn issue_open311_key(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        name: String,
    ) -> Result<IssuedOpen311Key> {
        let actor = actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        let (key, api_key) =
            api_keys::issue_key(&state(ctx)?.db, actor, community_id, &name).await?;
        Ok(IssuedOpen311Key {
            api_key,
            key: Open311Key(key),
        })
    }

    /// ADMIN: the key files nothing more.
    async fn revoke_open311_key(&self, ctx: &Context<'_>, id: ID) -> Result<Open311Key> {
        let actor = actor(ctx).await?;
        let id = parse_id("id", &id)?;
        Ok(Open311Key(
            api_keys::revoke_key(&state(ctx)?.db, actor, id).await?,
        ))
    }
}

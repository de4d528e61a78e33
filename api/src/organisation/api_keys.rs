//! Keys that ADMIN issue to a city hotline, with which it files service requests into one
//! community through Open311 (`http::open311`): shown once, only their hash is kept.
use chrono::Utc;
use entity::api_key;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    identity::{self, Actor},
    validate,
};

fn hash_key(key: &str) -> String {
    format!("{:x}", Sha256::digest(key.as_bytes()))
}

/// The unrevoked key a hotline sent; FORBIDDEN for any other.
pub async fn valid(db: &DatabaseConnection, key: &str) -> AppResult<api_key::Model> {
    api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(hash_key(key)))
        .filter(api_key::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| AppError::forbidden("api_key is not valid"))
}

/// ADMIN issue a key for a hotline filing requests into one community; the key is shown
/// once, only its hash is kept.
pub async fn issue_key(
    db: &DatabaseConnection,
    actor: &Actor,
    community_id: Uuid,
    name: &str,
) -> AppResult<(api_key::Model, String)> {
    if !actor.roles.is_admin() {
        return Err(AppError::forbidden("only ADMIN issue Open311 keys"));
    }
    super::open_community(db, community_id).await?;
    let name = validate::text("name", name, 1, 60)?;
    let (key, _) = identity::tokens::new_refresh_token();
    let issued = api_key::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        community_id: Set(community_id),
        key_hash: Set(hash_key(&key)),
        issued_by: Set(actor.id),
        created_at: Set(Utc::now()),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok((issued, key))
}

pub async fn revoke_key(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
) -> AppResult<api_key::Model> {
    if !actor.roles.is_admin() {
        return Err(AppError::forbidden("only ADMIN revoke Open311 keys"));
    }
    let key = api_key::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("api key"))?;
    let mut revoked: api_key::ActiveModel = key.into();
    revoked.revoked_at = Set(Some(Utc::now()));
    Ok(revoked.update(db).await?)
}

/// Keys ADMIN issued, newest first (hashes only).
pub async fn keys(db: &DatabaseConnection, actor: &Actor) -> AppResult<Vec<api_key::Model>> {
    if !actor.roles.is_admin() {
        return Err(AppError::forbidden("only ADMIN see Open311 keys"));
    }
    Ok(api_key::Entity::find()
        .order_by_desc(api_key::Column::Id)
        .limit(200)
        .all(db)
        .await?)
}

//! Badges community STAFF award merchants (诚信商户 and the like).
use std::collections::HashMap;

use chrono::Utc;
use entity::{enums::Badge, merchant, merchant_badge};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::get_as_community_staff;
use crate::{
    error::AppResult,
    identity::Actor,
    notify::{Committed, DomainEvent},
};

pub async fn award_badge(
    db: &DatabaseConnection,
    actor: &Actor,
    merchant_id: Uuid,
    badge: Badge,
) -> AppResult<Committed<merchant::Model>> {
    let merchant = get_as_community_staff(db, actor, merchant_id).await?;
    let changed = DomainEvent::MerchantChanged { merchant_id };
    if badges_of(db, merchant_id).await?.contains(&badge) {
        return Ok(Committed::new(merchant, changed));
    }
    merchant_badge::ActiveModel {
        id: Set(Uuid::now_v7()),
        merchant_id: Set(merchant_id),
        badge: Set(badge),
        awarded_by: Set(actor.id),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(Committed::new(merchant, changed))
}

pub async fn revoke_badge(
    db: &DatabaseConnection,
    actor: &Actor,
    merchant_id: Uuid,
    badge: Badge,
) -> AppResult<Committed<merchant::Model>> {
    let merchant = get_as_community_staff(db, actor, merchant_id).await?;
    merchant_badge::Entity::delete_many()
        .filter(merchant_badge::Column::MerchantId.eq(merchant_id))
        .filter(merchant_badge::Column::Badge.eq(badge))
        .exec(db)
        .await?;
    Ok(Committed::new(
        merchant,
        DomainEvent::MerchantChanged { merchant_id },
    ))
}

pub async fn badges_of(db: &impl ConnectionTrait, merchant_id: Uuid) -> AppResult<Vec<Badge>> {
    Ok(badges_of_merchants(db, &[merchant_id])
        .await?
        .remove(&merchant_id)
        .unwrap_or_default())
}

/// The badges of each of these merchants, in one query.
pub async fn badges_of_merchants(
    db: &impl ConnectionTrait,
    merchant_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<Badge>>> {
    let mut badges: HashMap<Uuid, Vec<Badge>> = HashMap::new();
    for row in merchant_badge::Entity::find()
        .filter(merchant_badge::Column::MerchantId.is_in(merchant_ids.iter().copied()))
        .order_by_asc(merchant_badge::Column::Id)
        .all(db)
        .await?
    {
        badges.entry(row.merchant_id).or_default().push(row.badge);
    }
    Ok(badges)
}

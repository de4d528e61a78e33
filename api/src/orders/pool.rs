//! The order pool: OPEN orders any approved Party member of the community may take.
use std::sync::Arc;

use entity::{enums::OrderStatus, order, user};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::queries::{OrderFilter, list};
use crate::{
    error::{AppError, AppResult},
    identity::Actor,
    infra::{cache::NearCache, shared_store::SharedStore},
    pagination::{Page, PageRequest},
};

/// A page of the order pool with the orders' requesters, as members see it.
pub struct PoolPage {
    pub orders: Page<order::Model>,
    pub requesters: Vec<user::Model>,
}

/// Every member's app polls the pool, so each instance keeps its first pages; any order step
/// or profile change anywhere shows on the next read (see `cache::NearCache`).
pub type PoolCache = NearCache<PoolPage>;

pub async fn order_pool(
    db: &DatabaseConnection,
    store: &SharedStore,
    cache: &PoolCache,
    actor: &Actor,
    page: PageRequest,
) -> AppResult<Arc<PoolPage>> {
    let mut communities = actor.roles.member_communities();
    if communities.is_empty() {
        return Err(AppError::forbidden(
            "the order pool is for approved Party members; register with a community first",
        ));
    }
    communities.sort();
    let load = || load_pool(db, communities.clone(), page);
    if page.after.is_some() {
        return Ok(Arc::new(load().await?));
    }
    let key = communities
        .iter()
        .fold(page.first.to_string(), |key, id| format!("{key}:{id}"));
    cache.get_or_load(store, key, load).await
}

async fn load_pool(
    db: &DatabaseConnection,
    communities: Vec<Uuid>,
    page: PageRequest,
) -> AppResult<PoolPage> {
    let scope = Condition::all()
        .add(order::Column::CommunityId.is_in(communities))
        .add(order::Column::Status.eq(OrderStatus::Open));
    let orders = list(db, scope, OrderFilter::default(), page).await?;
    let requesters = user::Entity::find()
        .filter(user::Column::Id.is_in(orders.items.iter().map(|order| order.requester_id)))
        .all(db)
        .await?;
    Ok(PoolPage { orders, requesters })
}

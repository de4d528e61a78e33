//! The order pool: OPEN orders any approved Party member of the community may take.
use std::sync::Arc;

use entity::{enums::OrderStatus, order};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::queries::{OrderPage, PageReads, load_page};

use crate::{
    error::{AppError, AppResult},
    identity::Actor,
    infra::{cache::NearCache, shared_store::SharedStore},
    pagination::PageRequest,
};

/// Every member's app polls the pool, so each instance keeps its first pages; an order step
/// shows on the next read of its community's pages, a profile change on every page's (see
/// `cache::NearCache`, `notify::DomainEvent::stale_read`).
pub type PoolCache = NearCache<OrderPage>;

pub async fn order_pool(
    db: &DatabaseConnection,
    store: &SharedStore,
    cache: &PoolCache,
    actor: &Actor,
    page: PageRequest,
    reads: PageReads,
) -> AppResult<Arc<OrderPage>> {
    let mut communities = actor.roles.member_communities();
    if communities.is_empty() {
        return Err(AppError::forbidden(
            "the order pool is for approved Party members; register with a community first",
        ));
    }
    communities.sort();
    let load = || load_pool(db, communities.clone(), page, reads);
    if page.after.is_some() {
        return Ok(Arc::new(load().await?));
    }
    // Each shape of page read is kept apart: a page of listed rows cannot serve one that
    // reads whole rows.
    let shape = format!("{:?}:{:?}:{}", reads.orders, reads.requesters, page.first);
    let key = communities
        .iter()
        .fold(shape, |key, id| format!("{key}:{id}"));
    cache.get_or_load(store, key, &communities, load).await
}

/// The page's OPEN orders of these communities, in one statement.
async fn load_pool(
    db: &DatabaseConnection,
    communities: Vec<Uuid>,
    page: PageRequest,
    reads: PageReads,
) -> AppResult<OrderPage> {
    let open = order::Entity::find()
        .filter(order::Column::CommunityId.is_in(communities))
        .filter(order::Column::Status.eq(OrderStatus::Open));
    load_page(db, open, page, reads).await
}

//! The order pool: OPEN orders any approved Party member of the community may take.
use std::sync::Arc;

use entity::{enums::OrderStatus, order, user};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, JoinType, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    identity::Actor,
    infra::{cache::NearCache, rows, shared_store::SharedStore},
    pagination::{Page, PageRequest, keyset},
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

/// The page's orders with their requesters, joined in the one statement.
async fn load_pool(
    db: &DatabaseConnection,
    communities: Vec<Uuid>,
    page: PageRequest,
) -> AppResult<PoolPage> {
    let open = order::Entity::find()
        .filter(order::Column::CommunityId.is_in(communities))
        .filter(order::Column::Status.eq(OrderStatus::Open));
    let requester = order::Entity::belongs_to(user::Entity)
        .from(order::Column::RequesterId)
        .to(user::Column::Id);
    let select = keyset(open, order::Column::Id, page)
        .select_also(user::Entity)
        .join(JoinType::InnerJoin, requester.into());
    let rows: Vec<(order::Model, user::Model)> = rows::all(db, select).await?;
    let fetched = Page::of_fetched(rows, page);
    let (items, requesters): (Vec<_>, Vec<_>) = fetched.items.into_iter().unzip();
    Ok(PoolPage {
        orders: Page {
            items,
            has_next_page: fetched.has_next_page,
        },
        requesters,
    })
}

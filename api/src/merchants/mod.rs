//! The merchant alliance (商圈服务联盟): merchants apply, community STAFF approve, suspend and
//! award badges; owners add cashiers; residents find merchants near them.
pub mod badges;
pub mod lifecycle;
pub mod listing;
pub mod offers;
pub mod redemptions;
pub mod staff;
pub mod statements;
pub mod storefront;

pub use badges::{award_badge, badges_of, badges_of_merchants, revoke_badge};
pub use lifecycle::{MerchantApplication, apply, approve, of_status, suspend};
pub use listing::{MerchantFilter, list};
pub use staff::{add_staff, mine, remove_staff};
pub use storefront::{counter_code, set_photos};

use std::collections::HashMap;

use entity::{enums::MerchantStatus, merchant, merchant_staff};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryTrait,
};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    identity::Actor,
    infra::rows,
};

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> AppResult<merchant::Model> {
    merchant::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("merchant"))
}

/// These merchants by id, in one query decoded by position (`infra::rows`): a page of 20
/// offers reads its merchants through here, and sea-orm's own decoding of them was a sixth of
/// such a request (bench/RESULTS.md).
pub async fn by_ids(
    db: &DatabaseConnection,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, merchant::Model>> {
    let statement = merchant::Entity::find()
        .filter(merchant::Column::Id.is_in(ids.iter().copied()))
        .build(db.get_database_backend());
    let rows: Vec<merchant::Model> = rows::all(db, statement).await?;
    Ok(rows.into_iter().map(|row| (row.id, row)).collect())
}

/// The caller's place at a merchant: `Some(true)` owner, `Some(false)` cashier.
pub async fn staff_role(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    merchant_id: Uuid,
) -> AppResult<Option<bool>> {
    Ok(merchant_staff::Entity::find()
        .filter(merchant_staff::Column::MerchantId.eq(merchant_id))
        .filter(merchant_staff::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .map(|staff| staff.is_owner))
}

/// The merchant, for STAFF of its community (approval, suspension, badges).
async fn get_as_community_staff(
    db: &impl ConnectionTrait,
    actor: &Actor,
    merchant_id: Uuid,
) -> AppResult<merchant::Model> {
    let merchant = get(db, merchant_id).await?;
    if actor.roles.is_staff_of(merchant.community_id) {
        Ok(merchant)
    } else {
        Err(AppError::forbidden(
            "only STAFF of the merchant's community may do this",
        ))
    }
}

/// ACTIVE merchants are public; others only to their own people and community STAFF.
pub async fn get_visible(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
) -> AppResult<merchant::Model> {
    visible(db, Some(actor), id)
        .await?
        .ok_or(AppError::NotFound("merchant"))
}

/// The merchant if `viewer` (anonymous when `None`) may see it, through any path to it.
pub async fn visible(
    db: &DatabaseConnection,
    viewer: Option<&Actor>,
    id: Uuid,
) -> AppResult<Option<merchant::Model>> {
    let merchant = get(db, id).await?;
    Ok(may_see(db, viewer, &merchant).await?.then_some(merchant))
}

/// ACTIVE merchants are public; others only to STAFF of their community and their own staff.
pub async fn may_see(
    db: &DatabaseConnection,
    viewer: Option<&Actor>,
    merchant: &merchant::Model,
) -> AppResult<bool> {
    Ok(merchant.status == MerchantStatus::Active
        || match viewer {
            Some(actor) => {
                actor.roles.is_staff_of(merchant.community_id)
                    || staff_role(db, actor.id, merchant.id).await?.is_some()
            }
            None => false,
        })
}

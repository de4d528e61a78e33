//! Who works for a merchant: the owner adds and removes cashiers, who verify redemptions.

use chrono::Utc;
use entity::{
    enums::{MerchantStatus, Role},
    merchant, merchant_staff,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, sea_query::Query,
};
use uuid::Uuid;

use super::{get, staff_role};
use crate::{
    error::{AppError, AppResult},
    identity::{
        self, Actor,
        roles::{delete_grant, insert_grant},
    },
    infra::db::begin_write,
    notify::{Committed, Events},
    validate,
};

pub(super) async fn add_staff_row(
    db: &impl ConnectionTrait,
    merchant_id: Uuid,
    user_id: Uuid,
    is_owner: bool,
) -> AppResult<()> {
    merchant_staff::ActiveModel {
        id: Set(Uuid::now_v7()),
        merchant_id: Set(merchant_id),
        user_id: Set(user_id),
        is_owner: Set(is_owner),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The owner adds a cashier account, who may then verify redemptions.
pub async fn add_staff(
    db: &DatabaseConnection,
    actor: &Actor,
    merchant_id: Uuid,
    openid: &str,
) -> AppResult<Committed<merchant::Model>> {
    let openid = validate::text("openid", openid, 1, 128)?;
    let txn = begin_write(db).await?;
    let merchant = get(&txn, merchant_id).await?;
    if staff_role(&txn, actor.id, merchant_id).await? != Some(true) {
        return Err(AppError::forbidden(
            "only the merchant's owner may add staff",
        ));
    }
    let user = identity::find_or_create_user(&txn, &openid).await?;
    if staff_role(&txn, user.id, merchant_id).await?.is_some() {
        return Err(AppError::conflict(
            "this person already works for the merchant",
        ));
    }
    add_staff_row(&txn, merchant_id, user.id, false).await?;
    let mut events = Events::default();
    if merchant.status == MerchantStatus::Active {
        insert_grant(
            &txn,
            &mut events,
            user.id,
            Role::Merchant,
            Some(merchant.community_id),
            Some(actor.id),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(events.committed(merchant))
}

/// The owner removes a cashier: they stop verifying at once, and lose the MERCHANT role in
/// the community unless they still work for another merchant there.
pub async fn remove_staff(
    db: &DatabaseConnection,
    actor: &Actor,
    merchant_id: Uuid,
    user_id: Uuid,
) -> AppResult<Committed<merchant::Model>> {
    let txn = begin_write(db).await?;
    let merchant = get(&txn, merchant_id).await?;
    if staff_role(&txn, actor.id, merchant_id).await? != Some(true) {
        return Err(AppError::forbidden(
            "only the merchant's owner may remove staff",
        ));
    }
    match staff_role(&txn, user_id, merchant_id).await? {
        None => return Err(AppError::NotFound("cashier")),
        Some(true) => {
            return Err(AppError::conflict(
                "the owner cannot be removed; hand the merchant over through community STAFF",
            ));
        }
        Some(false) => {}
    }
    merchant_staff::Entity::delete_many()
        .filter(merchant_staff::Column::MerchantId.eq(merchant_id))
        .filter(merchant_staff::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    let same_community = Query::select()
        .column(merchant::Column::Id)
        .from(merchant::Entity)
        .and_where(merchant::Column::CommunityId.eq(merchant.community_id))
        .to_owned();
    let still_works_here = merchant_staff::Entity::find()
        .filter(merchant_staff::Column::UserId.eq(user_id))
        .filter(merchant_staff::Column::MerchantId.in_subquery(same_community))
        .one(&txn)
        .await?
        .is_some();
    let mut events = Events::default();
    if !still_works_here {
        delete_grant(
            &txn,
            &mut events,
            user_id,
            Role::Merchant,
            Some(merchant.community_id),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(events.committed(merchant))
}

/// Merchants the caller owns or works for, in any status.
pub async fn mine(db: &DatabaseConnection, actor: &Actor) -> AppResult<Vec<merchant::Model>> {
    let ids = Query::select()
        .column(merchant_staff::Column::MerchantId)
        .from(merchant_staff::Entity)
        .and_where(merchant_staff::Column::UserId.eq(actor.id))
        .to_owned();
    Ok(merchant::Entity::find()
        .filter(merchant::Column::Id.in_subquery(ids))
        .order_by_desc(merchant::Column::Id)
        .all(db)
        .await?)
}

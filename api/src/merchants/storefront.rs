//! What a merchant shows: its storefront photos and the 小程序码 at its counter.

use entity::{enums::PhotoPurpose, merchant};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::{get, staff_role};
use crate::{
    codes::{CodeFor, MiniProgramCodes},
    content::photos::{self, Attachment, PhotoService},
    error::{AppError, AppResult},
    identity::Actor,
    infra::db::begin_write,
    notify::{Committed, DomainEvent, Events},
};

/// The 小程序码 at the merchant's counter (residents scan it to show their codes), for the
/// merchant's own people and their community's STAFF.
pub async fn counter_code(
    db: &DatabaseConnection,
    codes: &MiniProgramCodes,
    actor: &Actor,
    merchant_id: Uuid,
) -> AppResult<String> {
    let merchant = get(db, merchant_id).await?;
    if staff_role(db, actor.id, merchant.id).await?.is_none()
        && !actor.roles.is_staff_of(merchant.community_id)
    {
        return Err(AppError::forbidden(
            "only the merchant's staff may print its counter code",
        ));
    }
    codes.link(CodeFor::MerchantCounter(merchant.id)).await
}

/// The owner sets the storefront photos (at most 9): photos already shown and still listed
/// stay, new uploads are checked and attached, the rest are removed.
pub async fn set_photos(
    db: &DatabaseConnection,
    photo_service: &PhotoService,
    actor: &Actor,
    merchant_id: Uuid,
    keys: Vec<String>,
) -> AppResult<Committed<merchant::Model>> {
    photos::check_count(&keys)?;
    let merchant = get(db, merchant_id).await?;
    if staff_role(db, actor.id, merchant.id).await? != Some(true) {
        return Err(AppError::forbidden(
            "only the merchant's owner may change its photos",
        ));
    }
    let shown = photos::of_merchants(db, &[merchant.id])
        .await?
        .remove(&merchant.id)
        .unwrap_or_default();
    let added: Vec<String> = keys
        .iter()
        .filter(|k| !shown.iter().any(|photo| &photo.key == *k))
        .cloned()
        .collect();
    let removed: Vec<_> = shown
        .into_iter()
        .filter(|photo| !keys.contains(&photo.key))
        .collect();
    let checked = photo_service
        .check(db, actor, PhotoPurpose::MerchantPhoto, &added)
        .await?;
    let txn = begin_write(db).await?;
    photos::detach(&txn, &removed).await?;
    photos::attach(&txn, actor.id, Attachment::Merchant(merchant.id), checked).await?;
    let mut events = Events::default();
    events.push(DomainEvent::MerchantChanged {
        merchant_id: merchant.id,
    });
    let committed = events.commit(txn, merchant).await?;
    photo_service.delete_files(&removed).await;
    Ok(committed)
}

//! A merchant's life: a resident applies, community STAFF approve and suspend.

use chrono::Utc;
use entity::{
    enums::{MerchantKind, MerchantStatus, Role},
    merchant, merchant_staff,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use super::{get, get_as_community_staff, staff::add_staff_row};
use crate::values::geo::Point;
use crate::{
    content::{Cleared, ContentGuard, Scene},
    error::{AppError, AppResult},
    identity::{Actor, roles::insert_grant},
    infra::db::begin_write,
    notify::{Application, Committed, DomainEvent, Events},
    organisation,
    pagination::{Page, PageRequest, fetch_page},
    validate,
    values::Phone,
};

pub struct MerchantApplication {
    pub community_id: Uuid,
    pub kind: MerchantKind,
    pub name: String,
    pub description: String,
    pub category: String,
    pub address: String,
    pub location: Point,
    pub phone: String,
    pub opening_hours: String,
}

pub async fn apply(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    input: MerchantApplication,
) -> AppResult<merchant::Model> {
    organisation::get_community(db, input.community_id).await?;
    if input.kind == MerchantKind::CommunityStore && !actor.roles.is_staff_of(input.community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community may open its community store",
        ));
    }
    if !input.location.is_valid() {
        return Err(AppError::bad_input(
            "latitude must be within ±90 and longitude within ±180",
        ));
    }
    let name = validate::text("name", &input.name, 1, 60)?;
    let description = validate::text("description", &input.description, 0, 1000)?;
    let category = validate::text("category", &input.category, 1, 30)?;
    let address = validate::text("address", &input.address, 1, 200)?;
    let phone = Phone::parse("phone", &input.phone)?;
    let opening_hours = validate::text("openingHours", &input.opening_hours, 1, 100)?;
    let [name, description] = content
        .clear_all(
            db,
            actor,
            Scene::Forum,
            [("name", name), ("description", description)],
        )
        .await?;
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let merchant = merchant::ActiveModel {
        id: Set(Uuid::now_v7()),
        community_id: Set(input.community_id),
        owner_id: Set(actor.id),
        kind: Set(input.kind),
        name: Set(name.record(&txn).await?),
        description: Set(description.record(&txn).await?),
        category: Set(category),
        address: Set(address),
        latitude: Set(input.location.latitude),
        longitude: Set(input.location.longitude),
        phone: Set(phone.into()),
        opening_hours: Set(opening_hours),
        status: Set(MerchantStatus::Pending),
        status_reason: Set(None),
        reviewed_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    add_staff_row(&txn, merchant.id, actor.id, true).await?;
    txn.commit().await?;
    Ok(merchant)
}

/// Moves a merchant between statuses with a compare-and-set on the statuses it may leave.
async fn set_status(
    db: &DatabaseConnection,
    actor: &Actor,
    merchant_id: Uuid,
    from: &[MerchantStatus],
    to: MerchantStatus,
    reason: Option<Cleared>,
) -> AppResult<Committed<merchant::Model>> {
    let txn = begin_write(db).await?;
    let merchant = get_as_community_staff(&txn, actor, merchant_id).await?;
    let reason = Cleared::record_optional(reason, &txn).await?;
    let changed = merchant::Entity::update_many()
        .set(merchant::ActiveModel {
            status: Set(to),
            status_reason: Set(reason),
            reviewed_by: Set(Some(actor.id)),
            updated_at: Set(Utc::now()),
            ..Default::default()
        })
        .filter(merchant::Column::Id.eq(merchant_id))
        .filter(merchant::Column::Status.is_in(from.iter().copied()))
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(AppError::conflict(format!(
            "the merchant is already {}",
            format!("{:?}", merchant.status).to_uppercase()
        )));
    }
    let mut events = Events::default();
    events.push(DomainEvent::MerchantChanged { merchant_id });
    if to == MerchantStatus::Active {
        let people = merchant_staff::Entity::find()
            .filter(merchant_staff::Column::MerchantId.eq(merchant_id))
            .all(&txn)
            .await?;
        for person in people {
            insert_grant(
                &txn,
                &mut events,
                person.user_id,
                Role::Merchant,
                Some(merchant.community_id),
                Some(actor.id),
            )
            .await?;
        }
    }
    let merchant = get(&txn, merchant_id).await?;
    events.push(DomainEvent::ApplicationReviewed {
        applicant_id: merchant.owner_id,
        application: Application::Merchant,
        approved: to == MerchantStatus::Active,
    });
    events.commit(txn, merchant).await
}

/// STAFF: the community's merchants in `status` (PENDING: the applications to decide),
/// newest first. Residents only ever see ACTIVE ones, through `list`.
pub async fn of_status(
    db: &DatabaseConnection,
    actor: &Actor,
    community_id: Uuid,
    status: MerchantStatus,
    page: PageRequest,
) -> AppResult<Page<merchant::Model>> {
    if !actor.roles.is_staff_of(community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community review its merchants",
        ));
    }
    let select = merchant::Entity::find()
        .filter(merchant::Column::CommunityId.eq(community_id))
        .filter(merchant::Column::Status.eq(status));
    fetch_page(db, select, merchant::Column::Id, page).await
}

pub async fn approve(
    db: &DatabaseConnection,
    actor: &Actor,
    merchant_id: Uuid,
) -> AppResult<Committed<merchant::Model>> {
    set_status(
        db,
        actor,
        merchant_id,
        &[MerchantStatus::Pending, MerchantStatus::Suspended],
        MerchantStatus::Active,
        None,
    )
    .await
}

pub async fn suspend(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    merchant_id: Uuid,
    reason: String,
) -> AppResult<Committed<merchant::Model>> {
    let reason = validate::text("reason", &reason, 1, 500)?;
    // Only the merchant's STAFF get their text checked (and the check is paid for).
    get_as_community_staff(db, actor, merchant_id).await?;
    let reason = content
        .clear(db, actor, Scene::Comment, "reason", reason)
        .await?;
    set_status(
        db,
        actor,
        merchant_id,
        &[MerchantStatus::Pending, MerchantStatus::Active],
        MerchantStatus::Suspended,
        Some(reason),
    )
    .await
}

//! The merchant alliance (商圈服务联盟): merchants apply, community STAFF approve, suspend and
//! award badges; owners add cashiers; residents find merchants near them.
pub mod geo;
pub mod offers;
pub mod redemptions;
pub mod statements;

use std::collections::HashMap;

use chrono::Utc;
use entity::{
    enums::{Badge, MerchantKind, MerchantStatus, PhotoPurpose, Role},
    merchant, merchant_badge, merchant_staff,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait,
    sea_query::{Expr, ExprTrait, Query},
};
use uuid::Uuid;

use crate::{
    codes::{CodeFor, MiniProgramCodes},
    content::{Cleared, ContentGuard, Scene},
    error::{AppError, AppResult},
    identity::{
        self, Actor,
        roles::{delete_grant, insert_grant},
    },
    infra::{
        cache::{self, Namespace},
        db::begin_write,
        rows,
        shared_store::SharedStore,
    },
    notify::{Application, Committed, DomainEvent, Events},
    organisation,
    pagination::{Page, PageRequest, fetch_page},
    photos::{self, Attachment, PhotoService},
    validate,
    values::Phone,
};
use geo::Point;

/// Most merchants a "near me" search ranks; a neighbourhood has far fewer.
const MAX_NEARBY: u64 = 2_000;
const MAX_RADIUS_METERS: f64 = 50_000.0;

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

async fn add_staff_row(
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

#[derive(Debug, Default, Clone)]
pub struct MerchantFilter {
    pub community_id: Option<Uuid>,
    pub category: Option<String>,
    pub badge: Option<Badge>,
    pub near: Option<(Point, f64)>,
    pub search: Option<String>,
}

/// `LIKE` pattern matching `text` anywhere, with its wildcards taken literally.
fn contains_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// ACTIVE merchants matching the filter: newest first, or nearest first with `near`. Every
/// resident's app reads these, so pages are cached until a merchant changes.
pub async fn list(
    db: &DatabaseConnection,
    store: &SharedStore,
    filter: MerchantFilter,
    page: PageRequest,
) -> AppResult<Page<(merchant::Model, Option<f64>)>> {
    let key = (&filter, page);
    cache::read_through(store, Namespace::Merchants, &key, || {
        load_list(db, filter.clone(), page)
    })
    .await
}

async fn load_list(
    db: &DatabaseConnection,
    filter: MerchantFilter,
    page: PageRequest,
) -> AppResult<Page<(merchant::Model, Option<f64>)>> {
    let mut condition = Condition::all().add(merchant::Column::Status.eq(MerchantStatus::Active));
    if let Some(community) = filter.community_id {
        condition = condition.add(merchant::Column::CommunityId.eq(community));
    }
    if let Some(category) = validate::optional_text("category", filter.category.as_deref(), 30)? {
        condition = condition.add(merchant::Column::Category.eq(category));
    }
    if let Some(badge) = filter.badge {
        let with_badge = Query::select()
            .column(merchant_badge::Column::MerchantId)
            .from(merchant_badge::Entity)
            .and_where(merchant_badge::Column::Badge.eq(badge))
            .to_owned();
        condition = condition.add(merchant::Column::Id.in_subquery(with_badge));
    }
    if let Some(search) = validate::optional_text("search", filter.search.as_deref(), 50)? {
        let pattern = contains_pattern(&search);
        condition = condition.add(
            Condition::any()
                .add(
                    Expr::col(merchant::Column::Name)
                        .like(sea_orm::sea_query::LikeExpr::new(&pattern).escape('\\')),
                )
                .add(
                    Expr::col(merchant::Column::Description)
                        .like(sea_orm::sea_query::LikeExpr::new(&pattern).escape('\\')),
                ),
        );
    }
    let Some((center, radius)) = filter.near else {
        let select = merchant::Entity::find().filter(condition);
        return Ok(fetch_page(db, select, merchant::Column::Id, page)
            .await?
            .map(|m| (m, None)));
    };
    if !center.is_valid() || !(1.0..=MAX_RADIUS_METERS).contains(&radius) {
        return Err(AppError::bad_input(format!(
            "near needs a valid latitude/longitude and radiusMeters between 1 and {MAX_RADIUS_METERS}"
        )));
    }
    let ((lat_min, lat_max), (lon_min, lon_max)) = geo::bounding_box(center, radius);
    let candidates = merchant::Entity::find()
        .filter(condition)
        .filter(merchant::Column::Latitude.between(lat_min, lat_max))
        .filter(merchant::Column::Longitude.between(lon_min, lon_max))
        .limit(MAX_NEARBY)
        .all(db)
        .await?;
    let mut ranked: Vec<(merchant::Model, f64)> = candidates
        .into_iter()
        .map(|m| {
            let d = geo::distance_meters(
                center,
                Point {
                    latitude: m.latitude,
                    longitude: m.longitude,
                },
            );
            (m, d)
        })
        .filter(|(_, d)| *d <= radius)
        .collect();
    ranked.sort_by(|(a, da), (b, db)| da.total_cmp(db).then(a.id.cmp(&b.id)));
    // The cursor is the last merchant seen; the order is stable for the same search.
    let start = match page.after {
        Some(after) => ranked
            .iter()
            .position(|(m, _)| m.id == after)
            .map_or(ranked.len(), |i| i + 1),
        None => 0,
    };
    let rest: Vec<_> = ranked.into_iter().skip(start).collect();
    let has_next_page = rest.len() as u64 > page.first;
    Ok(Page {
        items: rest
            .into_iter()
            .take(page.first as usize)
            .map(|(m, d)| (m, Some(d)))
            .collect(),
        has_next_page,
    })
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn search_wildcards_are_literal() {
        assert_eq!(contains_pattern("50%_off"), "%50\\%\\_off%");
    }
}

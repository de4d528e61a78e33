//! What merchants give for points.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{enums::MerchantStatus, merchant, offer};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, EntityTrait, Order, QueryFilter, sea_query::Query,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{get as get_merchant, staff_role};
use crate::{
    content::{ContentGuard, Scene},
    error::{AppError, AppResult},
    identity::Actor,
    infra::{
        cache::{self, Namespace},
        db::{begin_write, first_per_parent},
        shared_store::SharedStore,
    },
    notify::{Committed, DomainEvent},
    pagination::{Page, PageRequest, fetch_page},
    points::ledger,
    validate,
};

/// Offer fields; on update, `None` leaves a field as it is (stock and the per-user limit are
/// cleared with `Some(None)`).
#[derive(Default)]
pub struct OfferInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub points_cost: Option<i64>,
    pub stock: Option<Option<i32>>,
    pub per_user_limit: Option<Option<i32>>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> AppResult<offer::Model> {
    offer::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("offer"))
}

async fn ensure_owner(
    db: &DatabaseConnection,
    actor: &Actor,
    merchant_id: Uuid,
) -> AppResult<merchant::Model> {
    let merchant = get_merchant(db, merchant_id).await?;
    if staff_role(db, actor.id, merchant_id).await? != Some(true) {
        return Err(AppError::forbidden(
            "only the merchant's owner may manage its offers",
        ));
    }
    Ok(merchant)
}

/// Validates `input`, clears its texts and stores it over `offer` (a new one when `insert`),
/// with the checks' flags, in one transaction.
async fn store(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    mut offer: offer::ActiveModel,
    input: OfferInput,
    insert: bool,
) -> AppResult<Committed<offer::Model>> {
    let [title, description] = apply_input(&mut offer, input)?;
    let given = [title.is_some(), description.is_some()];
    let texts = [
        ("title", title.unwrap_or_default()),
        ("description", description.unwrap_or_default()),
    ];
    let [title, description] = content.clear_all(db, actor, Scene::Forum, texts).await?;
    let txn = begin_write(db).await?;
    let (title, description) = (title.record(&txn).await?, description.record(&txn).await?);
    if given[0] {
        offer.title = Set(title);
    }
    if given[1] {
        offer.description = Set(description);
    }
    let offer = if insert {
        offer.insert(&txn).await?
    } else {
        offer.update(&txn).await?
    };
    txn.commit().await?;
    Ok(listed(offer))
}

/// Applies and validates `input` over `offer`; returns its texts (title, description),
/// validated, for `store` to clear.
fn apply_input(
    offer: &mut offer::ActiveModel,
    input: OfferInput,
) -> AppResult<[Option<String>; 2]> {
    let title = input
        .title
        .map(|title| validate::text("title", &title, 1, 100))
        .transpose()?;
    let description = input
        .description
        .map(|description| validate::text("description", &description, 0, 1000))
        .transpose()?;
    if let Some(cost) = input.points_cost {
        if !(1..=1_000_000).contains(&cost) {
            return Err(AppError::bad_input(
                "pointsCost must be between 1 and 1000000",
            ));
        }
        offer.points_cost = Set(cost);
    }
    if let Some(stock) = input.stock {
        if stock.is_some_and(|s| !(0..=1_000_000).contains(&s)) {
            return Err(AppError::bad_input(
                "stock must be between 0 and 1000000, or null for unlimited",
            ));
        }
        offer.stock = Set(stock);
    }
    if let Some(limit) = input.per_user_limit {
        if limit.is_some_and(|l| !(1..=1000).contains(&l)) {
            return Err(AppError::bad_input(
                "perUserLimit must be between 1 and 1000, or null",
            ));
        }
        offer.per_user_limit = Set(limit);
    }
    if let Some(from) = input.valid_from {
        offer.valid_from = Set(from);
    }
    if let Some(until) = input.valid_until {
        offer.valid_until = Set(until);
    }
    let window = (
        offer.valid_from.try_as_ref(),
        offer.valid_until.try_as_ref(),
    );
    if let (Some(from), Some(until)) = window
        && until <= from
    {
        return Err(AppError::bad_input("validUntil must be after validFrom"));
    }
    offer.updated_at = Set(Utc::now());
    Ok([title, description])
}

pub async fn create(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    merchant_id: Uuid,
    input: OfferInput,
) -> AppResult<Committed<offer::Model>> {
    let merchant = ensure_owner(db, actor, merchant_id).await?;
    if merchant.status != MerchantStatus::Active {
        return Err(AppError::conflict(
            "the merchant must be approved before it makes offers",
        ));
    }
    let (Some(_), Some(_), Some(_), Some(_)) = (
        &input.title,
        &input.points_cost,
        &input.valid_from,
        &input.valid_until,
    ) else {
        return Err(AppError::bad_input(
            "title, pointsCost, validFrom and validUntil are required",
        ));
    };
    let now = Utc::now();
    let offer = offer::ActiveModel {
        id: Set(Uuid::now_v7()),
        merchant_id: Set(merchant_id),
        description: Set(String::new()),
        stock: Set(None),
        per_user_limit: Set(None),
        active: Set(true),
        created_at: Set(now),
        ..Default::default()
    };
    store(db, content, actor, offer, input, true).await
}

pub async fn update(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    offer_id: Uuid,
    input: OfferInput,
) -> AppResult<Committed<offer::Model>> {
    let offer = get(db, offer_id).await?;
    ensure_owner(db, actor, offer.merchant_id).await?;
    store(db, content, actor, offer.into(), input, false).await
}

pub async fn deactivate(
    db: &DatabaseConnection,
    actor: &Actor,
    offer_id: Uuid,
) -> AppResult<Committed<offer::Model>> {
    let offer = get(db, offer_id).await?;
    ensure_owner(db, actor, offer.merchant_id).await?;
    let mut offer: offer::ActiveModel = offer.into();
    offer.active = Set(false);
    offer.updated_at = Set(Utc::now());
    Ok(listed(offer.update(db).await?))
}

/// Offers show in their merchant's listing.
fn listed(offer: offer::Model) -> Committed<offer::Model> {
    let merchant_id = offer.merchant_id;
    Committed::new(offer, DomainEvent::MerchantChanged { merchant_id })
}

/// Offers a resident can redeem now: active, in their window, in stock, at an ACTIVE merchant.
fn redeemable_now() -> Condition {
    let now = Utc::now();
    let active_merchants = Query::select()
        .column(merchant::Column::Id)
        .from(merchant::Entity)
        .and_where(merchant::Column::Status.eq(MerchantStatus::Active))
        .to_owned();
    Condition::all()
        .add(offer::Column::Active.eq(true))
        .add(offer::Column::ValidFrom.lte(now))
        .add(offer::Column::ValidUntil.gt(now))
        .add(
            Condition::any()
                .add(offer::Column::Stock.is_null())
                .add(offer::Column::Stock.gt(0)),
        )
        .add(offer::Column::MerchantId.in_subquery(active_merchants))
}

/// Most offers `of_merchant` lists: a merchant inside a list shows a bounded number.
pub const MAX_LISTED_PER_MERCHANT: u64 = 20;

/// The newest redeemable offers of each of these merchants, in one query.
pub async fn of_merchants(
    db: &DatabaseConnection,
    merchant_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<offer::Model>>> {
    Ok(first_per_parent::<offer::Entity>(
        db,
        redeemable_now(),
        offer::Column::MerchantId,
        merchant_ids,
        (offer::Column::Id, Order::Desc),
        MAX_LISTED_PER_MERCHANT,
    )
    .await?)
}

#[derive(Debug, Default, Clone, Copy)]
pub struct OfferFilter {
    pub community_id: Option<Uuid>,
    pub merchant_id: Option<Uuid>,
    /// Only offers the viewer can pay for with their balance.
    pub affordable: bool,
}

/// A page of offers with the merchants that make them, cached together so that a page read
/// from the cache runs no query.
#[derive(Debug, Serialize, Deserialize)]
pub struct OfferListing {
    pub offers: Page<offer::Model>,
    pub merchants: HashMap<Uuid, merchant::Model>,
}

/// Offers redeemable now, newest first; pages are cached until a merchant changes.
pub async fn list(
    db: &DatabaseConnection,
    store: &SharedStore,
    viewer: &Actor,
    filter: OfferFilter,
    page: PageRequest,
) -> AppResult<OfferListing> {
    let max_cost = if filter.affordable {
        Some(ledger::balance(db, viewer.id).await?)
    } else {
        None
    };
    let key = (filter.community_id, filter.merchant_id, max_cost, page);
    cache::read_through(store, Namespace::Merchants, &key, || {
        load_list(db, filter, max_cost, page)
    })
    .await
}

async fn load_list(
    db: &DatabaseConnection,
    filter: OfferFilter,
    max_cost: Option<i64>,
    page: PageRequest,
) -> AppResult<OfferListing> {
    let mut select = offer::Entity::find().filter(redeemable_now());
    if let Some(community) = filter.community_id {
        let in_community = Query::select()
            .column(merchant::Column::Id)
            .from(merchant::Entity)
            .and_where(merchant::Column::CommunityId.eq(community))
            .to_owned();
        select = select.filter(offer::Column::MerchantId.in_subquery(in_community));
    }
    if let Some(merchant_id) = filter.merchant_id {
        select = select.filter(offer::Column::MerchantId.eq(merchant_id));
    }
    if let Some(max_cost) = max_cost {
        select = select.filter(offer::Column::PointsCost.lte(max_cost));
    }
    let offers = fetch_page(db, select, offer::Column::Id, page).await?;
    let merchant_ids: Vec<Uuid> = offers.items.iter().map(|o| o.merchant_id).collect();
    let merchants = super::by_ids(db, &merchant_ids).await?;
    Ok(OfferListing { offers, merchants })
}

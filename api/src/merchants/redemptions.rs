//! Spending points on an offer and verifying the redemption at the counter (核销).
//!
//! Redeeming locks the resident's points account first (the SPEND posting), so a resident's
//! redemptions are serialised and the per-user limit is counted safely; stock is taken with a
//! compare-and-set. Verification is a compare-and-set from PENDING: exactly once.
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{
    enums::{EntryKind, MerchantStatus, RedemptionStatus},
    merchant, merchant_staff, offer, redemption,
};
use rand::Rng;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult,
    IntoActiveModel, PaginatorTrait, QueryFilter, QuerySelect, QueryTrait,
    sea_query::{Alias, Expr, ExprTrait, OnConflict, Query, SelectStatement, UpdateStatement},
};
use uuid::Uuid;

use super::{get as get_merchant, staff_role};
use crate::{
    error::{AppError, AppResult, causes},
    idempotency,
    identity::{Actor, tokens::TokenKeys},
    infra::db::{self, begin_write, select_prefixed, sum_i64},
    infra::shared_store::SharedStore,
    notify::{Committed, DomainEvent, Events},
    pagination::{Page, PageRequest, Span, export_page, fetch_page},
    points::ledger::{self, Posting},
    validate,
};

/// Failed verifications one cashier account may make per window before it must wait.
const MAX_FAILED_VERIFICATIONS: u64 = 10;
const FAILED_VERIFICATION_WINDOW: Duration = Duration::from_secs(15 * 60);

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> AppResult<redemption::Model> {
    redemption::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("redemption"))
}

async fn find_by_key(db: &impl ConnectionTrait, key: &str) -> AppResult<Option<redemption::Model>> {
    Ok(redemption::Entity::find()
        .filter(redemption::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?)
}

/// Ten digits: short enough to read aloud, and with 10¹⁰ possibilities and rate-limited
/// guessing, not worth guessing.
fn new_code() -> String {
    let mut rng = rand::rng();
    (0..10)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

pub async fn redeem(
    db: &DatabaseConnection,
    actor: &Actor,
    offer_id: Uuid,
    idempotency_key: &str,
    valid_for: chrono::Duration,
) -> AppResult<Committed<redemption::Model>> {
    let key = format!(
        "redeem:{}:{}",
        actor.id,
        validate::text("idempotencyKey", idempotency_key, 8, 100)?
    );
    // A retry's answer is the first redemption, which changes nothing more.
    idempotency::replay_or_run(
        Some(&key),
        |key| async move {
            let earlier = find_by_key(db, key).await?;
            Ok(earlier.map(|earlier| Events::default().committed(earlier)))
        },
        |committed| committed.value().offer_id,
        offer_id,
        redeem_once(db, actor, offer_id, &key, valid_for),
    )
    .await
}

async fn redeem_once(
    db: &DatabaseConnection,
    actor: &Actor,
    offer_id: Uuid,
    key: &str,
    valid_for: chrono::Duration,
) -> AppResult<Committed<redemption::Model>> {
    let now = db::now();
    // Read without a lock, as the transaction would: a change to the offer made meanwhile
    // applies from the next redemption on.
    let offer = available_offer(db, offer_id).await?;
    if now < offer.valid_from || now >= offer.valid_until {
        return Err(AppError::conflict(
            "this offer is outside its validity period",
        ));
    }
    let redemption_id = Uuid::now_v7();
    let spend = Posting {
        user_id: actor.id,
        kind: EntryKind::Spend,
        amount: -offer.points_cost,
        reference: Some(("redemption", redemption_id)),
        rate: None,
        reason: Some(offer.title.clone()),
        // Its key is made from the new redemption's id.
        idempotency_key: Some(format!("spend:{redemption_id}")),
        created_by: Some(actor.id),
    };
    let mut redemption = redemption::Model {
        id: redemption_id,
        offer_id: offer.id,
        merchant_id: offer.merchant_id,
        user_id: actor.id,
        points_cost: offer.points_cost,
        code: new_code(),
        status: RedemptionStatus::Pending,
        expires_at: now + valid_for,
        verified_at: None,
        verified_by: None,
        closed_at: None,
        idempotency_key: Some(key.to_owned()),
        created_at: now,
    };
    // A per-person limit counts the resident's redemptions after their balance is locked,
    // which one statement cannot do: those offers take the transaction.
    if offer.per_user_limit.is_none()
        && redeem_at_once(db, &offer, spend.clone(), &redemption, now).await?
    {
        return Ok(stock_changed(redemption));
    }
    let txn = begin_write(db).await?;
    ledger::post_once(&txn, spend).await?;
    if let Some(limit) = offer.per_user_limit {
        let held = redemption::Entity::find()
            .filter(redemption::Column::UserId.eq(actor.id))
            .filter(redemption::Column::OfferId.eq(offer.id))
            .filter(
                redemption::Column::Status
                    .is_in([RedemptionStatus::Pending, RedemptionStatus::Verified]),
            )
            .count(&txn)
            .await?;
        if held >= limit as u64 {
            return Err(AppError::conflict(format!(
                "you may redeem this offer at most {limit} times"
            )));
        }
    }
    if offer.stock.is_some() && txn.execute(&take_stock(offer.id)).await?.rows_affected() != 1 {
        return Err(AppError::conflict("this offer is sold out"));
    }
    // A code in use already (unique) is drawn again; the insert says so by writing nothing.
    while redemption::Entity::insert(redemption.clone().into_active_model())
        .on_conflict(
            OnConflict::column(redemption::Column::Code)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?
        == 0
    {
        redemption.code = new_code();
    }
    txn.commit().await?;
    Ok(stock_changed(redemption))
}

/// The offer, if it is active at an active merchant: both read in one statement.
async fn available_offer(db: &DatabaseConnection, offer_id: Uuid) -> AppResult<offer::Model> {
    let mut query = with_merchant(offer::Entity, offer::Column::MerchantId, "o_");
    query.and_where(Expr::col((offer::Entity, offer::Column::Id)).eq(offer_id));
    let row = db
        .query_one(&query)
        .await?
        .ok_or(AppError::NotFound("offer"))?;
    let offer = offer::Model::from_query_result(&row, "o_")?;
    let merchant = merchant::Model::from_query_result(&row, "m_")?;
    if !offer.active || merchant.status != MerchantStatus::Active {
        return Err(AppError::conflict("this offer is no longer available"));
    }
    Ok(offer)
}

/// The rows of `entity` (as `<prefix><column>`) each with its merchant's (as `m_<column>`).
fn with_merchant<E: EntityTrait>(
    entity: E,
    merchant_id: E::Column,
    prefix: &str,
) -> SelectStatement {
    let mut query = Query::select();
    select_prefixed(&mut query, entity, prefix);
    select_prefixed(&mut query, merchant::Entity, "m_");
    query.from(entity).inner_join(
        merchant::Entity,
        Expr::col((merchant::Entity, merchant::Column::Id)).equals((entity, merchant_id)),
    );
    query
}

/// One unit of the offer's stock, if any is left.
fn take_stock(offer_id: Uuid) -> UpdateStatement {
    offer::Entity::update_many()
        .col_expr(offer::Column::Stock, Expr::col(offer::Column::Stock).sub(1))
        .filter(offer::Column::Id.eq(offer_id))
        .filter(offer::Column::Stock.gt(0))
        .into_query()
}

/// On PostgreSQL, the redemption as one statement (`db::write_at_once`): the stock, the spend
/// with its ledger entry, and the redemption. Whether it was stored: not when there are too
/// few points or no stock left, nor when its code or key met another's (unique) meanwhile;
/// the transaction path then decides, draws another code, or answers like a retry.
async fn redeem_at_once(
    db: &DatabaseConnection,
    offer: &offer::Model,
    spend: Posting,
    redemption: &redemption::Model,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    if !db::writes_in_one_statement(db) {
        return Ok(false);
    }
    let mut guards: Vec<_> = offer
        .stock
        .map(|_| take_stock(offer.id))
        .into_iter()
        .collect();
    let (debit, entry, _) = ledger::post_at_once(spend, guards.len(), now);
    guards.push(debit);
    let filed = redemption::Entity::insert(redemption.clone().into_active_model()).into_query();
    Ok(db::write_at_once(db, vec![entry, filed], guards).await?)
}

/// The offer's stock, shown in its merchant's listing, moved.
fn stock_changed(redemption: redemption::Model) -> Committed<redemption::Model> {
    let merchant_id = redemption.merchant_id;
    Committed::new(redemption, DomainEvent::MerchantChanged { merchant_id })
}

/// Verifies a code (or the QR payload carrying it) for the cashier's merchant, once.
pub async fn verify(
    db: &DatabaseConnection,
    store: &SharedStore,
    keys: &TokenKeys,
    actor: &Actor,
    code_or_qr: &str,
) -> AppResult<Committed<redemption::Model>> {
    // Guessing is limited per cashier account; while the shared store is down it is not.
    let failures = format!("verify-failures:{}", actor.id);
    let failed = store.count(&failures).await.unwrap_or_else(|error| {
        tracing::warn!(error = %causes(error.as_ref()), "shared store unavailable; verification guesses not limited");
        0
    });
    if failed >= MAX_FAILED_VERIFICATIONS {
        return Err(AppError::RateLimited {
            message: "too many wrong codes; wait before trying again".into(),
            retry_after: Some(FAILED_VERIFICATION_WINDOW),
        });
    }
    match find_verifiable(db, keys, actor, code_or_qr.trim()).await {
        Ok((redemption, merchant)) => claim(db, actor, redemption, &merchant).await,
        Err(error) => {
            if let Err(store_error) = store.hit(&failures, FAILED_VERIFICATION_WINDOW).await {
                tracing::warn!(error = %store_error, "shared store unavailable; guess not counted");
            }
            Err(error)
        }
    }
}

/// The redemption a code names and its merchant, if this cashier may verify it: anything else
/// counts as a guess.
async fn find_verifiable(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    actor: &Actor,
    code_or_qr: &str,
) -> AppResult<(redemption::Model, merchant::Model)> {
    let code = if code_or_qr.contains('.') {
        keys.redemption_code(code_or_qr)?
    } else if code_or_qr.len() == 10 && code_or_qr.bytes().all(|b| b.is_ascii_digit()) {
        code_or_qr.to_owned()
    } else {
        return Err(AppError::bad_input("a redemption code has 10 digits"));
    };
    // Another merchant's code is answered like a code that does not exist, so that guessing
    // cannot tell which codes are live; so is any code once the MERCHANT role is revoked.
    let unknown = || AppError::NotFound("redemption code");
    let (redemption, merchant, on_staff) = with_merchant_and_staff(db, &code, actor.id)
        .await?
        .ok_or_else(unknown)?;
    if !(on_staff && actor.roles.is_merchant_in(merchant.community_id)) {
        return Err(unknown());
    }
    Ok((redemption, merchant))
}

/// The redemption with `code`, its merchant, and whether `user_id` is on that merchant's
/// staff: one statement.
async fn with_merchant_and_staff(
    db: &DatabaseConnection,
    code: &str,
    user_id: Uuid,
) -> AppResult<Option<(redemption::Model, merchant::Model, bool)>> {
    let staff = Query::select()
        .expr(Expr::val(1))
        .from(merchant_staff::Entity)
        .and_where(
            Expr::col((merchant_staff::Entity, merchant_staff::Column::MerchantId))
                .equals((merchant::Entity, merchant::Column::Id)),
        )
        .and_where(Expr::col((merchant_staff::Entity, merchant_staff::Column::UserId)).eq(user_id))
        .to_owned();
    let mut query = with_merchant(redemption::Entity, redemption::Column::MerchantId, "r_");
    query
        .expr_as(Expr::exists(staff), Alias::new("on_staff"))
        .and_where(Expr::col((redemption::Entity, redemption::Column::Code)).eq(code));
    let Some(row) = db.query_one(&query).await? else {
        return Ok(None);
    };
    Ok(Some((
        redemption::Model::from_query_result(&row, "r_")?,
        merchant::Model::from_query_result(&row, "m_")?,
        row.try_get("", "on_staff")?,
    )))
}

async fn claim(
    db: &DatabaseConnection,
    actor: &Actor,
    redemption: redemption::Model,
    merchant: &merchant::Model,
) -> AppResult<Committed<redemption::Model>> {
    if merchant.status != MerchantStatus::Active {
        return Err(AppError::conflict(
            "the merchant is suspended and cannot verify redemptions",
        ));
    }
    let now = db::now();
    let claim = redemption::Entity::update_many()
        .set(redemption::ActiveModel {
            status: Set(RedemptionStatus::Verified),
            verified_at: Set(Some(now)),
            verified_by: Set(Some(actor.id)),
            ..Default::default()
        })
        .filter(redemption::Column::Id.eq(redemption.id))
        .filter(redemption::Column::Status.eq(RedemptionStatus::Pending))
        .filter(redemption::Column::ExpiresAt.gt(now));
    let told = |current: &redemption::Model| {
        let mut events = Events::default();
        events.push(DomainEvent::RedemptionVerified(current.clone()));
        events
    };
    // Where the database can, the compare-and-set and the resident's inbox row are one
    // statement; the redemption is then what was read, with the three columns the claim sets.
    // When the claim finds it no longer PENDING, the transaction below says why.
    let current = redemption::Model {
        status: RedemptionStatus::Verified,
        verified_at: Some(now),
        verified_by: Some(actor.id),
        ..redemption.clone()
    };
    let guard = claim.clone().into_query();
    if let Some(committed) = told(&current)
        .commit_at_once(db, Vec::new(), vec![guard], current)
        .await?
    {
        return Ok(committed);
    }
    let txn = begin_write(db).await?;
    let claimed = claim.exec_with_returning(&txn).await?.pop();
    let Some(current) = claimed else {
        let current = get(&txn, redemption.id).await?;
        return Err(AppError::conflict(match current.status {
            RedemptionStatus::Verified => format!(
                "already verified at {}",
                current
                    .verified_at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_default()
            ),
            RedemptionStatus::Cancelled => "this redemption was cancelled".to_owned(),
            RedemptionStatus::Expired | RedemptionStatus::Pending => {
                "this redemption has expired".to_owned()
            }
        }));
    };
    told(&current).commit(txn, current).await
}

/// PENDING → CANCELLED or EXPIRED: the points come back (REFUND) and so does the stock.
/// `Ok(false)` when it was no longer PENDING.
async fn close(
    txn: &impl ConnectionTrait,
    redemption: &redemption::Model,
    to: RedemptionStatus,
) -> AppResult<bool> {
    let closed = redemption::Entity::update_many()
        .set(redemption::ActiveModel {
            status: Set(to),
            closed_at: Set(Some(Utc::now())),
            ..Default::default()
        })
        .filter(redemption::Column::Id.eq(redemption.id))
        .filter(redemption::Column::Status.eq(RedemptionStatus::Pending))
        .exec(txn)
        .await?;
    if closed.rows_affected != 1 {
        return Ok(false);
    }
    ledger::post(
        txn,
        Posting {
            user_id: redemption.user_id,
            kind: EntryKind::Refund,
            amount: redemption.points_cost,
            reference: Some(("redemption", redemption.id)),
            rate: None,
            reason: None,
            idempotency_key: Some(format!("refund:{}", redemption.id)),
            created_by: None,
        },
    )
    .await?;
    offer::Entity::update_many()
        .col_expr(offer::Column::Stock, Expr::col(offer::Column::Stock).add(1))
        .filter(offer::Column::Id.eq(redemption.offer_id))
        .filter(offer::Column::Stock.is_not_null())
        .exec(txn)
        .await?;
    Ok(true)
}

pub async fn cancel(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
) -> AppResult<Committed<redemption::Model>> {
    let txn = begin_write(db).await?;
    let redemption = get(&txn, id).await?;
    if redemption.user_id != actor.id {
        return Err(AppError::forbidden(
            "only the resident who redeemed may cancel",
        ));
    }
    if !close(&txn, &redemption, RedemptionStatus::Cancelled).await? {
        return Err(AppError::conflict(
            "only a PENDING redemption can be cancelled",
        ));
    }
    let redemption = get(&txn, id).await?;
    txn.commit().await?;
    Ok(stock_changed(redemption))
}

/// Expires PENDING redemptions past their time, refunding them. Safe to run on every
/// instance at once: each close is a compare-and-set. Returns how many it expired.
pub async fn expire_due(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> AppResult<Committed<usize>> {
    let due = redemption::Entity::find()
        .filter(redemption::Column::Status.eq(RedemptionStatus::Pending))
        .filter(redemption::Column::ExpiresAt.lte(now))
        .limit(500)
        .all(db)
        .await?;
    let mut expired = 0;
    let mut events = Events::default();
    for redemption in due {
        let txn = begin_write(db).await?;
        if close(&txn, &redemption, RedemptionStatus::Expired).await? {
            expired += 1;
            events.push(DomainEvent::MerchantChanged {
                merchant_id: redemption.merchant_id,
            });
        }
        txn.commit().await?;
    }
    Ok(events.committed(expired))
}

pub async fn mine(
    db: &DatabaseConnection,
    actor: &Actor,
    page: PageRequest,
) -> AppResult<Page<redemption::Model>> {
    let select = redemption::Entity::find().filter(redemption::Column::UserId.eq(actor.id));
    fetch_page(db, select, redemption::Column::Id, page).await
}

#[derive(Debug, Clone, Copy, Default)]
pub struct RedemptionFilter {
    pub status: Option<RedemptionStatus>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

pub struct Settlement {
    pub verified_count: i64,
    pub verified_points: i64,
}

async fn ensure_merchant_view(
    db: &DatabaseConnection,
    actor: &Actor,
    merchant_id: Uuid,
) -> AppResult<()> {
    let merchant = get_merchant(db, merchant_id).await?;
    if actor.roles.is_staff_of(merchant.community_id)
        || staff_role(db, actor.id, merchant_id).await?.is_some()
    {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only the merchant's people or community STAFF may see its redemptions",
        ))
    }
}

/// A merchant's redemptions created in `[from, to)`, newest first.
pub async fn of_merchant(
    db: &DatabaseConnection,
    actor: &Actor,
    merchant_id: Uuid,
    filter: RedemptionFilter,
    page: PageRequest,
) -> AppResult<Page<redemption::Model>> {
    ensure_merchant_view(db, actor, merchant_id).await?;
    let mut select =
        redemption::Entity::find().filter(redemption::Column::MerchantId.eq(merchant_id));
    if let Some(status) = filter.status {
        select = select.filter(redemption::Column::Status.eq(status));
    }
    if let Some(from) = filter.from {
        select = select.filter(redemption::Column::CreatedAt.gte(from));
    }
    if let Some(to) = filter.to {
        select = select.filter(redemption::Column::CreatedAt.lt(to));
    }
    fetch_page(db, select, redemption::Column::Id, page).await
}

/// What the merchant is owed for: redemptions verified in `[from, to)`.
pub async fn settlement(
    db: &DatabaseConnection,
    actor: &Actor,
    merchant_id: Uuid,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> AppResult<Settlement> {
    ensure_merchant_view(db, actor, merchant_id).await?;
    let mut select = redemption::Entity::find()
        .select_only()
        .column_as(Expr::col(redemption::Column::Id).count(), "count")
        .column_as(sum_i64(redemption::Column::PointsCost), "points")
        .filter(redemption::Column::MerchantId.eq(merchant_id))
        .filter(redemption::Column::Status.eq(RedemptionStatus::Verified));
    if let Some(from) = from {
        select = select.filter(redemption::Column::VerifiedAt.gte(from));
    }
    if let Some(to) = to {
        select = select.filter(redemption::Column::VerifiedAt.lt(to));
    }
    let (count, points): (i64, Option<i64>) =
        select.into_tuple().one(db).await?.unwrap_or((0, None));
    Ok(Settlement {
        verified_count: count,
        verified_points: points.unwrap_or(0),
    })
}

/// A page of the redemptions made in `span` at its communities' merchants (an export), with
/// those merchants and the titles of the offers redeemed.
pub struct Exported {
    pub redemptions: Vec<redemption::Model>,
    pub merchants: std::collections::HashMap<Uuid, merchant::Model>,
    pub offers: std::collections::HashMap<Uuid, String>,
}

pub async fn exported(
    db: &DatabaseConnection,
    span: &Span,
    after: Option<Uuid>,
) -> AppResult<Exported> {
    let merchants: std::collections::HashMap<Uuid, merchant::Model> = merchant::Entity::find()
        .filter(merchant::Column::CommunityId.is_in(span.communities.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let select = redemption::Entity::find()
        .filter(redemption::Column::MerchantId.is_in(merchants.keys().copied()))
        .filter(redemption::Column::CreatedAt.gte(span.from))
        .filter(redemption::Column::CreatedAt.lt(span.to));
    let redemptions = export_page(db, select, redemption::Column::Id, after).await?;
    let offers = offer::Entity::find()
        .select_only()
        .column(offer::Column::Id)
        .column(offer::Column::Title)
        .filter(offer::Column::Id.is_in(redemptions.iter().map(|r| r.offer_id)))
        .into_tuple::<(Uuid, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(Exported {
        redemptions,
        merchants,
        offers,
    })
}

//! Service records: verified volunteer time, and the EARN entries they turn into.
use chrono::Utc;
use entity::{
    activity,
    enums::{EntryKind, RecordStatus, ServiceSource},
    order, points_entry, service_record,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter,
};
use uuid::Uuid;

use super::{
    ledger::{self, Posting},
    rules,
};
use crate::{
    content::{Cleared, ContentGuard, Scene},
    error::{AppError, AppResult},
    identity::Actor,
    infra::db::begin_write,
    organisation,
    pagination::{Page, PageRequest, Span, export_page, fetch_page},
    validate,
};

/// Longest a single record may credit: one day.
pub const MAX_RECORD_MINUTES: i32 = 24 * 60;
/// Ratings at or above this confirm an order's time without review.
const AUTO_CONFIRM_STARS: i32 = 3;

pub struct NewRecord {
    pub user_id: Uuid,
    pub community_id: Uuid,
    pub source: ServiceSource,
    pub order_id: Option<Uuid>,
    pub activity_id: Option<Uuid>,
    pub wish_id: Option<Uuid>,
    pub minutes: i32,
}

/// Points per hour for a record: the activity's override, else the community's rate.
async fn rate_for(
    db: &impl ConnectionTrait,
    community_id: Uuid,
    activity_id: Option<Uuid>,
) -> AppResult<i32> {
    if let Some(activity_id) = activity_id
        && let Some(rate) = activity::Entity::find_by_id(activity_id)
            .one(db)
            .await?
            .and_then(|activity| activity.points_per_hour_override)
    {
        return Ok(rate);
    }
    Ok(organisation::get_community(db, community_id)
        .await?
        .points_per_hour)
}

/// Inserts a record, confirmed (and credited) at once when `confirmed_by` is given
/// (`Some(None)`: confirmed by a rule rather than a person).
pub async fn create(
    txn: &impl ConnectionTrait,
    new: NewRecord,
    confirmed_by: Option<Option<Uuid>>,
) -> AppResult<service_record::Model> {
    let now = Utc::now();
    let record = service_record::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(new.user_id),
        community_id: Set(new.community_id),
        source: Set(new.source),
        order_id: Set(new.order_id),
        activity_id: Set(new.activity_id),
        wish_id: Set(new.wish_id),
        minutes: Set(new.minutes),
        status: Set(RecordStatus::Pending),
        rate: Set(None),
        points: Set(None),
        reviewed_by: Set(None),
        review_reason: Set(None),
        confirmed_at: Set(None),
        created_at: Set(now),
    }
    .insert(txn)
    .await?;
    match confirmed_by {
        Some(reviewer) => confirm(txn, record, new.minutes, reviewer, None).await,
        None => Ok(record),
    }
}

/// PENDING → CONFIRMED at the rate in force now, and the EARN entry, in the caller's transaction.
async fn confirm(
    txn: &impl ConnectionTrait,
    record: service_record::Model,
    minutes: i32,
    reviewer: Option<Uuid>,
    reason: Option<String>,
) -> AppResult<service_record::Model> {
    let rate = rate_for(txn, record.community_id, record.activity_id).await?;
    let points = rules::points_for(minutes, rate);
    let confirmed = decide(
        txn,
        &record,
        RecordStatus::Confirmed,
        minutes,
        Some((rate, points)),
        reviewer,
        reason,
    )
    .await?;
    if points > 0 {
        ledger::post(
            txn,
            Posting {
                user_id: record.user_id,
                kind: EntryKind::Earn,
                amount: points,
                reference: Some(("service_record", record.id)),
                rate: Some(rate),
                reason: None,
                // One EARN per record, however often confirmation is attempted.
                idempotency_key: Some(format!("earn:{}", record.id)),
                created_by: reviewer,
            },
        )
        .await?;
    }
    release_hold(txn, &record).await?;
    Ok(confirmed)
}

/// Reopening an order holds what its record credited: the record goes back to PENDING and a
/// HOLD entry takes its points back, as far as the balance allows (it never goes negative).
/// Confirming the record again (the order rated again, or STAFF) releases the hold; the EARN
/// itself is posted once per record.
pub async fn hold_for_order(txn: &impl ConnectionTrait, order: &order::Model) -> AppResult<()> {
    let Some(record) = record_of_order(txn, order.id).await? else {
        return Ok(());
    };
    if record.status != RecordStatus::Confirmed {
        return Ok(());
    }
    let held = record
        .points
        .unwrap_or(0)
        .min(ledger::balance(txn, record.user_id).await?);
    if held > 0 {
        ledger::post(
            txn,
            Posting {
                user_id: record.user_id,
                kind: EntryKind::Hold,
                amount: -held,
                reference: Some(("service_record", record.id)),
                rate: None,
                reason: Some("the resident reopened the order".into()),
                idempotency_key: Some(format!("hold:{}:{}", record.id, order.version)),
                created_by: None,
            },
        )
        .await?;
    }
    let mut record: service_record::ActiveModel = record.into();
    record.status = Set(RecordStatus::Pending);
    record.confirmed_at = Set(None);
    record.reviewed_by = Set(None);
    record.update(txn).await?;
    Ok(())
}

/// Gives back what HOLD entries took from the record and no RELEASE returned yet.
async fn release_hold(txn: &impl ConnectionTrait, record: &service_record::Model) -> AppResult<()> {
    let movements = points_entry::Entity::find()
        .filter(points_entry::Column::ReferenceId.eq(record.id))
        .filter(points_entry::Column::Kind.is_in([EntryKind::Hold, EntryKind::Release]))
        .all(txn)
        .await?;
    let held = -movements.iter().map(|entry| entry.amount).sum::<i64>();
    if held > 0 {
        ledger::post(
            txn,
            Posting {
                user_id: record.user_id,
                kind: EntryKind::Release,
                amount: held,
                reference: Some(("service_record", record.id)),
                rate: None,
                reason: Some("the reopened order was settled again".into()),
                idempotency_key: Some(format!("release:{}:{}", record.id, movements.len())),
                created_by: None,
            },
        )
        .await?;
    }
    Ok(())
}

async fn record_of_order(
    txn: &impl ConnectionTrait,
    order_id: Uuid,
) -> AppResult<Option<service_record::Model>> {
    Ok(service_record::Entity::find()
        .filter(service_record::Column::OrderId.eq(order_id))
        .one(txn)
        .await?)
}

/// Compare-and-set from PENDING, so two reviewers cannot both decide.
async fn decide(
    txn: &impl ConnectionTrait,
    record: &service_record::Model,
    status: RecordStatus,
    minutes: i32,
    rate_and_points: Option<(i32, i64)>,
    reviewer: Option<Uuid>,
    reason: Option<String>,
) -> AppResult<service_record::Model> {
    let now = Utc::now();
    let decided = service_record::Entity::update_many()
        .set(service_record::ActiveModel {
            status: Set(status),
            minutes: Set(minutes),
            rate: Set(rate_and_points.map(|(rate, _)| rate)),
            points: Set(rate_and_points.map(|(_, points)| points)),
            reviewed_by: Set(reviewer),
            review_reason: Set(reason),
            confirmed_at: Set((status == RecordStatus::Confirmed).then_some(now)),
            ..Default::default()
        })
        .filter(service_record::Column::Id.eq(record.id))
        .filter(service_record::Column::Status.eq(RecordStatus::Pending))
        .exec(txn)
        .await?;
    if decided.rows_affected != 1 {
        return Err(AppError::conflict(
            "this service record was already reviewed",
        ));
    }
    find(txn, record.id).await
}

/// A rated order credits its taker's time, capped: confirmed at once for a good rating,
/// left PENDING for STAFF review after a poor one.
pub async fn record_order_service(
    txn: &impl ConnectionTrait,
    order: &order::Model,
    stars: i32,
    cap_minutes: i32,
) -> AppResult<()> {
    let (Some(taker), Some(minutes)) = (order.taker_id, order.minutes_spent) else {
        return Ok(());
    };
    let minutes = minutes.min(cap_minutes);
    if minutes <= 0 {
        return Ok(());
    }
    // Rated again after a reopen: the same record, confirmed now if the rating allows.
    if let Some(record) = record_of_order(txn, order.id).await? {
        if record.status == RecordStatus::Pending && stars >= AUTO_CONFIRM_STARS {
            confirm(txn, record, minutes, None, None).await?;
        }
        return Ok(());
    }
    let new = NewRecord {
        user_id: taker,
        community_id: order.community_id,
        source: ServiceSource::Order,
        order_id: Some(order.id),
        activity_id: None,
        wish_id: None,
        minutes,
    };
    let confirmed_by = (stars >= AUTO_CONFIRM_STARS).then_some(None);
    create(txn, new, confirmed_by).await?;
    Ok(())
}

pub async fn review(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    record_id: Uuid,
    approve: bool,
    minutes: Option<i32>,
    reason: Option<String>,
) -> AppResult<service_record::Model> {
    let reason = validate::optional_text("reason", reason.as_deref(), 500)?;
    if !approve && reason.is_none() {
        return Err(AppError::bad_input(
            "a reason is required to reject a record",
        ));
    }
    if let Some(minutes) = minutes
        && !(1..=MAX_RECORD_MINUTES).contains(&minutes)
    {
        return Err(AppError::bad_input(format!(
            "minutes must be between 1 and {MAX_RECORD_MINUTES}"
        )));
    }
    let record = find(db, record_id).await?;
    if !actor.roles.is_staff_of(record.community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community may review its records",
        ));
    }
    if record.user_id == actor.id {
        return Err(AppError::forbidden(
            "you cannot review your own service record: another STAFF member must",
        ));
    }
    let reason = content
        .clear_optional(db, actor, Scene::Comment, "reason", reason)
        .await?;
    // Read again in the transaction: the status may have moved while the text was checked.
    let txn = begin_write(db).await?;
    let record = find(&txn, record_id).await?;
    let reason = Cleared::record_optional(reason, &txn).await?;
    let minutes = minutes.unwrap_or(record.minutes);
    let reviewed = if approve {
        confirm(&txn, record, minutes, Some(actor.id), reason).await?
    } else {
        decide(
            &txn,
            &record,
            RecordStatus::Rejected,
            minutes,
            None,
            Some(actor.id),
            reason,
        )
        .await?
    };
    txn.commit().await?;
    Ok(reviewed)
}

async fn find(db: &impl ConnectionTrait, record_id: Uuid) -> AppResult<service_record::Model> {
    service_record::Entity::find_by_id(record_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("service record"))
}

pub async fn mine(
    db: &DatabaseConnection,
    user_id: Uuid,
    page: PageRequest,
) -> AppResult<Page<service_record::Model>> {
    let select = service_record::Entity::find().filter(service_record::Column::UserId.eq(user_id));
    fetch_page(db, select, service_record::Column::Id, page).await
}

pub async fn pending(
    db: &DatabaseConnection,
    actor: &Actor,
    community_id: Uuid,
    page: PageRequest,
) -> AppResult<Page<service_record::Model>> {
    if !actor.roles.is_staff_of(community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community may see its pending records",
        ));
    }
    let select = service_record::Entity::find()
        .filter(service_record::Column::CommunityId.eq(community_id))
        .filter(service_record::Column::Status.eq(RecordStatus::Pending));
    fetch_page(db, select, service_record::Column::Id, page).await
}

/// A page of the service records made in `span` (an export).
pub async fn exported(
    db: &DatabaseConnection,
    span: &Span,
    after: Option<Uuid>,
) -> AppResult<Vec<service_record::Model>> {
    let select = service_record::Entity::find()
        .filter(service_record::Column::CommunityId.is_in(span.communities.iter().copied()))
        .filter(service_record::Column::CreatedAt.gte(span.from))
        .filter(service_record::Column::CreatedAt.lt(span.to));
    export_page(db, select, service_record::Column::Id, after).await
}

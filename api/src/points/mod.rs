//! Volunteer time → points (以时长认定积分): service records from rated orders and attended
//! activities, each community's rate, and the append-only ledger the balances derive from.
pub mod activities;
pub mod adjustments;
pub mod assessment;
pub mod attendance;
pub mod certificate_pdf;
pub mod certificates;
pub mod deeds;
pub mod expiry;
pub mod gifts;
pub mod ledger;
pub mod notices;
pub mod objections;
pub mod policy;
pub mod records;
pub mod rules;

use entity::{
    community,
    enums::{EntryKind, RecordStatus},
    points_entry, service_record,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use crate::{
    content::{ContentGuard, Scene},
    error::{AppError, AppResult},
    idempotency,
    identity::Actor,
    infra::db::{begin_write, sum_i64},
    notify::{Committed, DomainEvent},
    organisation,
    pagination::{Page, PageRequest, fetch_page},
    validate,
};
use ledger::Posting;

pub async fn set_rate(
    db: &DatabaseConnection,
    actor: &Actor,
    community_id: Uuid,
    points_per_hour: i32,
) -> AppResult<Committed<community::Model>> {
    if !actor.roles.is_staff_of(community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community may set its points rate",
        ));
    }
    if !(1..=1000).contains(&points_per_hour) {
        return Err(AppError::bad_input(
            "pointsPerHour must be between 1 and 1000",
        ));
    }
    let community = organisation::get_community(db, community_id).await?;
    let mut community: community::ActiveModel = community.into();
    community.points_per_hour = Set(points_per_hour);
    Ok(Committed::new(
        community.update(db).await?,
        DomainEvent::CommunityChanged { community_id },
    ))
}

/// What a keyed posting moves: whose points, how many, and with whom (the entry it
/// references). A key sent again must ask for the same.
#[derive(PartialEq)]
struct Moved {
    user_id: Uuid,
    amount: i64,
    counterpart: Option<Uuid>,
}

impl Moved {
    fn of(entry: &points_entry::Model) -> Self {
        Self {
            user_id: entry.user_id,
            amount: entry.amount,
            counterpart: entry.reference_id,
        }
    }
}

/// `post` once per key; see `idempotency::replay_or_run`.
async fn replay_or_post(
    db: &DatabaseConnection,
    key: Option<&str>,
    moved: Moved,
    post: impl Future<Output = AppResult<points_entry::Model>>,
) -> AppResult<points_entry::Model> {
    idempotency::replay_or_run(
        key,
        |key| ledger::find_by_key(db, key),
        Moved::of,
        moved,
        post,
    )
    .await
}

/// `replay_or_post` for a caller that read the entry under `key` (`earlier`) with its other reads.
async fn replay_or_post_after(
    db: &DatabaseConnection,
    key: Option<&str>,
    earlier: Option<points_entry::Model>,
    moved: Moved,
    post: impl Future<Output = AppResult<points_entry::Model>>,
) -> AppResult<points_entry::Model> {
    idempotency::replay_or_run_after(
        key,
        earlier,
        |key| ledger::find_by_key(db, key),
        Moved::of,
        moved,
        post,
    )
    .await
}

/// Client keys are namespaced by who sent them, so two callers cannot collide.
fn client_key(actor: &Actor, purpose: &str, key: Option<String>) -> AppResult<Option<String>> {
    key.map(|key| {
        let key = validate::text("idempotencyKey", &key, 8, 100)?;
        Ok(format!("{purpose}:{}:{key}", actor.id))
    })
    .transpose()
}

/// Undoes a mistaken EARN with a REVERSAL entry. An entry is reversed at most once: reversing
/// it again returns the first reversal and moves nothing.
pub async fn reverse(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    entry_id: Uuid,
    reason: String,
) -> AppResult<points_entry::Model> {
    let reason = validate::text("reason", &reason, 1, 500)?;
    let original = points_entry::Entity::find_by_id(entry_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("points entry"))?;
    adjustments::may_manage_points_of(db, actor, original.user_id).await?;
    if original.kind != EntryKind::Earn {
        return Err(AppError::bad_input("only EARN entries can be reversed"));
    }
    let reason = content
        .clear(db, actor, Scene::Comment, "reason", reason)
        .await?;
    let moved = Moved {
        user_id: original.user_id,
        amount: -original.amount,
        counterpart: Some(original.id),
    };
    let key = reversal_key(&original);
    replay_or_post(db, Some(&key), moved, async {
        let txn = begin_write(db).await?;
        let reason = reason.record(&txn).await?;
        let entry = reverse_in(&txn, actor, &original, reason).await?;
        txn.commit().await?;
        Ok(entry)
    })
    .await
}

/// An entry is reversed at most once; asking again (a retry) returns that reversal.
fn reversal_key(original: &points_entry::Model) -> String {
    format!("reversal:{}", original.id)
}

/// Reverses an EARN entry in the caller's transaction (see `reverse`).
pub(crate) async fn reverse_in(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    original: &points_entry::Model,
    reason: String,
) -> AppResult<points_entry::Model> {
    ledger::post(
        txn,
        Posting {
            user_id: original.user_id,
            kind: EntryKind::Reversal,
            amount: -original.amount,
            reference: Some(("points_entry", original.id)),
            rate: None,
            reason: Some(reason),
            idempotency_key: Some(reversal_key(original)),
            created_by: Some(actor.id),
        },
    )
    .await
}

pub struct PointsSummary {
    pub balance: i64,
    pub lifetime_earned: i64,
    pub lifetime_spent: i64,
    pub confirmed_minutes: i64,
}

async fn sum_of_kinds(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    kinds: &[EntryKind],
) -> AppResult<i64> {
    let sum: Option<Option<i64>> = points_entry::Entity::find()
        .select_only()
        .column_as(sum_i64(points_entry::Column::Amount), "total")
        .filter(points_entry::Column::UserId.eq(user_id))
        .filter(points_entry::Column::Kind.is_in(kinds.iter().copied()))
        .into_tuple()
        .one(db)
        .await?;
    Ok(sum.flatten().unwrap_or(0))
}

pub async fn summary(db: &DatabaseConnection, user_id: Uuid) -> AppResult<PointsSummary> {
    let confirmed: Option<Option<i64>> = service_record::Entity::find()
        .select_only()
        .column_as(sum_i64(service_record::Column::Minutes), "total")
        .filter(service_record::Column::UserId.eq(user_id))
        .filter(service_record::Column::Status.eq(RecordStatus::Confirmed))
        .into_tuple()
        .one(db)
        .await?;
    Ok(PointsSummary {
        balance: ledger::balance(db, user_id).await?,
        lifetime_earned: sum_of_kinds(
            db,
            user_id,
            &[
                EntryKind::Earn,
                EntryKind::Reversal,
                EntryKind::Hold,
                EntryKind::Release,
            ],
        )
        .await?,
        lifetime_spent: -sum_of_kinds(db, user_id, &[EntryKind::Spend, EntryKind::Refund]).await?,
        confirmed_minutes: confirmed.flatten().unwrap_or(0),
    })
}

pub async fn entries(
    db: &DatabaseConnection,
    user_id: Uuid,
    page: PageRequest,
) -> AppResult<Page<points_entry::Model>> {
    let select = points_entry::Entity::find().filter(points_entry::Column::UserId.eq(user_id));
    fetch_page(db, select, points_entry::Column::Id, page).await
}

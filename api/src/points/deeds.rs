//! Residents' own good deeds (积分制): a resident reports one; the grid worker of their grid
//! (or STAFF, where no worker looks after it) checks it happened; STAFF confirm it with the
//! base points of its kind from the community's table, posted as an EARN through the ledger
//! exactly once, or reject it with a reason the resident sees. Nobody checks or confirms
//! their own deed. Deductions for rule breaches are `adjustPoints` with a negative amount and
//! a reason (the ledger never goes below zero).
use chrono::{DateTime, Utc};
use entity::{
    deed_kind,
    enums::{DeedStatus, EntryKind},
    good_deed,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, sea_query::OnConflict,
};
use uuid::Uuid;

use super::ledger::{self, Posting};
use crate::{
    content::{Cleared, ContentGuard, Scene},
    error::{AppError, AppResult},
    identity::{self, Actor},
    infra::db::begin_write,
    organisation,
    pagination::{Page, PageRequest, fetch_page},
    validate,
};

/// Most points one kind of deed may be worth.
const MAX_BASE_POINTS: i64 = 1_000;

fn staff_only(actor: &Actor, community_id: Uuid) -> AppResult<()> {
    if actor.roles.is_staff_of(community_id) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only STAFF of the community may do this",
        ))
    }
}

/// The community's deed kinds, by name (retired ones too, for STAFF).
pub async fn kinds(
    db: &impl ConnectionTrait,
    community_id: Uuid,
) -> AppResult<Vec<deed_kind::Model>> {
    Ok(deed_kind::Entity::find()
        .filter(deed_kind::Column::CommunityId.eq(community_id))
        .order_by_asc(deed_kind::Column::Name)
        .all(db)
        .await?)
}

/// STAFF add a kind of deed or change its points; `active: false` retires it.
pub async fn set_kind(
    db: &DatabaseConnection,
    actor: &Actor,
    community_id: Uuid,
    name: &str,
    base_points: i64,
    active: bool,
) -> AppResult<Vec<deed_kind::Model>> {
    staff_only(actor, community_id)?;
    organisation::open_community(db, community_id).await?;
    let name = validate::text("name", name, 1, 30)?;
    if !(1..=MAX_BASE_POINTS).contains(&base_points) {
        return Err(AppError::bad_input(format!(
            "basePoints must be between 1 and {MAX_BASE_POINTS}"
        )));
    }
    deed_kind::Entity::insert(deed_kind::ActiveModel {
        id: Set(Uuid::now_v7()),
        community_id: Set(community_id),
        name: Set(name),
        base_points: Set(base_points),
        active: Set(active),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([deed_kind::Column::CommunityId, deed_kind::Column::Name])
            .update_columns([deed_kind::Column::BasePoints, deed_kind::Column::Active])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    kinds(db, community_id).await
}

pub struct DeedReport {
    pub kind_id: Uuid,
    pub description: String,
    pub happened_at: DateTime<Utc>,
}

pub async fn report(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    report: DeedReport,
) -> AppResult<good_deed::Model> {
    let description = validate::text("description", &report.description, 1, 1000)?;
    let now = Utc::now();
    if report.happened_at > now || now - report.happened_at > chrono::Duration::days(30) {
        return Err(AppError::bad_input(
            "`when` must be within the last 30 days",
        ));
    }
    let resident = identity::get_user(db, actor.id).await?;
    // A kind of another community is none of yours: the same answer as none at all.
    let kind = deed_kind::Entity::find_by_id(report.kind_id)
        .one(db)
        .await?
        .filter(|kind| resident.community_id == Some(kind.community_id))
        .ok_or(AppError::NotFound("deed kind of your community"))?;
    let community_id = kind.community_id;
    if !kind.active {
        return Err(AppError::bad_input(
            "this kind of deed is no longer rewarded; choose another",
        ));
    }
    let description = content
        .clear(db, actor, Scene::Forum, "description", description)
        .await?;
    let txn = begin_write(db).await?;
    let deed = good_deed::ActiveModel {
        id: Set(Uuid::now_v7()),
        community_id: Set(community_id),
        grid_id: Set(resident.grid_id),
        resident_id: Set(actor.id),
        kind_id: Set(kind.id),
        description: Set(description.record(&txn).await?),
        happened_at: Set(report.happened_at),
        status: Set(DeedStatus::PendingCheck),
        checked_by: Set(None),
        checked_at: Set(None),
        check_note: Set(None),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        reason: Set(None),
        points: Set(None),
        version: Set(0),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(deed)
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> AppResult<good_deed::Model> {
    good_deed::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("good deed"))
}

/// Whether `actor` checks deeds of `deed`'s resident: their grid's worker, or STAFF of the
/// community.
async fn may_check(
    db: &impl ConnectionTrait,
    actor: &Actor,
    deed: &good_deed::Model,
) -> AppResult<bool> {
    if actor.roles.is_staff_of(deed.community_id) {
        return Ok(true);
    }
    Ok(match deed.grid_id {
        Some(grid) => organisation::get_grid(db, grid).await?.worker_id == Some(actor.id),
        None => false,
    })
}

pub async fn can_view(
    db: &impl ConnectionTrait,
    actor: &Actor,
    deed: &good_deed::Model,
) -> AppResult<bool> {
    Ok(deed.resident_id == actor.id || may_check(db, actor, deed).await?)
}

/// A step: `decide` checks it against the deed read in the transaction and says what
/// changes; written guarded by the version read, so a deed is checked and confirmed once.
async fn step(
    db: &DatabaseConnection,
    deed_id: Uuid,
    decide: impl FnOnce(&good_deed::Model) -> AppResult<good_deed::ActiveModel>,
) -> AppResult<(DatabaseTransaction, good_deed::Model)> {
    let txn = begin_write(db).await?;
    let current = get(&txn, deed_id).await?;
    let mut update = decide(&current)?;
    update.version = Set(current.version + 1);
    let updated = good_deed::Entity::update_many()
        .set(update)
        .filter(good_deed::Column::Id.eq(deed_id))
        .filter(good_deed::Column::Version.eq(current.version))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(AppError::conflict(
            "someone else decided on this deed a moment ago; reload",
        ));
    }
    let deed = get(&txn, deed_id).await?;
    Ok((txn, deed))
}

fn in_state(deed: &good_deed::Model, wanted: DeedStatus, doing: &str) -> AppResult<()> {
    if deed.status == wanted {
        Ok(())
    } else {
        Err(AppError::conflict(format!(
            "cannot {doing} this deed: it was already decided on"
        )))
    }
}

/// The grid worker (or STAFF) says it happened, or not (with a note the resident sees).
pub async fn check(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    deed_id: Uuid,
    happened: bool,
    note: Option<String>,
) -> AppResult<good_deed::Model> {
    let note = validate::optional_text("note", note.as_deref(), 500)?;
    if !happened && note.is_none() {
        return Err(AppError::bad_input("a note is required to reject a deed"));
    }
    // Who may check a resident's deeds does not change with its state: asked before.
    let deed = get(db, deed_id).await?;
    if !may_check(db, actor, &deed).await? {
        return Err(AppError::forbidden(
            "only the resident's grid worker, or STAFF of the community, may check it",
        ));
    }
    if deed.resident_id == actor.id {
        return Err(AppError::forbidden("someone else must check your own deed"));
    }
    let note = content
        .clear_optional(db, actor, Scene::Comment, "note", note)
        .await?;
    let written = note.as_ref().map(|note| note.text().to_owned());
    let (txn, deed) = step(db, deed_id, |deed| {
        in_state(deed, DeedStatus::PendingCheck, "check")?;
        Ok(good_deed::ActiveModel {
            status: Set(if happened {
                DeedStatus::PendingReview
            } else {
                DeedStatus::Rejected
            }),
            checked_by: Set(Some(actor.id)),
            checked_at: Set(Some(Utc::now())),
            reason: Set(if happened { None } else { written.clone() }),
            check_note: Set(written),
            ..Default::default()
        })
    })
    .await?;
    Cleared::record_optional(note, &txn).await?;
    txn.commit().await?;
    Ok(deed)
}

/// STAFF confirm a checked deed with its kind's base points (one EARN, however often this is
/// tried), or reject it with a reason.
pub async fn review(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    deed_id: Uuid,
    approve: bool,
    reason: Option<String>,
) -> AppResult<good_deed::Model> {
    let reason = validate::optional_text("reason", reason.as_deref(), 500)?;
    if !approve && reason.is_none() {
        return Err(AppError::bad_input("a reason is required to reject a deed"));
    }
    let deed = get(db, deed_id).await?;
    staff_only(actor, deed.community_id)?;
    if deed.resident_id == actor.id {
        return Err(AppError::forbidden(
            "you cannot confirm your own deed: another STAFF member must",
        ));
    }
    let kind = deed_kind::Entity::find_by_id(deed.kind_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("deed kind"))?;
    let reason = content
        .clear_optional(db, actor, Scene::Comment, "reason", reason)
        .await?;
    let (txn, deed) = step(db, deed_id, |deed| {
        in_state(deed, DeedStatus::PendingReview, "review")?;
        Ok(good_deed::ActiveModel {
            status: Set(if approve {
                DeedStatus::Confirmed
            } else {
                DeedStatus::Rejected
            }),
            reviewed_by: Set(Some(actor.id)),
            reviewed_at: Set(Some(Utc::now())),
            reason: Set(reason.as_ref().map(|reason| reason.text().to_owned())),
            points: Set(approve.then_some(kind.base_points)),
            ..Default::default()
        })
    })
    .await?;
    Cleared::record_optional(reason, &txn).await?;
    if let Some(points) = deed.points {
        ledger::post(
            &txn,
            Posting {
                user_id: deed.resident_id,
                kind: EntryKind::Earn,
                amount: points,
                reference: Some(("good_deed", deed.id)),
                rate: None,
                reason: None,
                idempotency_key: Some(format!("deed:{}", deed.id)),
                created_by: Some(actor.id),
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(deed)
}

/// Deeds waiting for `actor`: in the grids they look after (PENDING_CHECK), or in their
/// community (`status` as STAFF ask), newest first.
pub async fn queue(
    db: &DatabaseConnection,
    actor: &Actor,
    community_id: Uuid,
    status: DeedStatus,
    page: PageRequest,
) -> AppResult<Page<good_deed::Model>> {
    let mut select = good_deed::Entity::find()
        .filter(good_deed::Column::CommunityId.eq(community_id))
        .filter(good_deed::Column::Status.eq(status));
    if !actor.roles.is_staff_of(community_id) {
        let grids: Vec<Uuid> = organisation::grids_of(db, community_id)
            .await?
            .into_iter()
            .filter(|grid| grid.worker_id == Some(actor.id))
            .map(|grid| grid.id)
            .collect();
        if grids.is_empty() || status != DeedStatus::PendingCheck {
            return Err(AppError::forbidden(
                "only STAFF of the community, or its grid workers for the deeds to check, may list them",
            ));
        }
        select = select.filter(good_deed::Column::GridId.is_in(grids));
    }
    fetch_page(db, select, good_deed::Column::Id, page).await
}

pub async fn mine(
    db: &DatabaseConnection,
    actor: &Actor,
    page: PageRequest,
) -> AppResult<Page<good_deed::Model>> {
    let select = good_deed::Entity::find().filter(good_deed::Column::ResidentId.eq(actor.id));
    fetch_page(db, select, good_deed::Column::Id, page).await
}

//! Objections to the monthly points notice (一月一公示): once a month's notice is published
//! (when the month ends, China time), residents of the community have five days to object to
//! a line; STAFF resolve each with a note, and may reverse the line's points through the
//! ledger (a REVERSAL entry, never an edit).
use chrono::{DateTime, Utc};
use entity::{
    enums::{EntryKind, RecordStatus},
    notice_objection, points_entry, service_record,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};
use uuid::Uuid;

use super::rules;
use crate::{
    content::{ContentGuard, Scene},
    error::{AppError, AppResult},
    identity::{self, Actor},
    infra::db::begin_write,
    publication, validate,
    values::Month,
};

/// `now` decides whether the notice's objection window is open.
pub async fn object(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    record_id: Uuid,
    reason: String,
    now: DateTime<Utc>,
) -> AppResult<notice_objection::Model> {
    let reason = validate::text("reason", &reason, 1, 500)?;
    let record = service_record::Entity::find_by_id(record_id)
        .one(db)
        .await?
        .filter(|record| record.status == RecordStatus::Confirmed)
        .ok_or(AppError::NotFound("notice line"))?;
    let objector = identity::get_user(db, actor.id).await?;
    let lives_there = objector.community_id == Some(record.community_id)
        || actor.roles.is_member_of(record.community_id)
        || actor.roles.is_staff_of(record.community_id);
    if !lives_there {
        return Err(AppError::forbidden(
            "only residents of the community may object to its notice",
        ));
    }
    let month = record
        .confirmed_at
        .map(Month::of)
        .ok_or(AppError::NotFound("notice line"))?;
    let (opens, closes) = rules::objection_window(month);
    if now < opens {
        return Err(AppError::conflict(
            "this month's notice is not published yet: objections open when the month ends",
        ));
    }
    if now >= closes {
        return Err(AppError::conflict(format!(
            "objections to the {month} notice closed {} days after it was published",
            publication::OBJECTION_DAYS
        )));
    }
    let reason = content
        .clear(db, actor, Scene::Comment, "reason", reason)
        .await?;
    let txn = begin_write(db).await?;
    let objection = notice_objection::ActiveModel {
        id: Set(Uuid::now_v7()),
        record_id: Set(record.id),
        community_id: Set(record.community_id),
        month: Set(month.to_string()),
        objector_id: Set(actor.id),
        reason: Set(reason.record(&txn).await?),
        created_at: Set(now),
        resolved_by: Set(None),
        resolved_at: Set(None),
        resolution: Set(None),
        reversed: Set(false),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(objection)
}

/// STAFF of the community, other than the objector, resolve an objection once; `reverse`
/// also takes the line's points back with a REVERSAL entry.
pub async fn resolve(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    objection_id: Uuid,
    note: String,
    reverse: bool,
) -> AppResult<notice_objection::Model> {
    let note = validate::text("note", &note, 1, 500)?;
    let objection = notice_objection::Entity::find_by_id(objection_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("objection"))?;
    if !actor.roles.is_staff_of(objection.community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community may resolve objections to its notice",
        ));
    }
    if objection.objector_id == actor.id {
        return Err(AppError::forbidden(
            "you cannot resolve your own objection: another STAFF member must",
        ));
    }
    let note = content
        .clear(db, actor, Scene::Comment, "note", note)
        .await?;
    let txn = begin_write(db).await?;
    let note = note.record(&txn).await?;
    let resolved = notice_objection::Entity::update_many()
        .set(notice_objection::ActiveModel {
            resolved_by: Set(Some(actor.id)),
            resolved_at: Set(Some(Utc::now())),
            resolution: Set(Some(note.clone())),
            reversed: Set(reverse),
            ..Default::default()
        })
        .filter(notice_objection::Column::Id.eq(objection.id))
        .filter(notice_objection::Column::ResolvedAt.is_null())
        .exec(&txn)
        .await?;
    if resolved.rows_affected != 1 {
        return Err(AppError::conflict("this objection was already resolved"));
    }
    if reverse {
        let earned = points_entry::Entity::find()
            .filter(points_entry::Column::ReferenceId.eq(objection.record_id))
            .filter(points_entry::Column::Kind.eq(EntryKind::Earn))
            .one(&txn)
            .await?;
        if let Some(earned) = earned {
            super::reverse_in(&txn, actor, &earned, note).await?;
        }
    }
    let objection = notice_objection::Entity::find_by_id(objection.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("objection"))?;
    txn.commit().await?;
    Ok(objection)
}

/// The objections to a community's notice for `month`, oldest first.
pub async fn of_notice(
    db: &DatabaseConnection,
    community_id: Uuid,
    month: Month,
) -> AppResult<Vec<notice_objection::Model>> {
    Ok(notice_objection::Entity::find()
        .filter(notice_objection::Column::CommunityId.eq(community_id))
        .filter(notice_objection::Column::Month.eq(month.to_string()))
        .order_by_asc(notice_objection::Column::Id)
        .all(db)
        .await?)
}

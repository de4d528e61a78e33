//! Results published as notices (公示) that take objections for a window, as the monthly points
//! notice does: a topic's vote (`consultations`) and a street's red/black list (`property`).
//! The room that publishes decides who may object and who answers; this is the one home of
//! the rules every such notice shares: objections only while the window is open, once per
//! party (a person on the roll, or a company through one of its people; a unique index decides
//! races), the reason content-checked after the caller may act, and each objection answered
//! once (compare-and-set) by someone other than its objector.
use chrono::{DateTime, Duration, Utc};
use entity::publication_objection;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use crate::{
    content::{ContentGuard, Scene},
    error::{AppError, AppResult},
    identity::Actor,
    infra::db::{self, begin_write},
    pagination::{Page, PageRequest, fetch_page},
    validate,
};

/// How long a published notice takes objections: five days, as the points notice.
pub const OBJECTION_DAYS: i64 = 5;

/// When a notice published at `at` stops taking objections.
pub fn objections_close(at: DateTime<Utc>) -> DateTime<Utc> {
    at + Duration::days(OBJECTION_DAYS)
}

/// A published notice as an objection to it needs it.
pub struct Notice {
    pub subject_id: Uuid,
    /// `None` while it is not published.
    pub objections_close_at: Option<DateTime<Utc>>,
}

/// `actor`, whom the publishing room found may object for `party_id`, objects to `notice`.
pub async fn object(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    notice: Notice,
    party_id: Uuid,
    reason: String,
    now: DateTime<Utc>,
) -> AppResult<publication_objection::Model> {
    let reason = validate::text("reason", &reason, 1, 500)?;
    let Some(closes) = notice.objections_close_at else {
        return Err(AppError::conflict(
            "the result is not published yet: objections open when it is",
        ));
    };
    if now >= closes {
        return Err(AppError::conflict(format!(
            "objections to this result closed {OBJECTION_DAYS} days after it was published"
        )));
    }
    let reason = content
        .clear(db, actor, Scene::Comment, "reason", reason)
        .await?;
    let txn = begin_write(db).await?;
    let objection = publication_objection::ActiveModel {
        id: Set(Uuid::now_v7()),
        subject_id: Set(notice.subject_id),
        party_id: Set(party_id),
        objector_id: Set(actor.id),
        reason: Set(reason.record(&txn).await?),
        created_at: Set(now),
        answered_by: Set(None),
        answered_at: Set(None),
        answer: Set(None),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(objection)
}

pub async fn get(db: &DatabaseConnection, id: Uuid) -> AppResult<publication_objection::Model> {
    publication_objection::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("objection"))
}

/// `actor`, whom the publishing room found may answer objections to its notice, answers
/// `objection` once.
pub async fn answer(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    objection: publication_objection::Model,
    answer: String,
) -> AppResult<publication_objection::Model> {
    let answer = validate::text("answer", &answer, 1, 500)?;
    if objection.objector_id == actor.id {
        return Err(AppError::forbidden(
            "you cannot answer your own objection: someone else must",
        ));
    }
    let answer = content
        .clear(db, actor, Scene::Comment, "answer", answer)
        .await?;
    let txn = begin_write(db).await?;
    let answered = publication_objection::Model {
        answered_by: Some(actor.id),
        answered_at: Some(db::now()),
        answer: Some(answer.record(&txn).await?),
        ..objection
    };
    let changed = publication_objection::Entity::update_many()
        .set(publication_objection::ActiveModel {
            answered_by: Set(answered.answered_by),
            answered_at: Set(answered.answered_at),
            answer: Set(answered.answer.clone()),
            ..Default::default()
        })
        .filter(publication_objection::Column::Id.eq(answered.id))
        .filter(publication_objection::Column::AnsweredAt.is_null())
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(AppError::conflict("this objection was already answered"));
    }
    txn.commit().await?;
    Ok(answered)
}

/// Objections to a notice, newest first: all of them, or (`Some`) one party's.
pub async fn of_notice(
    db: &DatabaseConnection,
    subject_id: Uuid,
    party: Option<Uuid>,
    page: PageRequest,
) -> AppResult<Page<publication_objection::Model>> {
    let mut select = publication_objection::Entity::find()
        .filter(publication_objection::Column::SubjectId.eq(subject_id));
    if let Some(party) = party {
        select = select.filter(publication_objection::Column::PartyId.eq(party));
    }
    fetch_page(db, select, publication_objection::Column::Id, page).await
}

//! A closed topic's result is published as a notice (公示) with an objection window of
//! `OBJECTION_DAYS`, as the monthly points notice is, and those on the roll hear of it in their
//! inbox (and by subscription message where they consented). Each of them may object once
//! within the window; STAFF of the community other than the objector answer each objection
//! once. A result found wrong is set right by a visible correction (`correct`), never an edit.
use chrono::{DateTime, Duration, Utc};
use entity::{enums::TopicStatus, topic, topic_elector, topic_objection};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use super::get;
use crate::{
    content::{ContentGuard, Scene},
    error::{AppError, AppResult},
    identity::Actor,
    infra::db::{self, begin_write},
    notify::DomainEvent,
    pagination::{Page, PageRequest, fetch_page},
    points::rules::OBJECTION_DAYS,
    validate,
};

/// Opens the objection window of a topic whose phase just moved to PUBLISHED, in that
/// transaction; the event tells everyone on its roll.
pub(super) async fn publish(
    txn: &DatabaseTransaction,
    topic: &topic::Model,
    now: DateTime<Utc>,
) -> AppResult<DomainEvent> {
    let closes = now + Duration::days(OBJECTION_DAYS);
    topic::Entity::update_many()
        .set(topic::ActiveModel {
            published_at: Set(Some(now)),
            objections_close_at: Set(Some(closes)),
            ..Default::default()
        })
        .filter(topic::Column::Id.eq(topic.id))
        .exec(txn)
        .await?;
    let roll: Vec<Uuid> = topic_elector::Entity::find()
        .select_only()
        .column(topic_elector::Column::UserId)
        .filter(topic_elector::Column::TopicId.eq(topic.id))
        .into_tuple()
        .all(txn)
        .await?;
    Ok(DomainEvent::TopicPublished {
        title: topic.title.clone(),
        objections_close_at: closes,
        roll,
    })
}

/// Someone on the topic's roll objects to its published result, once, within the window.
pub async fn object(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    topic_id: Uuid,
    reason: String,
    now: DateTime<Utc>,
) -> AppResult<topic_objection::Model> {
    let reason = validate::text("reason", &reason, 1, 500)?;
    let topic = get(db, topic_id).await?;
    let on_roll = topic_elector::Entity::find_by_id((topic.id, actor.id))
        .count(db)
        .await?
        > 0;
    if !on_roll {
        return Err(AppError::forbidden(
            "only those on the topic's roll may object to its result",
        ));
    }
    let Some(closes) = topic
        .objections_close_at
        .filter(|_| topic.status == TopicStatus::Published)
    else {
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
    let objection = topic_objection::ActiveModel {
        id: Set(Uuid::now_v7()),
        topic_id: Set(topic.id),
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

/// STAFF of the topic's community, other than the objector, answer an objection once.
pub async fn answer(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    objection_id: Uuid,
    answer: String,
) -> AppResult<topic_objection::Model> {
    let answer = validate::text("answer", &answer, 1, 500)?;
    let objection = topic_objection::Entity::find_by_id(objection_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("objection"))?;
    let topic = get(db, objection.topic_id).await?;
    if !actor.roles.is_staff_of(topic.community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community may answer objections to its results",
        ));
    }
    if objection.objector_id == actor.id {
        return Err(AppError::forbidden(
            "you cannot answer your own objection: another STAFF member must",
        ));
    }
    let answer = content
        .clear(db, actor, Scene::Comment, "answer", answer)
        .await?;
    let txn = begin_write(db).await?;
    let answered = topic_objection::Model {
        answered_by: Some(actor.id),
        answered_at: Some(db::now()),
        answer: Some(answer.record(&txn).await?),
        ..objection
    };
    let changed = topic_objection::Entity::update_many()
        .set(topic_objection::ActiveModel {
            answered_by: Set(answered.answered_by),
            answered_at: Set(answered.answered_at),
            answer: Set(answered.answer.clone()),
            ..Default::default()
        })
        .filter(topic_objection::Column::Id.eq(answered.id))
        .filter(topic_objection::Column::AnsweredAt.is_null())
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(AppError::conflict("this objection was already answered"));
    }
    txn.commit().await?;
    Ok(answered)
}

/// The objections to a topic's result, newest first: all of them for its community's STAFF,
/// one's own for anyone else.
pub async fn of_topic(
    db: &DatabaseConnection,
    actor: &Actor,
    topic: &topic::Model,
    page: PageRequest,
) -> AppResult<Page<topic_objection::Model>> {
    let mut select =
        topic_objection::Entity::find().filter(topic_objection::Column::TopicId.eq(topic.id));
    if !actor.roles.is_staff_of(topic.community_id) {
        select = select.filter(topic_objection::Column::ObjectorId.eq(actor.id));
    }
    fetch_page(db, select, topic_objection::Column::Id, page).await
}

//! A closed topic's result is published as a notice (公示) (`publication`): those on the roll
//! hear of it in their inbox (and by subscription message where they consented) and may each
//! object once while the window is open; STAFF of the community answer. A result found wrong
//! is set right by a visible correction (`correct`), never an edit.
use chrono::{DateTime, Utc};
use entity::{enums::TopicStatus, publication_objection, topic, topic_elector};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use super::get;
use crate::{
    content::ContentGuard,
    error::{AppError, AppResult},
    identity::Actor,
    notify::DomainEvent,
    pagination::{Page, PageRequest},
    publication::{self, Notice},
};

/// Opens the objection window of a topic whose phase just moved to PUBLISHED, in that
/// transaction; the event tells everyone on its roll.
pub(super) async fn publish(
    txn: &DatabaseTransaction,
    topic: &topic::Model,
    now: DateTime<Utc>,
) -> AppResult<DomainEvent> {
    let closes = publication::objections_close(now);
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
    Ok(DomainEvent::Published {
        message: format!("议题表决结果已公示: {}", topic.title),
        objections_close_at: closes,
        audience: roll,
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
) -> AppResult<publication_objection::Model> {
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
    let notice = Notice {
        subject_id: topic.id,
        objections_close_at: topic
            .objections_close_at
            .filter(|_| topic.status == TopicStatus::Published),
    };
    publication::object(db, content, actor, notice, actor.id, reason, now).await
}

/// STAFF of the topic's community, other than the objector, answer an objection once.
pub async fn answer(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    objection_id: Uuid,
    answer: String,
) -> AppResult<publication_objection::Model> {
    let objection = publication::get(db, objection_id).await?;
    // An objection to another kind of notice is not one of a topic.
    let topic = topic::Entity::find_by_id(objection.subject_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("objection"))?;
    if !actor.roles.is_staff_of(topic.community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community may answer objections to its results",
        ));
    }
    publication::answer(db, content, actor, objection, answer).await
}

/// The objections to a topic's result, newest first: all of them for its community's STAFF,
/// one's own for anyone else.
pub async fn of_topic(
    db: &DatabaseConnection,
    actor: &Actor,
    topic: &topic::Model,
    page: PageRequest,
) -> AppResult<Page<publication_objection::Model>> {
    let party = (!actor.roles.is_staff_of(topic.community_id)).then_some(actor.id);
    publication::of_notice(db, topic.id, party, page).await
}

//! Discussion (协商): residents who may see a topic comment on it while it is in DISCUSSION;
//! their text passes content security; STAFF of the community moderate by hiding a comment
//! with a reason. A hidden comment stays in the list, without its text, for all but STAFF.
//! STAFF put proposals (方案) to a topic before its vote: comments with a title, listed apart
//! and moderated alike.
use chrono::Utc;
use entity::{enums::TopicStatus, topic_comment};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use uuid::Uuid;

use super::visible;
use crate::{
    content::{ContentGuard, Scene},
    error::{AppError, AppResult},
    identity::Actor,
    infra::db::begin_serialised,
    pagination::{Page, PageRequest, fetch_page},
    validate,
};

/// Comments one person may post on one topic.
pub const MAX_COMMENTS_PER_TOPIC: u64 = 20;
/// Proposals one topic may have.
pub const MAX_PROPOSALS_PER_TOPIC: u64 = 10;

pub async fn post(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    topic_id: Uuid,
    body: String,
) -> AppResult<topic_comment::Model> {
    let topic = visible(db, actor, topic_id).await?;
    if topic.status != TopicStatus::Discussion {
        return Err(AppError::conflict(
            "comments are taken while the topic is under discussion",
        ));
    }
    let body = validate::text("body", &body, 1, 1000)?;
    let body = content.clear(db, actor, Scene::Forum, "body", body).await?;
    // Counted under the author's lock on this topic, so that a burst cannot pass the cap.
    let txn = begin_serialised(db, &format!("comment:{topic_id}:{}", actor.id)).await?;
    let posted = topic_comment::Entity::find()
        .filter(topic_comment::Column::TopicId.eq(topic_id))
        .filter(topic_comment::Column::AuthorId.eq(actor.id))
        .filter(topic_comment::Column::ProposalTitle.is_null())
        .count(&txn)
        .await?;
    if posted >= MAX_COMMENTS_PER_TOPIC {
        return Err(AppError::RateLimited {
            message: format!("at most {MAX_COMMENTS_PER_TOPIC} comments on one topic"),
            retry_after: None,
        });
    }
    let comment = topic_comment::ActiveModel {
        id: Set(Uuid::now_v7()),
        topic_id: Set(topic_id),
        author_id: Set(actor.id),
        body: Set(body.record(&txn).await?),
        hidden_at: Set(None),
        hidden_by: Set(None),
        hidden_reason: Set(None),
        created_at: Set(Utc::now()),
        proposal_title: Set(None),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(comment)
}

/// STAFF of the community put a proposal to a topic before its vote (DRAFT or DISCUSSION).
pub async fn propose(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    topic_id: Uuid,
    title: String,
    body: String,
) -> AppResult<topic_comment::Model> {
    let title = validate::text("title", &title, 1, 100)?;
    let body = validate::text("body", &body, 1, validate::LONGEST_TEXT)?;
    let topic = super::get(db, topic_id).await?;
    if !actor.roles.is_staff_of(topic.community_id) {
        return Err(AppError::forbidden(
            "STAFF of the community put proposals to its topics",
        ));
    }
    if !matches!(topic.status, TopicStatus::Draft | TopicStatus::Discussion) {
        return Err(AppError::conflict(
            "proposals are put before the vote opens",
        ));
    }
    let [title, body] = content
        .clear_all(db, actor, Scene::Forum, [("title", title), ("body", body)])
        .await?;
    // Counted under the topic's lock, so that proposals sent at once cannot pass the cap.
    let txn = begin_serialised(db, &format!("proposal:{topic_id}")).await?;
    let proposed = topic_comment::Entity::find()
        .filter(topic_comment::Column::TopicId.eq(topic_id))
        .filter(topic_comment::Column::ProposalTitle.is_not_null())
        .count(&txn)
        .await?;
    if proposed >= MAX_PROPOSALS_PER_TOPIC {
        return Err(AppError::conflict(format!(
            "a topic has at most {MAX_PROPOSALS_PER_TOPIC} proposals"
        )));
    }
    let proposal = topic_comment::ActiveModel {
        id: Set(Uuid::now_v7()),
        topic_id: Set(topic_id),
        author_id: Set(actor.id),
        body: Set(body.record(&txn).await?),
        hidden_at: Set(None),
        hidden_by: Set(None),
        hidden_reason: Set(None),
        created_at: Set(Utc::now()),
        proposal_title: Set(Some(title.record(&txn).await?)),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(proposal)
}

/// A topic's proposals, oldest first (at most `MAX_PROPOSALS_PER_TOPIC`), for those who may
/// see the topic.
pub async fn proposals(
    db: &DatabaseConnection,
    actor: &Actor,
    topic_id: Uuid,
) -> AppResult<Vec<topic_comment::Model>> {
    visible(db, actor, topic_id).await?;
    Ok(topic_comment::Entity::find()
        .filter(topic_comment::Column::TopicId.eq(topic_id))
        .filter(topic_comment::Column::ProposalTitle.is_not_null())
        .order_by_asc(topic_comment::Column::Id)
        .limit(MAX_PROPOSALS_PER_TOPIC)
        .all(db)
        .await?)
}

/// STAFF of the topic's community hide a comment, with a reason, once.
pub async fn hide(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    comment_id: Uuid,
    reason: String,
) -> AppResult<topic_comment::Model> {
    let comment = topic_comment::Entity::find_by_id(comment_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("comment"))?;
    let topic = super::get(db, comment.topic_id).await?;
    if !actor.roles.is_staff_of(topic.community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community moderate its topics",
        ));
    }
    let reason = validate::text("reason", &reason, 1, 200)?;
    let reason = content
        .clear(db, actor, Scene::Comment, "reason", reason)
        .await?;
    let txn = crate::infra::db::begin_write(db).await?;
    let (now, reason) = (Utc::now(), reason.record(&txn).await?);
    let hidden = topic_comment::Entity::update_many()
        .col_expr(topic_comment::Column::HiddenAt, Expr::value(now))
        .col_expr(topic_comment::Column::HiddenBy, Expr::value(actor.id))
        .col_expr(
            topic_comment::Column::HiddenReason,
            Expr::value(reason.clone()),
        )
        .filter(topic_comment::Column::Id.eq(comment_id))
        .filter(topic_comment::Column::HiddenAt.is_null())
        .exec(&txn)
        .await?;
    if hidden.rows_affected != 1 {
        return Err(AppError::conflict("this comment is hidden already"));
    }
    txn.commit().await?;
    Ok(topic_comment::Model {
        hidden_at: Some(now),
        hidden_by: Some(actor.id),
        hidden_reason: Some(reason),
        ..comment
    })
}

/// A topic's comments (not its proposals), newest first, for those who may see the topic.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    topic_id: Uuid,
    page: PageRequest,
) -> AppResult<Page<topic_comment::Model>> {
    visible(db, actor, topic_id).await?;
    let select = topic_comment::Entity::find()
        .filter(topic_comment::Column::TopicId.eq(topic_id))
        .filter(topic_comment::Column::ProposalTitle.is_null());
    fetch_page(db, select, topic_comment::Column::Id, page).await
}

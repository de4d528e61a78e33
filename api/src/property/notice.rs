//! The sealed red/black list is published as a notice (公示, `publication`): the listed
//! companies' people hear of it and each company may object once while the window is open;
//! the street's staff answer. A company on the black list gets a rectification task (整改): it
//! reports what it did, the street accepts the report or sends it back.
use chrono::{DateTime, Duration, Utc};
use entity::{
    enums::{RectificationStatus, RoundStatus},
    merchant_staff, property_rectification, property_result, property_round, publication_objection,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::{get_round, rules::Listing};
use crate::{
    content::{Cleared, ContentGuard, Scene},
    error::{AppError, AppResult},
    identity::Actor,
    infra::db::{self, begin_write},
    merchants,
    notify::DomainEvent,
    pagination::{Page, PageRequest},
    publication::{self, Notice},
    validate,
};

/// How long a black-listed company has to report its rectification.
pub const RECTIFICATION_DAYS: i64 = 30;

/// Most rectification tasks one round lists: one per company of the street.
const MAX_RECTIFICATIONS: u64 = 500;

/// In the transaction that seals the round: a rectification task for each black-listed
/// company, and the notice to every listed company's people.
pub(super) async fn publish(
    txn: &DatabaseTransaction,
    round: &property_round::Model,
    listed: &[(Uuid, Listing)],
    now: DateTime<Utc>,
) -> AppResult<DomainEvent> {
    let tasks: Vec<property_rectification::ActiveModel> = listed
        .iter()
        .filter(|(_, listing)| *listing == Listing::Black)
        .map(|(company_id, _)| property_rectification::ActiveModel {
            id: Set(Uuid::now_v7()),
            round_id: Set(round.id),
            company_id: Set(*company_id),
            status: Set(RectificationStatus::Open),
            due_at: Set(now + Duration::days(RECTIFICATION_DAYS)),
            report: Set(None),
            reported_by: Set(None),
            reported_at: Set(None),
            reviewed_by: Set(None),
            reviewed_at: Set(None),
            review_note: Set(None),
            created_at: Set(now),
        })
        .collect();
    if !tasks.is_empty() {
        property_rectification::Entity::insert_many(tasks)
            .exec_without_returning(txn)
            .await?;
    }
    let people: Vec<Uuid> = merchant_staff::Entity::find()
        .select_only()
        .column(merchant_staff::Column::UserId)
        .filter(merchant_staff::Column::MerchantId.is_in(listed.iter().map(|(id, _)| *id)))
        .into_tuple()
        .all(txn)
        .await?;
    Ok(DomainEvent::Published {
        message: format!("{} 物业服务评价红黑榜已公示", round.quarter),
        objections_close_at: publication::objections_close(now),
        audience: people,
    })
}

/// Refuses anyone who does not work for the company.
async fn for_company(db: &DatabaseConnection, actor: &Actor, company_id: Uuid) -> AppResult<()> {
    match merchants::staff_role(db, actor.id, company_id).await? {
        Some(_) => Ok(()),
        None => Err(AppError::forbidden(
            "only the company's own people may act for it",
        )),
    }
}

fn street_staff_only(actor: &Actor, round: &property_round::Model) -> AppResult<()> {
    if actor.roles.is_street_staff_of(round.street_id) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only STREET_STAFF of the street follow up its red/black list",
        ))
    }
}

/// A listed company, through one of its people, objects to the published list, once.
pub async fn object(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    round_id: Uuid,
    company_id: Uuid,
    reason: String,
    now: DateTime<Utc>,
) -> AppResult<publication_objection::Model> {
    let round = get_round(db, round_id).await?;
    for_company(db, actor, company_id).await?;
    let published = round.status == RoundStatus::Closed;
    if published {
        property_result::Entity::find_by_id((round.id, company_id))
            .one(db)
            .await?
            .ok_or(AppError::NotFound("company on this list"))?;
    }
    let notice = Notice {
        subject_id: round.id,
        objections_close_at: round.objections_close_at.filter(|_| published),
    };
    publication::object(db, content, actor, notice, company_id, reason, now).await
}

/// The round of an objection, for an answer or a list; another notice's objection is not found.
async fn round_of(
    db: &DatabaseConnection,
    objection: &publication_objection::Model,
) -> AppResult<property_round::Model> {
    property_round::Entity::find_by_id(objection.subject_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("objection"))
}

/// STREET_STAFF of the round's street answer a company's objection, once.
pub async fn answer(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    objection_id: Uuid,
    answer: String,
) -> AppResult<publication_objection::Model> {
    let objection = publication::get(db, objection_id).await?;
    street_staff_only(actor, &round_of(db, &objection).await?)?;
    publication::answer(db, content, actor, objection, answer).await
}

/// Objections to the list, newest first: all (or one company's) for the street's staff, a
/// company's own for its people.
pub async fn objections(
    db: &DatabaseConnection,
    actor: &Actor,
    round: &property_round::Model,
    company_id: Option<Uuid>,
    page: PageRequest,
) -> AppResult<Page<publication_objection::Model>> {
    if !actor.roles.is_street_staff_of(round.street_id) {
        let Some(company_id) = company_id else {
            return Err(AppError::forbidden(
                "name the company whose objections you want to see",
            ));
        };
        for_company(db, actor, company_id).await?;
    }
    publication::of_notice(db, round.id, company_id, page).await
}

/// The round's rectification tasks: all for the street's staff, their companies' for a
/// company's people.
pub async fn rectifications(
    db: &DatabaseConnection,
    actor: &Actor,
    round: &property_round::Model,
) -> AppResult<Vec<property_rectification::Model>> {
    let mut select = property_rectification::Entity::find()
        .filter(property_rectification::Column::RoundId.eq(round.id))
        .order_by_asc(property_rectification::Column::Id)
        .limit(MAX_RECTIFICATIONS);
    if !actor.roles.is_street_staff_of(round.street_id) {
        let mine: Vec<Uuid> = merchant_staff::Entity::find()
            .select_only()
            .column(merchant_staff::Column::MerchantId)
            .filter(merchant_staff::Column::UserId.eq(actor.id))
            .into_tuple()
            .all(db)
            .await?;
        select = select.filter(property_rectification::Column::CompanyId.is_in(mine));
    }
    Ok(select.all(db).await?)
}

async fn get_task(db: &DatabaseConnection, id: Uuid) -> AppResult<property_rectification::Model> {
    property_rectification::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("rectification"))
}

/// Moves a task on from `from`, compare-and-set on its status: `change` makes the task as it
/// becomes from the text (report or note) as recorded in that transaction.
async fn step(
    db: &DatabaseConnection,
    task_id: Uuid,
    from: RectificationStatus,
    text: Cleared,
    change: impl FnOnce(String) -> property_rectification::Model,
    wrong_state: &'static str,
) -> AppResult<property_rectification::Model> {
    let txn = begin_write(db).await?;
    let changed = change(text.record(&txn).await?);
    let moved = property_rectification::Entity::update_many()
        .set(property_rectification::ActiveModel {
            status: Set(changed.status),
            report: Set(changed.report.clone()),
            reported_by: Set(changed.reported_by),
            reported_at: Set(changed.reported_at),
            reviewed_by: Set(changed.reviewed_by),
            reviewed_at: Set(changed.reviewed_at),
            review_note: Set(changed.review_note.clone()),
            ..Default::default()
        })
        .filter(property_rectification::Column::Id.eq(task_id))
        .filter(property_rectification::Column::Status.eq(from))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::conflict(wrong_state));
    }
    txn.commit().await?;
    Ok(changed)
}

/// The company reports what it did about an OPEN task.
pub async fn report(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    task_id: Uuid,
    report: String,
) -> AppResult<property_rectification::Model> {
    let report = validate::text("report", &report, 1, validate::LONGEST_TEXT)?;
    let task = get_task(db, task_id).await?;
    for_company(db, actor, task.company_id).await?;
    let report = content
        .clear(db, actor, Scene::Comment, "report", report)
        .await?;
    let change = |report| property_rectification::Model {
        status: RectificationStatus::Reported,
        report: Some(report),
        reported_by: Some(actor.id),
        reported_at: Some(db::now()),
        ..task.clone()
    };
    let waiting = "this task is not waiting for a report";
    step(
        db,
        task.id,
        RectificationStatus::Open,
        report,
        change,
        waiting,
    )
    .await
}

/// STREET_STAFF accept a REPORTED task, or send it back to the company with a note.
pub async fn review(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    task_id: Uuid,
    accept: bool,
    note: String,
) -> AppResult<property_rectification::Model> {
    let note = validate::text("note", &note, 1, 500)?;
    let task = get_task(db, task_id).await?;
    street_staff_only(actor, &get_round(db, task.round_id).await?)?;
    let note = content
        .clear(db, actor, Scene::Comment, "note", note)
        .await?;
    let change = |note| property_rectification::Model {
        status: if accept {
            RectificationStatus::Accepted
        } else {
            RectificationStatus::Open
        },
        reviewed_by: Some(actor.id),
        reviewed_at: Some(db::now()),
        review_note: Some(note),
        ..task.clone()
    };
    let unreported = "this task has no report to review";
    step(
        db,
        task.id,
        RectificationStatus::Reported,
        note,
        change,
        unreported,
    )
    .await
}

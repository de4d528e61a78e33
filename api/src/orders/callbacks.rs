//! Callback visits (回访): STAFF call the resident after the service and record what they
//! heard. A low rating puts an order in the follow-up queue until a callback is recorded;
//! any completed or rated order may be called back (sampling).
use std::collections::HashMap;

use chrono::Utc;
use entity::{enums::OrderStatus, order_callback};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};
use uuid::Uuid;

use super::{commands::record_event, find, stats};
use crate::{
    content::{ContentGuard, Scene},
    error::{AppError, AppResult},
    identity::Actor,
    infra::db::{begin_write, group_by_parent},
    validate,
};

pub struct CallbackReport {
    pub reached: bool,
    /// Only when reached.
    pub satisfied: Option<bool>,
    pub note: String,
}

pub async fn record(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    order_id: Uuid,
    report: CallbackReport,
) -> AppResult<order_callback::Model> {
    let note = validate::text("note", &report.note, 0, 1000)?;
    if !report.reached && report.satisfied.is_some() {
        return Err(AppError::bad_input(
            "satisfied is for residents who were reached",
        ));
    }
    let note = content
        .clear(db, actor, Scene::Comment, "note", note)
        .await?;
    let txn = begin_write(db).await?;
    let order = find(&txn, order_id).await?;
    if !actor.roles.is_staff_of(order.community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the order's community may record its callbacks",
        ));
    }
    if !matches!(order.status, OrderStatus::Completed | OrderStatus::Rated) {
        return Err(AppError::conflict(
            "a callback is recorded once the order is completed",
        ));
    }
    let called_before = stats::has_callback(&txn, order.id).await?;
    let note = note.record(&txn).await?;
    let callback = order_callback::ActiveModel {
        id: Set(Uuid::now_v7()),
        order_id: Set(order.id),
        staff_id: Set(actor.id),
        reached: Set(report.reached),
        satisfied: Set(report.satisfied),
        note: Set(note.clone()),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    stats::restate(&txn, Some((&order, called_before)), Some((&order, true))).await?;
    let summary = match (report.reached, report.satisfied) {
        (false, _) => "not reached".to_owned(),
        (true, Some(true)) => "reached, satisfied".to_owned(),
        (true, Some(false)) => "reached, not satisfied".to_owned(),
        (true, None) => "reached".to_owned(),
    };
    let timeline_note = if note.is_empty() {
        summary
    } else {
        format!("{summary}: {note}")
    };
    record_event(
        &txn,
        &order,
        actor.id,
        "CALLBACK",
        Some(order.status),
        Some(timeline_note),
    )
    .await?;
    txn.commit().await?;
    Ok(callback)
}

/// The callbacks of these orders, oldest first, in one query.
pub async fn of_orders(
    db: &DatabaseConnection,
    order_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<order_callback::Model>>> {
    let rows = order_callback::Entity::find()
        .filter(order_callback::Column::OrderId.is_in(order_ids.iter().copied()))
        .order_by_asc(order_callback::Column::Id)
        .all(db)
        .await?;
    Ok(group_by_parent(rows, |callback| Some(callback.order_id)))
}

//! Each person's inbox: the notifications meant for them, written in the same transaction as
//! the change they report (so a committed change is never left untold), read whenever the app
//! opens. Every row is also the job of telling the person outside the app (`delivery`).
use chrono::Utc;
use entity::{
    enums::{Delivery, Role},
    inbox_message, role_grant,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QuerySelect, sea_query::OnConflict,
};
use uuid::Uuid;

use super::notifications::{Audience, Notification, NotificationKind};
use crate::{
    error::{AppError, AppResult},
    identity::Actor,
    pagination::{Page, PageRequest, fetch_page},
};

/// Inbox rows written per statement.
const ROWS_PER_STATEMENT: usize = 500;

/// Most messages one `markInboxRead` call marks.
pub const MAX_MARKED: usize = 100;

/// The people an audience names, by id: its users, and the holders of the roles it names where
/// it names them.
async fn recipients(db: &impl ConnectionTrait, audience: &Audience) -> AppResult<Vec<Uuid>> {
    let mut people = audience.users.clone();
    let mut by_role = Condition::any();
    let holders_of = [
        (
            Role::Staff,
            role_grant::Column::CommunityId,
            audience.staff_of,
        ),
        (
            Role::PartyMember,
            role_grant::Column::CommunityId,
            audience.members_of,
        ),
        (
            Role::StreetStaff,
            role_grant::Column::StreetId,
            audience.street_staff_of,
        ),
        (
            Role::DepartmentStaff,
            role_grant::Column::DepartmentId,
            audience.department_staff_of,
        ),
    ];
    for (role, column, place) in holders_of {
        if let Some(place) = place {
            by_role = by_role.add(
                Condition::all()
                    .add(role_grant::Column::Role.eq(role))
                    .add(column.eq(place)),
            );
        }
    }
    if !by_role.is_empty() {
        let holders: Vec<Uuid> = role_grant::Entity::find()
            .select_only()
            .column(role_grant::Column::UserId)
            .filter(by_role)
            .into_tuple()
            .all(db)
            .await?;
        people.extend(holders);
    }
    people.sort();
    people.dedup();
    Ok(people)
}

/// Files each notification in its audience's inboxes. `OrderChanged` only refreshes open
/// screens, so it is not filed.
pub async fn file(db: &impl ConnectionTrait, notifications: &[Notification]) -> AppResult<()> {
    let now = Utc::now();
    for notification in notifications
        .iter()
        .filter(|n| n.kind != NotificationKind::OrderChanged)
    {
        let kind = kind_name(notification.kind);
        let mut rows = recipients(db, &notification.audience)
            .await?
            .into_iter()
            .map(|user_id| inbox_message::ActiveModel {
                id: Set(Uuid::now_v7()),
                notification_id: Set(notification.id),
                user_id: Set(user_id),
                kind: Set(kind.clone()),
                order_id: Set(notification.order_id),
                redemption_id: Set(notification.redemption_id),
                message: Set(notification.message.clone()),
                created_at: Set(notification.at),
                read_at: Set(None),
                delivery: Set(Delivery::Pending),
                attempts: Set(0),
                next_attempt_at: Set(now),
                last_error: Set(None),
                sent_at: Set(None),
            })
            .peekable();
        // A notice to a whole roll can name thousands: each statement stays far below the
        // databases' limit on bound values.
        while rows.peek().is_some() {
            let chunk: Vec<_> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
            inbox_message::Entity::insert_many(chunk)
                .on_conflict(
                    OnConflict::columns([
                        inbox_message::Column::NotificationId,
                        inbox_message::Column::UserId,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(db)
                .await?;
        }
    }
    Ok(())
}

pub fn kind_name(kind: NotificationKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

pub fn kind_of(message: &inbox_message::Model) -> Option<NotificationKind> {
    serde_json::from_value(serde_json::Value::String(message.kind.clone())).ok()
}

/// My messages, newest first.
pub async fn mine(
    db: &DatabaseConnection,
    actor: &Actor,
    unread_only: bool,
    page: PageRequest,
) -> AppResult<Page<inbox_message::Model>> {
    let mut select =
        inbox_message::Entity::find().filter(inbox_message::Column::UserId.eq(actor.id));
    if unread_only {
        select = select.filter(inbox_message::Column::ReadAt.is_null());
    }
    fetch_page(db, select, inbox_message::Column::Id, page).await
}

pub async fn unread_count(db: &DatabaseConnection, user_id: Uuid) -> AppResult<u64> {
    Ok(inbox_message::Entity::find()
        .filter(inbox_message::Column::UserId.eq(user_id))
        .filter(inbox_message::Column::ReadAt.is_null())
        .count(db)
        .await?)
}

/// Marks my messages among `ids` read; others' ids are ignored. Returns how many changed.
pub async fn mark_read(db: &DatabaseConnection, actor: &Actor, ids: Vec<Uuid>) -> AppResult<u64> {
    if ids.len() > MAX_MARKED {
        return Err(AppError::bad_input(format!(
            "mark at most {MAX_MARKED} messages at a time"
        )));
    }
    let marked = inbox_message::Entity::update_many()
        .col_expr(
            inbox_message::Column::ReadAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(inbox_message::Column::UserId.eq(actor.id))
        .filter(inbox_message::Column::Id.is_in(ids))
        .filter(inbox_message::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    Ok(marked.rows_affected)
}

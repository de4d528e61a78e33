//! Each person's inbox: the notifications meant for them, written in the same transaction as
//! the change they report (so a committed change is never left untold), read whenever the app
//! opens. Every row is also the job of telling the person outside the app (`delivery`).
use chrono::Utc;
use entity::{
    enums::{Delivery, Role},
    inbox_message, role_grant, user,
};
use sea_orm::{
    ActiveEnum, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend,
    EntityTrait, PaginatorTrait, QueryFilter,
    sea_query::{Alias, Expr, ExprTrait, InsertStatement, OnConflict, Query, SelectStatement},
};
use uuid::Uuid;

use super::notifications::{Audience, Notification, NotificationKind};
use crate::{
    error::{AppError, AppResult},
    identity::Actor,
    infra::db,
    pagination::{Page, PageRequest, fetch_page},
};

/// Most people named one by one in an inbox statement, far below the databases' limits on
/// bound values.
const USERS_PER_STATEMENT: usize = 500;

/// Most messages one `markInboxRead` call marks.
pub const MAX_MARKED: usize = 100;

/// Selects of the people an audience names (`user_id`): holders of the roles it names where
/// it names them, and its users by id, a chunk per select.
fn recipients(audience: &Audience) -> Vec<SelectStatement> {
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
    let mut selects = Vec::new();
    if !by_role.is_empty() {
        selects.push(
            Query::select()
                .distinct()
                .column(role_grant::Column::UserId)
                .from(role_grant::Entity)
                .cond_where(by_role)
                .to_owned(),
        );
    }
    for chunk in audience.users.chunks(USERS_PER_STATEMENT) {
        selects.push(
            Query::select()
                .expr_as(Expr::col(user::Column::Id), inbox_message::Column::UserId)
                .from(user::Entity)
                .and_where(user::Column::Id.is_in(chunk.iter().copied()))
                .to_owned(),
        );
    }
    selects
}

/// The statements that file each notification in its audience's inboxes: each finds its
/// recipients itself, so filing costs no read and no round trip per person. `OrderChanged`
/// only refreshes open screens, so it is not filed. A person named twice gets one row.
pub fn filing(backend: DbBackend, notifications: &[Notification]) -> Vec<InsertStatement> {
    use inbox_message::Column;
    let now = Utc::now();
    let mut statements = Vec::new();
    for notification in notifications
        .iter()
        .filter(|n| n.kind != NotificationKind::OrderChanged)
    {
        for people in recipients(&notification.audience) {
            let rows = Query::select()
                .expr(db::new_id(backend))
                .expr(Expr::val(notification.id))
                .column(Column::UserId)
                .expr(Expr::val(kind_name(notification.kind)))
                .expr(Expr::val(notification.order_id))
                .expr(Expr::val(notification.redemption_id))
                .expr(Expr::val(notification.message.clone()))
                .expr(Expr::val(notification.at))
                .expr(Expr::val(Delivery::Pending.to_value()))
                .expr(Expr::val(0))
                .expr(Expr::val(now))
                .from_subquery(people, Alias::new("people"))
                // SQLite reads `ON CONFLICT` after a FROM without WHERE as a join's ON.
                .and_where(Expr::col(Column::UserId).is_not_null())
                .to_owned();
            let columns = [
                Column::Id,
                Column::NotificationId,
                Column::UserId,
                Column::Kind,
                Column::OrderId,
                Column::RedemptionId,
                Column::Message,
                Column::CreatedAt,
                Column::Delivery,
                Column::Attempts,
                Column::NextAttemptAt,
            ];
            let mut insert = Query::insert();
            insert
                .into_table(inbox_message::Entity)
                .columns(columns)
                .select_from(rows)
                .expect("as many values as columns")
                .on_conflict(
                    OnConflict::columns([Column::NotificationId, Column::UserId])
                        .do_nothing()
                        .to_owned(),
                );
            statements.push(insert);
        }
    }
    statements
}

/// Files each notification in its audience's inboxes (`filing`).
pub async fn file(db: &impl ConnectionTrait, notifications: &[Notification]) -> AppResult<()> {
    for statement in filing(db.get_database_backend(), notifications) {
        db.execute(&statement).await?;
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

//! Each person's inbox: the notifications meant for them, written in the same transaction as
//! the change they report (so a committed change is never left untold), read whenever the app
//! opens. Every row is also the job of telling the person outside the app (`delivery`).
//!
//! A notice for a community's Party members names hundreds of people: the change stores it
//! once as a fan-out, and `fan_out` files its rows right after the commit, so the step that
//! caused it does not wait for them.
use chrono::Utc;
use entity::{
    enums::{Delivery, Role},
    inbox_fanout, inbox_message, role_grant, user,
};
use sea_orm::{
    ActiveEnum, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
    sea_query::{
        Alias, Expr, ExprTrait, InsertStatement, LockBehavior, LockType, OnConflict, Query,
        SelectStatement,
    },
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

/// Most fan-outs one round of `fan_out` files.
const FANOUTS_PER_ROUND: u64 = 100;

/// Selects of the people an audience names (`user_id`) but a community's Party members (a
/// fan-out): holders of the roles it names where it names them, and its users by id, a chunk
/// per select.
fn recipients(audience: &Audience) -> Vec<SelectStatement> {
    let mut by_role = Condition::any();
    let holders_of = [
        (
            Role::Staff,
            role_grant::Column::CommunityId,
            audience.staff_of,
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
/// recipients itself, so filing costs no read and no round trip per person. A community's
/// Party members get a fan-out, filed after the commit (`fan_out`). `OrderChanged` only
/// refreshes open screens, so it is not filed. A person named twice gets one row.
pub fn filing(backend: DbBackend, notifications: &[Notification]) -> Vec<InsertStatement> {
    let now = Utc::now();
    let mut statements = Vec::new();
    for notification in notifications.iter().filter(|n| is_filed(n)) {
        for people in recipients(&notification.audience) {
            let rows = Query::select()
                .expr(db::new_id(backend))
                .expr(Expr::val(notification.id))
                .column(inbox_message::Column::UserId)
                .expr(Expr::val(kind_name(notification.kind)))
                .expr(Expr::val(notification.order_id))
                .expr(Expr::val(notification.redemption_id))
                .expr(Expr::val(notification.message.clone()))
                .expr(Expr::val(notification.at))
                .from_subquery(people, Alias::new("people"))
                // SQLite reads `ON CONFLICT` after a FROM without WHERE as a join's ON.
                .and_where(Expr::col(inbox_message::Column::UserId).is_not_null())
                .to_owned();
            statements.push(into_inboxes(rows, now));
        }
        if let Some(community) = fan_out_to(notification) {
            statements.push(
                inbox_fanout::Entity::insert(inbox_fanout::ActiveModel {
                    notification_id: Set(notification.id),
                    kind: Set(kind_name(notification.kind)),
                    order_id: Set(notification.order_id),
                    redemption_id: Set(notification.redemption_id),
                    message: Set(notification.message.clone()),
                    created_at: Set(notification.at),
                    members_of: Set(community),
                })
                .into_query(),
            );
        }
    }
    statements
}

fn is_filed(notification: &Notification) -> bool {
    notification.kind != NotificationKind::OrderChanged
}

/// The community whose Party members hear `notification` through a fan-out, if any.
fn fan_out_to(notification: &Notification) -> Option<Uuid> {
    notification
        .audience
        .members_of
        .filter(|_| is_filed(notification))
}

/// Whether filing `notification` leaves a fan-out for `fan_out`.
pub fn fans_out(notification: &Notification) -> bool {
    fan_out_to(notification).is_some()
}

/// Inserts the inbox rows `rows` selects: a notification's id, person, kind, order,
/// redemption, message and time, each to be delivered from `now`.
fn into_inboxes(mut rows: SelectStatement, now: chrono::DateTime<Utc>) -> InsertStatement {
    use inbox_message::Column;
    rows.expr(Expr::val(Delivery::Pending.to_value()))
        .expr(Expr::val(0))
        .expr(Expr::val(now));
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
    insert
}

/// Files the waiting fan-outs in their audiences' inboxes, a round of them per transaction,
/// and removes them; how many it filed. The dispatcher wakes it after each commit that leaves
/// one, and it also runs on a period for those of an instance that stopped first. Instances
/// skip the fan-outs another is filing.
pub async fn fan_out(db: &DatabaseConnection) -> AppResult<u64> {
    let backend = db.get_database_backend();
    let mut filed = 0;
    loop {
        let txn = db::begin_write(db).await?;
        let mut waiting = inbox_fanout::Entity::find()
            .select_only()
            .column(inbox_fanout::Column::NotificationId)
            .order_by_asc(inbox_fanout::Column::CreatedAt)
            .limit(FANOUTS_PER_ROUND);
        if backend == DbBackend::Postgres {
            waiting = waiting.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let ids: Vec<Uuid> = waiting.into_tuple().all(&txn).await?;
        if ids.is_empty() {
            return Ok(filed);
        }
        use inbox_fanout::Column as Fanout;
        let rows = Query::select()
            .expr(db::new_id(backend))
            .column((inbox_fanout::Entity, Fanout::NotificationId))
            .column((role_grant::Entity, role_grant::Column::UserId))
            .column((inbox_fanout::Entity, Fanout::Kind))
            .column((inbox_fanout::Entity, Fanout::OrderId))
            .column((inbox_fanout::Entity, Fanout::RedemptionId))
            .column((inbox_fanout::Entity, Fanout::Message))
            .column((inbox_fanout::Entity, Fanout::CreatedAt))
            .from(inbox_fanout::Entity)
            .inner_join(
                role_grant::Entity,
                Condition::all()
                    .add(role_grant::Column::Role.eq(Role::PartyMember))
                    .add(
                        Expr::col((role_grant::Entity, role_grant::Column::CommunityId))
                            .equals((inbox_fanout::Entity, Fanout::MembersOf)),
                    ),
            )
            .and_where(
                Expr::col((inbox_fanout::Entity, Fanout::NotificationId))
                    .is_in(ids.iter().copied()),
            )
            .to_owned();
        txn.execute(&into_inboxes(rows, Utc::now())).await?;
        inbox_fanout::Entity::delete_many()
            .filter(Fanout::NotificationId.is_in(ids.iter().copied()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        filed += ids.len() as u64;
        if (ids.len() as u64) < FANOUTS_PER_ROUND {
            return Ok(filed);
        }
    }
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

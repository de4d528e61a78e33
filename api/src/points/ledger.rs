//! The append-only points ledger. `post` (and `post_once`, for a key known to be new) is the
//! only code that changes a balance: it moves the account's balance and appends the entry
//! recording it in the caller's transaction, so the
//! balance is always the `balance_after` of the latest entry and the sum of all entries.
use chrono::{DateTime, Utc};
use entity::{enums::EntryKind, points_account, points_entry, user};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryTrait,
    UpdateMany,
    sea_query::{Expr, ExprTrait, InsertStatement, OnConflict, Query, UpdateStatement},
};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    infra::db,
    pagination::{Span, export_page},
};

#[derive(Clone)]
pub struct Posting {
    pub user_id: Uuid,
    pub kind: EntryKind,
    pub amount: i64,
    pub reference: Option<(&'static str, Uuid)>,
    pub rate: Option<i32>,
    pub reason: Option<String>,
    /// Makes the posting happen at most once: a second posting with the same key returns the
    /// first entry and moves nothing.
    pub idempotency_key: Option<String>,
    pub created_by: Option<Uuid>,
}

pub async fn find_by_key(
    db: &impl ConnectionTrait,
    key: &str,
) -> AppResult<Option<points_entry::Model>> {
    Ok(points_entry::Entity::find()
        .filter(points_entry::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?)
}

pub async fn balance(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<i64> {
    Ok(points_account::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .map_or(0, |account| account.balance))
}

/// Posts one entry, or returns the entry its key already posted. Must run inside a write
/// transaction.
pub async fn post(txn: &impl ConnectionTrait, posting: Posting) -> AppResult<points_entry::Model> {
    if let Some(key) = &posting.idempotency_key
        && let Some(existing) = find_by_key(txn, key).await?
    {
        return Ok(existing);
    }
    post_once(txn, posting).await
}

/// `post` for a key the caller knows to be new (made from a new id, or looked up already by
/// `idempotency::replay_or_run`): it is not looked up again, and one posted meanwhile by a
/// concurrent request is a unique violation (`CONFLICT`), which `replay_or_run` answers
/// like a retry.
pub async fn post_once(
    txn: &impl ConnectionTrait,
    posting: Posting,
) -> AppResult<points_entry::Model> {
    let now = db::now();
    let Some(balance_after) = moved_balance(txn, posting.user_id, posting.amount, now).await?
    else {
        return Err(AppError::conflict(format!(
            "not enough points: the balance is {}, this needs {}",
            balance(txn, posting.user_id).await?,
            -posting.amount
        )));
    };
    let entry = entry(posting, balance_after, now);
    points_entry::Entity::insert(entry.clone().into_active_model())
        .exec_without_returning(txn)
        .await?;
    Ok(entry)
}

/// `post_once` as part of one statement (`db::write_at_once`), its guard number `n`: the
/// compare-and-set that moves the balance (a debit never below zero; a credit only to an
/// account that exists), the entry's insert, which records the balance the guard left, and the
/// entry (its `balance_after` unknown until then). The guard unmet, the statement stores
/// nothing and the caller's transaction path decides: it says there are too few points, or
/// makes the account.
pub fn post_at_once(
    posting: Posting,
    n: usize,
    now: DateTime<Utc>,
) -> (UpdateStatement, InsertStatement, points_entry::Model) {
    let guard = moved(posting.user_id, posting.amount, now).into_query();
    let entry = entry(posting, 0, now);
    let balance = (db::guarded(n), points_account::Column::Balance);
    let insert = db::insert_from_guarded(&entry, n, (points_entry::Column::BalanceAfter, balance));
    (guard, insert, entry)
}

fn entry(posting: Posting, balance_after: i64, now: DateTime<Utc>) -> points_entry::Model {
    points_entry::Model {
        id: Uuid::now_v7(),
        user_id: posting.user_id,
        kind: posting.kind,
        amount: posting.amount,
        balance_after,
        reference_type: posting.reference.map(|(kind, _)| kind.to_owned()),
        reference_id: posting.reference.map(|(_, id)| id),
        rate: posting.rate,
        reason: posting.reason,
        idempotency_key: posting.idempotency_key,
        created_by: posting.created_by,
        created_at: now,
    }
}

/// Moves the account's balance by `amount`, unless that would take it below zero.
fn moved(user_id: Uuid, amount: i64, now: DateTime<Utc>) -> UpdateMany<points_account::Entity> {
    use points_account::Column;
    let after = Expr::col((points_account::Entity, Column::Balance)).add(amount);
    points_account::Entity::update_many()
        .col_expr(Column::Balance, after.clone())
        .col_expr(Column::UpdatedAt, Expr::val(now))
        .filter(Column::UserId.eq(user_id))
        .filter(after.gte(0))
}

/// Moves the account's balance by `amount` and answers the balance after it, in one statement:
/// the row lock serialises concurrent postings, and a move that would take the balance below
/// zero changes nothing and answers `None`. A credit makes the account on first use.
async fn moved_balance(
    txn: &impl ConnectionTrait,
    user_id: Uuid,
    amount: i64,
    now: DateTime<Utc>,
) -> AppResult<Option<i64>> {
    use points_account::Column;
    let after = Expr::col((points_account::Entity, Column::Balance)).add(amount);
    let account = if amount >= 0 {
        let account = points_account::ActiveModel {
            user_id: Set(user_id),
            balance: Set(amount),
            updated_at: Set(now),
        };
        let add = OnConflict::column(Column::UserId)
            .values([
                (Column::Balance, after),
                (Column::UpdatedAt, Expr::val(now)),
            ])
            .to_owned();
        Some(
            points_account::Entity::insert(account)
                .on_conflict(add)
                .exec_with_returning(txn)
                .await?,
        )
    } else {
        moved(user_id, amount, now)
            .exec_with_returning(txn)
            .await?
            .pop()
    };
    Ok(account.map(|account| account.balance))
}

/// A page of the entries posted in `span` to the people who live in its communities (an
/// export).
pub async fn exported(
    db: &impl ConnectionTrait,
    span: &Span,
    after: Option<Uuid>,
) -> AppResult<Vec<points_entry::Model>> {
    let residents = Query::select()
        .column(user::Column::Id)
        .from(user::Entity)
        .and_where(user::Column::CommunityId.is_in(span.communities.iter().copied()))
        .to_owned();
    let select = points_entry::Entity::find()
        .filter(points_entry::Column::UserId.in_subquery(residents))
        .filter(points_entry::Column::CreatedAt.gte(span.from))
        .filter(points_entry::Column::CreatedAt.lt(span.to));
    export_page(db, select, points_entry::Column::Id, after).await
}

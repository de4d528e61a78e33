//! The append-only points ledger. `post` is the only code that changes a balance: it moves the
//! account's balance and appends the entry recording it in the caller's transaction, so the
//! balance is always the `balance_after` of the latest entry and the sum of all entries.
use chrono::Utc;
use entity::{enums::EntryKind, points_account, points_entry, user};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, OnConflict, Query},
};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    pagination::{Span, export_page},
};

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

/// Posts one entry. Must run inside a write transaction.
pub async fn post(txn: &impl ConnectionTrait, posting: Posting) -> AppResult<points_entry::Model> {
    if let Some(key) = &posting.idempotency_key
        && let Some(existing) = find_by_key(txn, key).await?
    {
        return Ok(existing);
    }
    let now = Utc::now();
    points_account::Entity::insert(points_account::ActiveModel {
        user_id: Set(posting.user_id),
        balance: Set(0),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(points_account::Column::UserId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    // Compare-and-set in one statement: the row lock serialises concurrent postings and the
    // WHERE clause refuses any that would take the balance below zero.
    let moved = points_account::Entity::update_many()
        .col_expr(
            points_account::Column::Balance,
            Expr::col(points_account::Column::Balance).add(posting.amount),
        )
        .col_expr(points_account::Column::UpdatedAt, Expr::value(now))
        .filter(points_account::Column::UserId.eq(posting.user_id))
        .filter(
            Expr::col(points_account::Column::Balance)
                .add(posting.amount)
                .gte(0),
        )
        .exec(txn)
        .await?;
    let balance_after = balance(txn, posting.user_id).await?;
    if moved.rows_affected != 1 {
        return Err(AppError::conflict(format!(
            "not enough points: the balance is {balance_after}, this needs {}",
            -posting.amount
        )));
    }
    Ok(points_entry::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(posting.user_id),
        kind: Set(posting.kind),
        amount: Set(posting.amount),
        balance_after: Set(balance_after),
        reference_type: Set(posting.reference.map(|(kind, _)| kind.to_owned())),
        reference_id: Set(posting.reference.map(|(_, id)| id)),
        rate: Set(posting.rate),
        reason: Set(posting.reason),
        idempotency_key: Set(posting.idempotency_key),
        created_by: Set(posting.created_by),
        created_at: Set(now),
    }
    .insert(txn)
    .await?)
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

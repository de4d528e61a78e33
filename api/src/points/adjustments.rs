//! Manual corrections (ADJUST entries) and the controls around them: nobody adjusts their own
//! points, STAFF adjust only people a community of theirs confirmed, each STAFF member's
//! daily total is capped (past it a second member must approve), and ADMIN can audit them all.
use chrono::Utc;
use entity::{
    adjustment_request,
    enums::{ApplicationStatus, EntryKind},
    points_entry, role_grant,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::{Moved, client_key, ledger, ledger::Posting, replay_or_post, rules};
use crate::{
    content::{Cleared, ContentGuard, Scene},
    error::{AppError, AppResult},
    identity::{self, Actor},
    infra::db::{begin_serialised, begin_write},
    pagination::{Page, PageRequest, fetch_page},
    validate,
};

const MAX_ADJUSTMENT: i64 = 100_000;
/// Most pending requests one listing shows.
const MAX_PENDING_LISTED: u64 = 100;

/// A correction as asked for, checked.
pub struct Correction {
    pub user_id: Uuid,
    pub amount: i64,
    pub reason: String,
}

impl Correction {
    pub fn parse(user_id: Uuid, amount: i64, reason: &str) -> AppResult<Self> {
        if amount == 0 || amount.abs() > MAX_ADJUSTMENT {
            return Err(AppError::bad_input(format!(
                "amount must be non-zero and at most {MAX_ADJUSTMENT} either way"
            )));
        }
        Ok(Self {
            user_id,
            amount,
            reason: validate::text("reason", reason, 1, 500)?,
        })
    }
}

/// Whether `actor` may change `user_id`'s points: never their own; ADMIN anyone's; STAFF the
/// points of people holding a role in a community they staff (RESIDENT there, granted by its
/// STAFF, confirms residence). The community a user picks in their profile grants nothing.
pub async fn may_manage_points_of(
    db: &DatabaseConnection,
    actor: &Actor,
    user_id: Uuid,
) -> AppResult<()> {
    if user_id == actor.id {
        return Err(AppError::forbidden(
            "you cannot change your own points: another STAFF member must",
        ));
    }
    identity::get_user(db, user_id).await?;
    if actor.roles.is_admin() {
        return Ok(());
    }
    let roles = identity::roles::roles_of(db, user_id).await?;
    if confirmed_by_a_community_of(actor, roles.grants().iter().map(|(_, c)| *c)) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only STAFF of a community that confirmed this person (a role there, or RESIDENT \
             granted by its STAFF) may change their points",
        ))
    }
}

/// Whether one of the communities of a user's grants is one `actor` staffs.
fn confirmed_by_a_community_of(
    actor: &Actor,
    mut communities: impl Iterator<Item = Option<Uuid>>,
) -> bool {
    communities.any(|community| community.is_some_and(|c| actor.roles.is_staff_of(c)))
}

/// Points `actor` has adjusted today (China time), either way.
async fn adjusted_today(db: &impl ConnectionTrait, actor: Uuid) -> AppResult<i64> {
    let amounts: Vec<i64> = points_entry::Entity::find()
        .select_only()
        .column(points_entry::Column::Amount)
        .filter(points_entry::Column::Kind.eq(EntryKind::Adjust))
        .filter(points_entry::Column::CreatedBy.eq(actor))
        .filter(points_entry::Column::CreatedAt.gte(rules::day_start(Utc::now())))
        .into_tuple()
        .all(db)
        .await?;
    Ok(amounts.iter().map(|amount| amount.abs()).sum())
}

/// Posts a correction at once, within the actor's daily cap; past it, refuses with
/// APPROVAL_REQUIRED (`request` files it for a second member instead). The day's total is read
/// in the transaction that posts, serialised per actor: concurrent corrections cannot each
/// see the total before the others.
pub async fn adjust(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    correction: Correction,
    idempotency_key: Option<String>,
    daily_cap: i64,
) -> AppResult<points_entry::Model> {
    may_manage_points_of(db, actor, correction.user_id).await?;
    let key = client_key(actor, "adjust", idempotency_key)?;
    let Correction {
        user_id,
        amount,
        reason,
    } = correction;
    let reason = content
        .clear(db, actor, Scene::Comment, "reason", reason)
        .await?;
    let moved = Moved {
        user_id,
        amount,
        counterpart: None,
    };
    replay_or_post(db, key.as_deref(), moved, async {
        let txn = begin_serialised(db, &format!("adjust:{}", actor.id)).await?;
        let today = adjusted_today(&txn, actor.id).await?;
        if today + amount.abs() > daily_cap {
            return Err(AppError::ApprovalRequired(format!(
                "you have adjusted {today} points today; past {daily_cap} another STAFF member \
                 must approve: use requestPointsAdjustment"
            )));
        }
        let reason = reason.record(&txn).await?;
        let entry = ledger::post(
            &txn,
            Posting {
                user_id,
                kind: EntryKind::Adjust,
                amount,
                reference: None,
                rate: None,
                reason: Some(reason),
                idempotency_key: key.clone(),
                created_by: Some(actor.id),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(entry)
    })
    .await
}

/// Files a correction for a second STAFF member's decision.
pub async fn request(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    correction: Correction,
) -> AppResult<adjustment_request::Model> {
    may_manage_points_of(db, actor, correction.user_id).await?;
    let reason = content
        .clear(db, actor, Scene::Comment, "reason", correction.reason)
        .await?;
    let txn = begin_write(db).await?;
    let request = adjustment_request::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(correction.user_id),
        amount: Set(correction.amount),
        reason: Set(reason.record(&txn).await?),
        status: Set(ApplicationStatus::Pending),
        requested_by: Set(actor.id),
        decided_by: Set(None),
        decision_reason: Set(None),
        entry_id: Set(None),
        created_at: Set(Utc::now()),
        decided_at: Set(None),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(request)
}

/// A second STAFF member approves (posting the ADJUST entry, on the requester's name) or
/// rejects a pending request, once: the status moves by compare-and-set in the transaction
/// that posts the entry.
pub async fn decide(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    request_id: Uuid,
    approve: bool,
    reason: Option<String>,
) -> AppResult<adjustment_request::Model> {
    let reason = validate::optional_text("reason", reason.as_deref(), 500)?;
    if !approve && reason.is_none() {
        return Err(AppError::bad_input("a reason is required to reject"));
    }
    let request = adjustment_request::Entity::find_by_id(request_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("adjustment request"))?;
    if request.requested_by == actor.id {
        return Err(AppError::forbidden(
            "a second STAFF member must decide on your request",
        ));
    }
    may_manage_points_of(db, actor, request.user_id).await?;
    if request.status != ApplicationStatus::Pending {
        return Err(AppError::conflict("this request was already decided"));
    }
    let reason = content
        .clear_optional(db, actor, Scene::Comment, "reason", reason)
        .await?;
    let txn = begin_write(db).await?;
    let reason = Cleared::record_optional(reason, &txn).await?;
    let entry_id = if approve {
        let entry = ledger::post(
            &txn,
            Posting {
                user_id: request.user_id,
                kind: EntryKind::Adjust,
                amount: request.amount,
                reference: Some(("adjustment_request", request.id)),
                rate: None,
                reason: Some(request.reason.clone()),
                idempotency_key: Some(format!("adjustment-request:{}", request.id)),
                created_by: Some(request.requested_by),
            },
        )
        .await?;
        Some(entry.id)
    } else {
        None
    };
    let status = if approve {
        ApplicationStatus::Approved
    } else {
        ApplicationStatus::Rejected
    };
    let decided = adjustment_request::Entity::update_many()
        .set(adjustment_request::ActiveModel {
            status: Set(status),
            decided_by: Set(Some(actor.id)),
            decision_reason: Set(reason),
            entry_id: Set(entry_id),
            decided_at: Set(Some(Utc::now())),
            ..Default::default()
        })
        .filter(adjustment_request::Column::Id.eq(request.id))
        .filter(adjustment_request::Column::Status.eq(ApplicationStatus::Pending))
        .exec(&txn)
        .await?;
    if decided.rows_affected != 1 {
        return Err(AppError::conflict("this request was already decided"));
    }
    txn.commit().await?;
    adjustment_request::Entity::find_by_id(request.id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("adjustment request"))
}

/// Pending requests `actor` may decide (never their own), oldest first.
pub async fn pending(
    db: &DatabaseConnection,
    actor: &Actor,
) -> AppResult<Vec<adjustment_request::Model>> {
    if !actor.roles.is_staff_anywhere() {
        return Err(AppError::forbidden("only STAFF decide adjustment requests"));
    }
    let mut requests = adjustment_request::Entity::find()
        .filter(adjustment_request::Column::Status.eq(ApplicationStatus::Pending))
        .filter(adjustment_request::Column::RequestedBy.ne(actor.id))
        .filter(adjustment_request::Column::UserId.ne(actor.id))
        .order_by_asc(adjustment_request::Column::Id)
        .limit(MAX_PENDING_LISTED)
        .all(db)
        .await?;
    if actor.roles.is_admin() {
        return Ok(requests);
    }
    // The grants of every requested user in one query, not one per request.
    let grants = role_grant::Entity::find()
        .filter(role_grant::Column::UserId.is_in(requests.iter().map(|r| r.user_id)))
        .all(db)
        .await?;
    requests.retain(|request| {
        let communities = grants
            .iter()
            .filter(|grant| grant.user_id == request.user_id)
            .map(|grant| grant.community_id);
        confirmed_by_a_community_of(actor, communities)
    });
    Ok(requests)
}

/// ADMIN's audit of every manual adjustment, newest first.
pub async fn audit(
    db: &DatabaseConnection,
    actor: &Actor,
    page: PageRequest,
) -> AppResult<Page<points_entry::Model>> {
    if !actor.roles.is_admin() {
        return Err(AppError::forbidden("only ADMIN audits adjustments"));
    }
    let select =
        points_entry::Entity::find().filter(points_entry::Column::Kind.eq(EntryKind::Adjust));
    fetch_page(db, select, points_entry::Column::Id, page).await
}

//! Real attendance at volunteer activities: who signed up and had not checked in when the
//! activity ended becomes a NO_SHOW; repeated no-shows in a community hold back that person's
//! sign-ups there for a while (`NO_SHOW_LIMIT`, `NO_SHOW_HOLD_DAYS`), until STAFF lift it; the
//! organiser's roster. Check-in on site is in `activities::record_attendance`.
use chrono::{DateTime, Duration, Utc};
use entity::{
    activity, activity_signup, enums::SignupStatus, service_record, signup_hold_lift, user,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait, Query},
};
use uuid::Uuid;

use super::activities;
use crate::{
    content::{ContentGuard, Scene},
    error::{AppError, AppResult},
    identity::{Actor, users},
    values::{china_time, mask_phone},
};

/// No-shows older than this no longer count towards a hold.
pub const NO_SHOW_WINDOW: Duration = Duration::days(90);

/// When repeated no-shows hold back someone's sign-ups.
#[derive(Debug, Clone, Copy)]
pub struct NoShowPolicy {
    /// This many no-shows in a community within `NO_SHOW_WINDOW` (since the last lift) hold…
    pub limit: usize,
    /// …sign-ups there for this long after the last of them ended.
    pub hold: Duration,
}

impl NoShowPolicy {
    /// Until when sign-ups are held, given when someone's no-shows in a community ended and
    /// when STAFF last lifted a hold there; `None` when they may sign up.
    pub fn held_until(
        self,
        no_shows: &[DateTime<Utc>],
        lifted_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let since = lifted_at.map_or(now - NO_SHOW_WINDOW, |lifted| {
            Ord::max(lifted, now - NO_SHOW_WINDOW)
        });
        let counted: Vec<_> = no_shows.iter().filter(|end| **end > since).collect();
        if counted.len() < self.limit {
            return None;
        }
        let until = **counted.iter().max()? + self.hold;
        (until > now).then_some(until)
    }
}

/// Marks NO_SHOW every sign-up of an activity that is over with no check-in and no confirmed
/// time; a job, idempotent, safe on every instance (the status is the guard).
pub async fn mark_no_shows(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<u64> {
    let ended = Query::select()
        .column(activity::Column::Id)
        .from(activity::Entity)
        .and_where(activity::Column::EndsAt.lte(now))
        .to_owned();
    // STAFF may confirm someone's time who never scanned in: they came.
    let confirmed = Query::select()
        .expr(Expr::val(1))
        .from(service_record::Entity)
        .and_where(
            Expr::col((service_record::Entity, service_record::Column::ActivityId))
                .equals((activity_signup::Entity, activity_signup::Column::ActivityId)),
        )
        .and_where(
            Expr::col((service_record::Entity, service_record::Column::UserId))
                .equals((activity_signup::Entity, activity_signup::Column::UserId)),
        )
        .to_owned();
    let marked = activity_signup::Entity::update_many()
        .col_expr(
            activity_signup::Column::Status,
            Expr::value(SignupStatus::NoShow),
        )
        .filter(activity_signup::Column::Status.eq(SignupStatus::SignedUp))
        .filter(activity_signup::Column::CheckedInAt.is_null())
        .filter(activity_signup::Column::ActivityId.in_subquery(ended))
        .filter(Expr::exists(confirmed).not())
        .exec(db)
        .await?;
    Ok(marked.rows_affected)
}

/// Until when `user_id`'s sign-ups in `community_id` are held, if they are.
pub async fn held_until(
    db: &impl ConnectionTrait,
    policy: NoShowPolicy,
    user_id: Uuid,
    community_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Option<DateTime<Utc>>> {
    let lifted_at = signup_hold_lift::Entity::find()
        .select_only()
        .column(signup_hold_lift::Column::CreatedAt)
        .filter(signup_hold_lift::Column::UserId.eq(user_id))
        .filter(signup_hold_lift::Column::CommunityId.eq(community_id))
        .order_by_desc(signup_hold_lift::Column::CreatedAt)
        .into_tuple::<DateTime<Utc>>()
        .one(db)
        .await?;
    let no_shows = Query::select()
        .column(activity_signup::Column::ActivityId)
        .from(activity_signup::Entity)
        .and_where(activity_signup::Column::UserId.eq(user_id))
        .and_where(activity_signup::Column::Status.eq(SignupStatus::NoShow))
        .to_owned();
    let ends: Vec<DateTime<Utc>> = activity::Entity::find()
        .select_only()
        .column(activity::Column::EndsAt)
        .filter(activity::Column::CommunityId.eq(community_id))
        .filter(activity::Column::EndsAt.gt(now - NO_SHOW_WINDOW))
        .filter(activity::Column::Id.in_subquery(no_shows))
        .into_tuple()
        .all(db)
        .await?;
    Ok(policy.held_until(&ends, lifted_at, now))
}

/// Until when someone's sign-ups in a community are held: the caller's own, or (STAFF of the
/// community) anyone's.
pub async fn hold_of(
    db: &DatabaseConnection,
    policy: NoShowPolicy,
    actor: &Actor,
    community_id: Uuid,
    user_id: Option<Uuid>,
) -> AppResult<Option<DateTime<Utc>>> {
    let user_id = user_id.unwrap_or(actor.id);
    if user_id != actor.id && !actor.roles.is_staff_of(community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community see others' holds",
        ));
    }
    held_until(db, policy, user_id, community_id, Utc::now()).await
}

/// The refusal a held sign-up gets.
pub fn held(policy: NoShowPolicy, until: DateTime<Utc>) -> AppError {
    AppError::conflict(format!(
        "after {} no-shows, your sign-ups in this community are held until {}; the community's \
         STAFF can lift this",
        policy.limit,
        china_time::date_of(until)
    ))
}

/// STAFF lift the hold on someone's sign-ups in their community, with a reason; their earlier
/// no-shows no longer count.
pub async fn lift_hold(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    community_id: Uuid,
    user_id: Uuid,
    reason: String,
) -> AppResult<signup_hold_lift::Model> {
    if !actor.roles.is_staff_of(community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community lift holds on its sign-ups",
        ));
    }
    let reason = crate::validate::text("reason", &reason, 1, 200)?;
    let reason = content
        .clear(db, actor, Scene::Comment, "reason", reason)
        .await?;
    let txn = crate::infra::db::begin_write(db).await?;
    user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let lift = signup_hold_lift::ActiveModel {
        id: Set(Uuid::now_v7()),
        community_id: Set(community_id),
        user_id: Set(user_id),
        lifted_by: Set(actor.id),
        reason: Set(reason.record(&txn).await?),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(lift)
}

/// One line of an activity's roster.
pub struct RosterLine {
    pub name: Option<String>,
    /// Masked: the roster is printed and handed round.
    pub phone: Option<String>,
    pub status: SignupStatus,
    pub signed_up_at: DateTime<Utc>,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub checked_out_at: Option<DateTime<Utc>>,
    pub confirmed_minutes: Option<i32>,
}

/// STAFF of its community: an activity's sign-ups (at most its capacity, 10,000), in the
/// order they signed up, with attendance and confirmed time.
pub async fn roster(
    db: &DatabaseConnection,
    actor: &Actor,
    activity_id: Uuid,
) -> AppResult<(activity::Model, Vec<RosterLine>)> {
    let activity = activities::get(db, activity_id).await?;
    if !actor.roles.is_staff_of(activity.community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community may read an activity's roster",
        ));
    }
    let signups = activity_signup::Entity::find()
        .filter(activity_signup::Column::ActivityId.eq(activity_id))
        .order_by_asc(activity_signup::Column::Id)
        .all(db)
        .await?;
    let people = users::by_ids(db, signups.iter().map(|s| s.user_id).collect::<Vec<_>>()).await?;
    let minutes: std::collections::HashMap<Uuid, i32> = service_record::Entity::find()
        .select_only()
        .column(service_record::Column::UserId)
        .column(service_record::Column::Minutes)
        .filter(service_record::Column::ActivityId.eq(activity_id))
        .into_tuple::<(Uuid, i32)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let lines = signups
        .into_iter()
        .map(|signup| {
            let person = people.get(&signup.user_id);
            RosterLine {
                name: person.and_then(|p| p.name.clone()),
                phone: person.and_then(|p| p.phone.as_deref().map(mask_phone)),
                status: signup.status,
                signed_up_at: signup.created_at,
                checked_in_at: signup.checked_in_at,
                checked_out_at: signup.checked_out_at,
                confirmed_minutes: minutes.get(&signup.user_id).copied(),
            }
        })
        .collect();
    Ok((activity, lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: NoShowPolicy = NoShowPolicy {
        limit: 3,
        hold: Duration::days(30),
    };

    fn days_ago(now: DateTime<Utc>, days: i64) -> DateTime<Utc> {
        now - Duration::days(days)
    }

    #[test]
    fn fewer_no_shows_than_the_limit_hold_nothing() {
        let now = Utc::now();
        let two = [days_ago(now, 1), days_ago(now, 2)];
        assert_eq!(POLICY.held_until(&two, None, now), None);
    }

    #[test]
    fn the_limit_holds_sign_ups_from_the_last_no_show_for_the_hold() {
        let now = Utc::now();
        let three = [days_ago(now, 20), days_ago(now, 2), days_ago(now, 10)];
        assert_eq!(
            POLICY.held_until(&three, None, now),
            Some(days_ago(now, 2) + Duration::days(30))
        );
    }

    #[test]
    fn a_hold_ends_by_itself() {
        let now = Utc::now();
        let three = [days_ago(now, 40), days_ago(now, 35), days_ago(now, 31)];
        assert_eq!(POLICY.held_until(&three, None, now), None);
    }

    #[test]
    fn no_shows_outside_the_window_do_not_count() {
        let now = Utc::now();
        let old = [days_ago(now, 100), days_ago(now, 95), days_ago(now, 1)];
        assert_eq!(POLICY.held_until(&old, None, now), None);
    }

    #[test]
    fn a_lift_forgives_the_no_shows_before_it() {
        let now = Utc::now();
        let three = [days_ago(now, 5), days_ago(now, 4), days_ago(now, 3)];
        assert_eq!(POLICY.held_until(&three, Some(days_ago(now, 1)), now), None);
        let after = [days_ago(now, 5), days_ago(now, 4), days_ago(now, 3)];
        assert!(
            POLICY
                .held_until(&after, Some(days_ago(now, 6)), now)
                .is_some()
        );
    }
}

//! Volunteer activities (志愿活动): sign-up within capacity (unless no-shows hold it back:
//! `attendance`), check-in/out (on site when the activity says so), confirmed attendance.
use chrono::{DateTime, Duration, Utc};
use entity::{
    activity, activity_signup,
    enums::{ServiceSource, SignupStatus},
    service_record,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    attendance::{self, NoShowPolicy},
    records::{self, MAX_RECORD_MINUTES, NewRecord},
};
use crate::{
    codes::{CodeFor, MiniProgramCodes},
    content::{ContentGuard, Scene},
    error::{AppError, AppResult},
    identity::Actor,
    infra::db::begin_write,
    notify::inbox,
    notify::notifications::{Audience, Notification, NotificationKind},
    organisation,
    pagination::{Page, PageRequest, fetch_page},
    validate,
    values::geo::{Point, distance_meters},
};

/// Volunteers are reminded of an activity once it starts within this long.
const REMINDED_BEFORE: Duration = Duration::hours(24);

/// Files a reminder (the day before) for everyone signed up to an activity that starts soon;
/// the delivery worker sends it on. Safe to run on every instance, as often as wanted: the
/// reminder of an activity has one id, and an inbox takes a notification once.
pub async fn remind_upcoming(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<usize> {
    let soon = activity::Entity::find()
        .filter(activity::Column::StartsAt.gt(now))
        .filter(activity::Column::StartsAt.lte(now + REMINDED_BEFORE))
        .all(db)
        .await?;
    let mut reminders = Vec::new();
    for activity in soon {
        let people: Vec<Uuid> = activity_signup::Entity::find()
            .filter(activity_signup::Column::ActivityId.eq(activity.id))
            .filter(activity_signup::Column::Status.eq(SignupStatus::SignedUp))
            .all(db)
            .await?
            .into_iter()
            .map(|signup| signup.user_id)
            .collect();
        if people.is_empty() {
            continue;
        }
        let digest = Sha256::digest(format!("activity-reminder:{}", activity.id).as_bytes());
        let id = Uuid::from_slice(&digest[..16]).map_err(AppError::internal)?;
        reminders.push(Notification {
            id,
            ..Notification::new(
                NotificationKind::ActivityReminder,
                format!("志愿活动提醒: {} ({})", activity.title, activity.place),
                Audience {
                    users: people,
                    ..Audience::default()
                },
            )
        });
    }
    inbox::file(db, &reminders).await?;
    Ok(reminders.len())
}

/// Check-in opens this long before the start.
const CHECK_IN_OPENS_BEFORE: Duration = Duration::hours(1);

pub struct NewActivity {
    pub community_id: Uuid,
    pub title: String,
    pub description: String,
    pub place: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub capacity: i32,
    pub points_per_hour_override: Option<i32>,
    /// Where check-in happens and within how many meters of it a volunteer checking
    /// themselves in must be; `None`: anywhere (the poster's 小程序码 still brings them).
    pub check_in_at: Option<(Point, i32)>,
}

/// How close to an activity's place check-in may require, in meters.
const CHECK_IN_RADIUS: std::ops::RangeInclusive<i32> = 20..=5000;

pub async fn create(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    new: NewActivity,
) -> AppResult<activity::Model> {
    if !actor.roles.is_staff_of(new.community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community may create its activities",
        ));
    }
    organisation::get_community(db, new.community_id).await?;
    if new.ends_at <= new.starts_at {
        return Err(AppError::bad_input("endsAt must be after startsAt"));
    }
    if !(1..=10_000).contains(&new.capacity) {
        return Err(AppError::bad_input("capacity must be between 1 and 10000"));
    }
    if new
        .points_per_hour_override
        .is_some_and(|rate| !(1..=1000).contains(&rate))
    {
        return Err(AppError::bad_input(
            "pointsPerHourOverride must be between 1 and 1000",
        ));
    }
    if let Some((_, radius)) = new.check_in_at
        && !CHECK_IN_RADIUS.contains(&radius)
    {
        return Err(AppError::bad_input(format!(
            "checkInRadiusMeters is between {} and {}",
            CHECK_IN_RADIUS.start(),
            CHECK_IN_RADIUS.end()
        )));
    }
    let texts = [
        ("title", validate::text("title", &new.title, 1, 100)?),
        (
            "description",
            validate::text("description", &new.description, 0, validate::LONGEST_TEXT)?,
        ),
        ("place", validate::text("place", &new.place, 1, 200)?),
    ];
    let [title, description, place] = content.clear_all(db, actor, Scene::Forum, texts).await?;
    let txn = begin_write(db).await?;
    let activity = activity::ActiveModel {
        id: Set(Uuid::now_v7()),
        community_id: Set(new.community_id),
        title: Set(title.record(&txn).await?),
        description: Set(description.record(&txn).await?),
        place: Set(place.record(&txn).await?),
        starts_at: Set(new.starts_at),
        ends_at: Set(new.ends_at),
        capacity: Set(new.capacity),
        signed_up: Set(0),
        points_per_hour_override: Set(new.points_per_hour_override),
        latitude: Set(new.check_in_at.map(|(place, _)| place.latitude)),
        longitude: Set(new.check_in_at.map(|(place, _)| place.longitude)),
        check_in_radius_meters: Set(new.check_in_at.map(|(_, radius)| radius)),
        created_by: Set(actor.id),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(activity)
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> AppResult<activity::Model> {
    activity::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("activity"))
}

pub async fn signup_of(
    db: &impl ConnectionTrait,
    activity_id: Uuid,
    user_id: Uuid,
) -> AppResult<Option<activity_signup::Model>> {
    Ok(activity_signup::Entity::find()
        .filter(activity_signup::Column::ActivityId.eq(activity_id))
        .filter(activity_signup::Column::UserId.eq(user_id))
        .one(db)
        .await?)
}

pub async fn sign_up(
    db: &DatabaseConnection,
    no_shows: NoShowPolicy,
    actor: &Actor,
    activity_id: Uuid,
) -> AppResult<activity_signup::Model> {
    let txn = begin_write(db).await?;
    let activity = get(&txn, activity_id).await?;
    let now = Utc::now();
    if activity.ends_at <= now {
        return Err(AppError::conflict("this activity is over"));
    }
    if let Some(until) =
        attendance::held_until(&txn, no_shows, actor.id, activity.community_id, now).await?
    {
        return Err(attendance::held(no_shows, until));
    }
    let existing = signup_of(&txn, activity_id, actor.id).await?;
    if existing
        .as_ref()
        .is_some_and(|s| s.status == SignupStatus::SignedUp)
    {
        return Err(AppError::conflict("you are already signed up"));
    }
    // Take a place only while one is free, in one statement: capacity holds under any race.
    let placed = activity::Entity::update_many()
        .col_expr(
            activity::Column::SignedUp,
            Expr::col(activity::Column::SignedUp).add(1),
        )
        .filter(activity::Column::Id.eq(activity_id))
        .filter(Expr::col(activity::Column::SignedUp).lt(Expr::col(activity::Column::Capacity)))
        .exec(&txn)
        .await?;
    if placed.rows_affected != 1 {
        return Err(AppError::conflict("this activity is full"));
    }
    let signup = match existing {
        Some(cancelled) => {
            let mut signup: activity_signup::ActiveModel = cancelled.into();
            signup.status = Set(SignupStatus::SignedUp);
            signup.update(&txn).await?
        }
        None => {
            activity_signup::ActiveModel {
                id: Set(Uuid::now_v7()),
                activity_id: Set(activity_id),
                user_id: Set(actor.id),
                status: Set(SignupStatus::SignedUp),
                checked_in_at: Set(None),
                checked_out_at: Set(None),
                created_at: Set(Utc::now()),
            }
            .insert(&txn)
            .await?
        }
    };
    txn.commit().await?;
    Ok(signup)
}

pub async fn cancel_sign_up(
    db: &DatabaseConnection,
    actor: &Actor,
    activity_id: Uuid,
) -> AppResult<activity_signup::Model> {
    let txn = begin_write(db).await?;
    let signup = signup_of(&txn, activity_id, actor.id)
        .await?
        .filter(|s| s.status == SignupStatus::SignedUp)
        .ok_or_else(|| AppError::conflict("you are not signed up for this activity"))?;
    if signup.checked_in_at.is_some() {
        return Err(AppError::conflict(
            "you already checked in; ask STAFF instead",
        ));
    }
    let cancelled = activity_signup::Entity::update_many()
        .col_expr(
            activity_signup::Column::Status,
            Expr::value(SignupStatus::Cancelled),
        )
        .filter(activity_signup::Column::Id.eq(signup.id))
        .filter(activity_signup::Column::Status.eq(SignupStatus::SignedUp))
        .exec(&txn)
        .await?;
    if cancelled.rows_affected != 1 {
        return Err(AppError::conflict(
            "you are not signed up for this activity",
        ));
    }
    activity::Entity::update_many()
        .col_expr(
            activity::Column::SignedUp,
            Expr::col(activity::Column::SignedUp).sub(1),
        )
        .filter(activity::Column::Id.eq(activity_id))
        .exec(&txn)
        .await?;
    let signup = signup_of(&txn, activity_id, actor.id)
        .await?
        .ok_or(AppError::NotFound("sign-up"))?;
    txn.commit().await?;
    Ok(signup)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attendance {
    CheckIn,
    CheckOut,
}

/// Checks the participant in or out; `participant` other than the actor needs STAFF. Someone
/// checking themselves in to an activity with a check-in radius must be `here`, within it.
pub async fn record_attendance(
    db: &DatabaseConnection,
    actor: &Actor,
    activity_id: Uuid,
    participant: Option<Uuid>,
    step: Attendance,
    here: Option<Point>,
) -> AppResult<activity_signup::Model> {
    let txn = begin_write(db).await?;
    let activity = get(&txn, activity_id).await?;
    let participant = participant.unwrap_or(actor.id);
    if participant != actor.id && !actor.roles.is_staff_of(activity.community_id) {
        return Err(AppError::forbidden(
            "only STAFF may record attendance for someone else",
        ));
    }
    let now = Utc::now();
    if now < activity.starts_at - CHECK_IN_OPENS_BEFORE {
        return Err(AppError::conflict(
            "check-in opens one hour before the activity starts",
        ));
    }
    if step == Attendance::CheckIn && now >= activity.ends_at {
        return Err(AppError::conflict("this activity is over"));
    }
    if step == Attendance::CheckIn && participant == actor.id {
        on_site(&activity, here)?;
    }
    let signup = signup_of(&txn, activity_id, participant)
        .await?
        .filter(|s| s.status == SignupStatus::SignedUp)
        .ok_or_else(|| AppError::conflict("not signed up for this activity"))?;
    let mut change: activity_signup::ActiveModel = signup.clone().into();
    match step {
        Attendance::CheckIn if signup.checked_in_at.is_some() => {
            return Err(AppError::conflict("already checked in"));
        }
        Attendance::CheckIn => change.checked_in_at = Set(Some(now)),
        Attendance::CheckOut if signup.checked_in_at.is_none() => {
            return Err(AppError::conflict("check in first"));
        }
        Attendance::CheckOut if signup.checked_out_at.is_some() => {
            return Err(AppError::conflict("already checked out"));
        }
        Attendance::CheckOut => change.checked_out_at = Set(Some(now)),
    }
    let signup = change.update(&txn).await?;
    txn.commit().await?;
    Ok(signup)
}

/// Whether a volunteer `here` may check themselves in to `activity`.
fn on_site(activity: &activity::Model, here: Option<Point>) -> AppResult<()> {
    let (Some(latitude), Some(longitude), Some(radius)) = (
        activity.latitude,
        activity.longitude,
        activity.check_in_radius_meters,
    ) else {
        return Ok(());
    };
    let here = here.ok_or_else(|| {
        AppError::bad_input("this activity checks in on site: send your location")
    })?;
    let distance = distance_meters(here, Point::parse(latitude, longitude)?);
    if distance > f64::from(radius) {
        return Err(AppError::bad_input(format!(
            "you are {distance:.0} m from the activity (check-in is within {radius} m of it)"
        )));
    }
    Ok(())
}

/// STAFF: the 小程序码 volunteers scan at the activity to check in.
pub async fn check_in_code(
    db: &DatabaseConnection,
    codes: &MiniProgramCodes,
    actor: &Actor,
    activity_id: Uuid,
) -> AppResult<String> {
    let activity = get(db, activity_id).await?;
    if !actor.roles.is_staff_of(activity.community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community may print its activities' check-in codes",
        ));
    }
    codes.link(CodeFor::ActivityCheckIn(activity.id)).await
}

/// STAFF confirm someone's time at an activity: a CONFIRMED record and its points, once.
pub async fn confirm_attendance(
    db: &DatabaseConnection,
    actor: &Actor,
    activity_id: Uuid,
    participant: Uuid,
    minutes: i32,
) -> AppResult<service_record::Model> {
    if !(1..=MAX_RECORD_MINUTES).contains(&minutes) {
        return Err(AppError::bad_input(format!(
            "minutes must be between 1 and {MAX_RECORD_MINUTES}"
        )));
    }
    let txn = begin_write(db).await?;
    let activity = get(&txn, activity_id).await?;
    if !actor.roles.is_staff_of(activity.community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community may confirm attendance",
        ));
    }
    if participant == actor.id {
        return Err(AppError::forbidden(
            "you cannot confirm your own attendance: another STAFF member must",
        ));
    }
    let signup = signup_of(&txn, activity_id, participant)
        .await?
        .filter(|s| matches!(s.status, SignupStatus::SignedUp | SignupStatus::NoShow))
        .ok_or_else(|| AppError::bad_input("this person is not signed up for the activity"))?;
    if signup.status == SignupStatus::NoShow {
        // They came without checking in: STAFF's word corrects the no-show.
        let mut corrected: activity_signup::ActiveModel = signup.into();
        corrected.status = Set(SignupStatus::SignedUp);
        corrected.update(&txn).await?;
    }
    let already = service_record::Entity::find()
        .filter(service_record::Column::ActivityId.eq(activity_id))
        .filter(service_record::Column::UserId.eq(participant))
        .one(&txn)
        .await?;
    if already.is_some() {
        return Err(AppError::conflict("attendance was already confirmed"));
    }
    let new = NewRecord {
        user_id: participant,
        community_id: activity.community_id,
        source: ServiceSource::Activity,
        order_id: None,
        activity_id: Some(activity_id),
        wish_id: None,
        minutes,
    };
    let record = records::create(&txn, new, Some(Some(actor.id))).await?;
    txn.commit().await?;
    Ok(record)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Upcoming,
    Past,
}

/// A community's activities, newest first; `Upcoming` = not yet over.
pub async fn list(
    db: &DatabaseConnection,
    community_id: Uuid,
    when: When,
    page: PageRequest,
) -> AppResult<Page<activity::Model>> {
    let now = Utc::now();
    let select = activity::Entity::find()
        .filter(activity::Column::CommunityId.eq(community_id))
        .filter(match when {
            When::Upcoming => activity::Column::EndsAt.gt(now),
            When::Past => activity::Column::EndsAt.lte(now),
        });
    fetch_page(db, select, activity::Column::Id, page).await
}

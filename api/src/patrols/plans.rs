//! Patrol plans: STAFF say which of a grid's points are patrolled every how many days, in
//! which daily window (China time); the job `patrol-plans` files each due day's patrol for
//! the grid's worker then, exactly once: the plan's next day moves on with a compare-and-set in
//! the transaction that files the patrol.
use chrono::{DateTime, Days, NaiveDate, Utc};
use entity::patrol_plan;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    sea_query::Expr,
};
use uuid::Uuid;

use super::{file, may_manage, points_of_grid};
use crate::{
    error::{AppError, AppResult, causes},
    identity::Actor,
    infra::db::begin_write,
    organisation::get_grid,
    values::china_time::{date_of, start_of},
};

pub struct NewPlan {
    pub grid_id: Uuid,
    pub point_ids: Vec<Uuid>,
    pub every_days: i32,
    /// `HH:MM`, China time.
    pub window_starts: String,
    pub window_minutes: i32,
    pub first_day: NaiveDate,
}

/// Minutes after midnight of an `HH:MM` time of day.
pub fn minute_of_day(field: &str, value: &str) -> AppResult<i32> {
    let refused = || AppError::bad_input(format!("{field} is a time of day like 08:30"));
    let (hours, minutes) = value.trim().split_once(':').ok_or_else(refused)?;
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if !(1..=2).contains(&hours.len()) || minutes.len() != 2 || !digits(hours) || !digits(minutes) {
        return Err(refused());
    }
    let (hours, minutes): (i32, i32) = (
        hours.parse().map_err(|_| refused())?,
        minutes.parse().map_err(|_| refused())?,
    );
    if !(0..24).contains(&hours) || !(0..60).contains(&minutes) {
        return Err(refused());
    }
    Ok(hours * 60 + minutes)
}

/// The window of a plan's patrol on `day`.
pub fn window_on(plan: &patrol_plan::Model, day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let starts = start_of(day) + chrono::Duration::minutes(i64::from(plan.window_start_minute));
    (
        starts,
        starts + chrono::Duration::minutes(i64::from(plan.window_minutes)),
    )
}

/// STAFF plan a grid's patrols.
pub async fn add(
    db: &DatabaseConnection,
    actor: &Actor,
    new: NewPlan,
) -> AppResult<patrol_plan::Model> {
    let grid = get_grid(db, new.grid_id).await?;
    may_manage(actor, grid.community_id)?;
    if !(1..=31).contains(&new.every_days) {
        return Err(AppError::bad_input("everyDays is between 1 and 31"));
    }
    if !(30..=1440).contains(&new.window_minutes) {
        return Err(AppError::bad_input("windowMinutes is between 30 and 1440"));
    }
    let window_start_minute = minute_of_day("windowStarts", &new.window_starts)?;
    if new.first_day < date_of(Utc::now()) {
        return Err(AppError::bad_input("firstDay is today or later"));
    }
    let point_ids = points_of_grid(db, grid.id, new.point_ids).await?;
    Ok(patrol_plan::ActiveModel {
        id: Set(Uuid::now_v7()),
        community_id: Set(grid.community_id),
        grid_id: Set(grid.id),
        point_ids: Set(serde_json::json!(point_ids)),
        every_days: Set(new.every_days),
        window_start_minute: Set(window_start_minute),
        window_minutes: Set(new.window_minutes),
        next_day: Set(new.first_day),
        active: Set(true),
        created_by: Set(actor.id),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?)
}

/// The plan's next day after `day`: the first of its days after today when the job was away
/// for longer (a patrol nobody could walk any more is not filed after the fact).
fn after(plan: &patrol_plan::Model, day: NaiveDate, today: NaiveDate) -> NaiveDate {
    let every = Days::new(plan.every_days.max(1) as u64);
    let mut next = day + every;
    while next <= today {
        next = next + every;
    }
    next
}

/// The job `patrol-plans`: files today's patrol of every plan due, once. A plan whose grid has
/// no worker moves on without one, and says so in the log.
pub async fn file_due(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<u64> {
    let today = date_of(now);
    let due = patrol_plan::Entity::find()
        .filter(patrol_plan::Column::Active.eq(true))
        .filter(patrol_plan::Column::NextDay.lte(today))
        .all(db)
        .await?;
    let mut filed = 0;
    for plan in due {
        let txn = begin_write(db).await?;
        // Only one instance moves a plan on from a day; the others find it moved.
        let moved = patrol_plan::Entity::update_many()
            .col_expr(
                patrol_plan::Column::NextDay,
                Expr::value(after(&plan, plan.next_day, today)),
            )
            .filter(patrol_plan::Column::Id.eq(plan.id))
            .filter(patrol_plan::Column::NextDay.eq(plan.next_day))
            .exec(&txn)
            .await?;
        if moved.rows_affected != 1 {
            continue;
        }
        // After days away the job only catches up to the plan's next day.
        let on_plan_day =
            (today - plan.next_day).num_days() % i64::from(plan.every_days.max(1)) == 0;
        if !on_plan_day {
            txn.commit().await?;
            continue;
        }
        let grid = get_grid(&txn, plan.grid_id).await?;
        let Some(worker) = grid.worker_id.filter(|_| grid.archived_at.is_none()) else {
            tracing::warn!(plan = %plan.id, grid = %grid.id, "a planned patrol was not filed: the grid has no worker");
            txn.commit().await?;
            continue;
        };
        let points: Vec<Uuid> = serde_json::from_value(plan.point_ids.clone()).unwrap_or_default();
        match file(
            &txn,
            &grid,
            worker,
            points,
            window_on(&plan, today),
            plan.created_by,
        )
        .await
        {
            Ok(_) => {
                txn.commit().await?;
                filed += 1;
            }
            Err(error) => {
                tracing::warn!(plan = %plan.id, error = %causes(&error), "a planned patrol was not filed");
            }
        }
    }
    Ok(filed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(every_days: i32) -> patrol_plan::Model {
        patrol_plan::Model {
            id: Uuid::nil(),
            community_id: Uuid::nil(),
            grid_id: Uuid::nil(),
            point_ids: serde_json::json!([]),
            every_days,
            window_start_minute: 8 * 60 + 30,
            window_minutes: 120,
            next_day: NaiveDate::from_ymd_opt(2026, 12, 1).expect("day"),
            active: true,
            created_by: Uuid::nil(),
            created_at: Utc::now(),
        }
    }

    #[test]
    fn a_time_of_day_reads_as_minutes_after_midnight() {
        assert_eq!(minute_of_day("t", "08:30").expect("time"), 510);
        assert_eq!(minute_of_day("t", "0:05").expect("time"), 5);
        for bad in ["24:00", "08:60", "8", "08:5x", "", "08:030"] {
            assert!(minute_of_day("t", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_window_starts_at_its_time_in_china() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 7).expect("day");
        let (starts, ends) = window_on(&plan(7), day);
        assert_eq!(starts.to_rfc3339(), "2026-12-07T00:30:00+00:00");
        assert_eq!(ends.to_rfc3339(), "2026-12-07T02:30:00+00:00");
    }

    #[test]
    fn the_next_day_skips_days_the_job_missed() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).expect("day");
        assert_eq!(after(&plan(7), day(1), day(1)), day(8));
        assert_eq!(after(&plan(7), day(1), day(20)), day(22));
        assert_eq!(after(&plan(1), day(1), day(1)), day(2));
    }
}

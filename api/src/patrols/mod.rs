//! Grid patrols (网格巡查): STAFF set a grid's patrol points (where, within what radius, what
//! to check) and schedule patrols of them for the grid's worker, who may hand one over with a
//! reason. Each point is signed off on site, with a photo and the checklist's answers: a
//! sign-off outside the point's radius is refused unless the worker says why, and is then
//! flagged; one before or after the patrol's window is marked so. What the worker finds
//! becomes a work order of the grid in the same call (发现上报).
pub mod figures;
pub mod plans;

use chrono::{DateTime, Utc};
use entity::{
    enums::{PatrolStatus, PatrolTiming, PhotoPurpose},
    patrol_finding, patrol_point, patrol_signoff, patrol_task,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    content::{
        ContentGuard, Scene,
        photos::{self, Attachment, PhotoService},
    },
    error::{AppError, AppResult},
    identity::Actor,
    infra::db::begin_write,
    notify::Committed,
    orders::{
        PlacingLimits,
        categories::Catalog,
        commands::{Finding, NewOrder, place_from_patrol},
    },
    organisation::get_grid,
    pagination::{Page, PageRequest, fetch_page},
    validate,
    values::geo::{Point, distance_meters},
};

pub const MAX_CHECKLIST: usize = 20;
pub const MAX_POINTS_PER_PATROL: usize = 50;
const RADIUS_METERS: std::ops::RangeInclusive<i32> = 10..=1000;

fn may_manage(actor: &Actor, community_id: Uuid) -> AppResult<()> {
    if actor.roles.is_staff_of(community_id) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "STAFF of the community plan its patrols",
        ))
    }
}

pub struct NewPoint {
    pub grid_id: Uuid,
    pub name: String,
    pub latitude: f64,
    pub longitude: f64,
    pub radius_meters: i32,
    pub checklist: Vec<String>,
}

pub async fn add_point(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    new: NewPoint,
) -> AppResult<patrol_point::Model> {
    let grid = get_grid(db, new.grid_id).await?;
    may_manage(actor, grid.community_id)?;
    let name = validate::text("name", &new.name, 1, 60)?;
    Point::parse(new.latitude, new.longitude)?;
    if !RADIUS_METERS.contains(&new.radius_meters) {
        return Err(AppError::bad_input(format!(
            "radiusMeters is between {} and {}",
            RADIUS_METERS.start(),
            RADIUS_METERS.end()
        )));
    }
    if new.checklist.len() > MAX_CHECKLIST {
        return Err(AppError::bad_input(format!(
            "a checklist has at most {MAX_CHECKLIST} items"
        )));
    }
    let checklist = new
        .checklist
        .iter()
        .map(|item| validate::text("checklist", item, 1, 60))
        .collect::<AppResult<Vec<_>>>()?;
    let name = content.clear(db, actor, Scene::Forum, "name", name).await?;
    let txn = begin_write(db).await?;
    let point = patrol_point::ActiveModel {
        id: Set(Uuid::now_v7()),
        community_id: Set(grid.community_id),
        grid_id: Set(grid.id),
        name: Set(name.record(&txn).await?),
        latitude: Set(new.latitude),
        longitude: Set(new.longitude),
        radius_meters: Set(new.radius_meters),
        checklist: Set(serde_json::json!(checklist)),
        created_by: Set(actor.id),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(point)
}

/// A grid's points, for its STAFF and its worker.
pub async fn points(
    db: &DatabaseConnection,
    actor: &Actor,
    grid_id: Uuid,
) -> AppResult<Vec<patrol_point::Model>> {
    let grid = get_grid(db, grid_id).await?;
    if grid.worker_id != Some(actor.id) && !actor.roles.is_staff_of(grid.community_id) {
        return Err(AppError::forbidden(
            "a grid's patrol points are for its worker and STAFF",
        ));
    }
    Ok(patrol_point::Entity::find()
        .filter(patrol_point::Column::GridId.eq(grid_id))
        .order_by_asc(patrol_point::Column::Id)
        .all(db)
        .await?)
}

pub fn checklist_of(point: &patrol_point::Model) -> Vec<String> {
    serde_json::from_value(point.checklist.clone()).unwrap_or_default()
}

pub fn point_ids_of(task: &patrol_task::Model) -> Vec<Uuid> {
    serde_json::from_value(task.point_ids.clone()).unwrap_or_default()
}

/// STAFF schedule a patrol of some of a grid's points for its worker.
pub async fn schedule(
    db: &DatabaseConnection,
    actor: &Actor,
    grid_id: Uuid,
    point_ids: Vec<Uuid>,
    window: (DateTime<Utc>, DateTime<Utc>),
) -> AppResult<patrol_task::Model> {
    let grid = get_grid(db, grid_id).await?;
    may_manage(actor, grid.community_id)?;
    let worker = grid
        .worker_id
        .ok_or_else(|| AppError::bad_input("the grid has no worker: assign one first"))?;
    if window.1 <= window.0 {
        return Err(AppError::bad_input("the window ends after it starts"));
    }
    let point_ids = points_of_grid(db, grid_id, point_ids).await?;
    file(db, &grid, worker, point_ids, window, actor.id).await
}

/// `point_ids` sorted and without repeats, once they are 1 to `MAX_POINTS_PER_PATROL` of
/// the grid's own points.
async fn points_of_grid(
    db: &impl ConnectionTrait,
    grid_id: Uuid,
    mut point_ids: Vec<Uuid>,
) -> AppResult<Vec<Uuid>> {
    if point_ids.is_empty() || point_ids.len() > MAX_POINTS_PER_PATROL {
        return Err(AppError::bad_input(format!(
            "a patrol has 1 to {MAX_POINTS_PER_PATROL} points"
        )));
    }
    point_ids.sort_unstable();
    point_ids.dedup();
    let found = patrol_point::Entity::find()
        .filter(patrol_point::Column::Id.is_in(point_ids.iter().copied()))
        .filter(patrol_point::Column::GridId.eq(grid_id))
        .count(db)
        .await?;
    if found != point_ids.len() as u64 {
        return Err(AppError::bad_input("the points are the grid's own"));
    }
    Ok(point_ids)
}

/// Files a patrol of checked points for the grid's worker.
async fn file(
    db: &impl ConnectionTrait,
    grid: &entity::grid::Model,
    worker: Uuid,
    point_ids: Vec<Uuid>,
    window: (DateTime<Utc>, DateTime<Utc>),
    created_by: Uuid,
) -> AppResult<patrol_task::Model> {
    Ok(patrol_task::ActiveModel {
        id: Set(Uuid::now_v7()),
        community_id: Set(grid.community_id),
        grid_id: Set(grid.id),
        worker_id: Set(worker),
        point_ids: Set(serde_json::json!(point_ids)),
        window_starts_at: Set(window.0),
        window_ends_at: Set(window.1),
        status: Set(PatrolStatus::Open),
        handed_over_from: Set(None),
        handover_reason: Set(None),
        created_by: Set(created_by),
        created_at: Set(Utc::now()),
        completed_at: Set(None),
    }
    .insert(db)
    .await?)
}

async fn get(db: &impl ConnectionTrait, id: Uuid) -> AppResult<patrol_task::Model> {
    patrol_task::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("patrol"))
}

/// A patrol, for its worker and its community's STAFF.
pub async fn visible(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
) -> AppResult<patrol_task::Model> {
    let task = get(db, id).await?;
    if task.worker_id == actor.id || actor.roles.is_staff_of(task.community_id) {
        Ok(task)
    } else {
        Err(AppError::NotFound("patrol"))
    }
}

/// The caller's patrols, newest first.
pub async fn mine(
    db: &DatabaseConnection,
    actor: &Actor,
    page: PageRequest,
) -> AppResult<Page<patrol_task::Model>> {
    let select = patrol_task::Entity::find().filter(patrol_task::Column::WorkerId.eq(actor.id));
    fetch_page(db, select, patrol_task::Column::Id, page).await
}

/// The patrol's worker (or STAFF) hands an open patrol to another grid worker of the
/// community, with a reason; the compare-and-set on its worker decides a race.
pub async fn hand_over(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    task_id: Uuid,
    to_worker: Uuid,
    reason: String,
) -> AppResult<patrol_task::Model> {
    let task = visible(db, actor, task_id).await?;
    if to_worker == task.worker_id {
        return Err(AppError::bad_input("it is theirs already"));
    }
    let to = crate::identity::load_actor(db, to_worker).await?;
    if !to.roles.is_grid_worker_in(task.community_id) {
        return Err(AppError::bad_input(
            "a patrol goes to a grid worker of the community",
        ));
    }
    let reason = validate::text("reason", &reason, 1, 200)?;
    let reason = content
        .clear(db, actor, Scene::Comment, "reason", reason)
        .await?;
    let txn = begin_write(db).await?;
    let moved = patrol_task::Entity::update_many()
        .col_expr(patrol_task::Column::WorkerId, Expr::value(to_worker))
        .col_expr(
            patrol_task::Column::HandedOverFrom,
            Expr::value(task.worker_id),
        )
        .col_expr(
            patrol_task::Column::HandoverReason,
            Expr::value(reason.record(&txn).await?),
        )
        .filter(patrol_task::Column::Id.eq(task_id))
        .filter(patrol_task::Column::WorkerId.eq(task.worker_id))
        .filter(patrol_task::Column::Status.eq(PatrolStatus::Open))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::conflict(
            "this patrol was handed over or finished a moment ago",
        ));
    }
    let task = get(&txn, task_id).await?;
    txn.commit().await?;
    Ok(task)
}

pub struct SignOff {
    pub point_id: Uuid,
    pub latitude: f64,
    pub longitude: f64,
    pub answers: Vec<bool>,
    pub photo_keys: Vec<String>,
    pub off_site_reason: Option<String>,
}

/// When, against the patrol's window.
pub fn timing(task: &patrol_task::Model, at: DateTime<Utc>) -> PatrolTiming {
    if at < task.window_starts_at {
        PatrolTiming::Early
    } else if at > task.window_ends_at {
        PatrolTiming::Late
    } else {
        PatrolTiming::OnTime
    }
}

/// Whether a sign-off `distance` meters from a point of `radius` stands: within it, or
/// outside it with a reason (then flagged).
pub fn on_site(distance: f64, radius: i32, reason: Option<&str>) -> AppResult<()> {
    if distance <= f64::from(radius) || reason.is_some() {
        return Ok(());
    }
    let away = if distance >= 1000.0 {
        format!("{:.1} km", distance / 1000.0)
    } else {
        format!("{distance:.0} m")
    };
    Err(AppError::bad_input(format!(
        "you are {away} from the point (within {radius} m is on site): sign it off there, or \
         say why not"
    )))
}

/// The patrol's worker signs off one of its points; the last one finishes the patrol.
pub async fn sign_off(
    db: &DatabaseConnection,
    photos: &PhotoService,
    actor: &Actor,
    task_id: Uuid,
    input: SignOff,
) -> AppResult<patrol_signoff::Model> {
    let task = visible(db, actor, task_id).await?;
    if task.worker_id != actor.id {
        return Err(AppError::forbidden(
            "the patrol's worker signs off its points",
        ));
    }
    let point_ids = point_ids_of(&task);
    if !point_ids.contains(&input.point_id) {
        return Err(AppError::bad_input("this point is not on the patrol"));
    }
    let point = patrol_point::Entity::find_by_id(input.point_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("patrol point"))?;
    if input.answers.len() != checklist_of(&point).len() {
        return Err(AppError::bad_input(
            "answer each item of the point's checklist",
        ));
    }
    if input.photo_keys.is_empty() {
        return Err(AppError::bad_input("a sign-off has a photo of the point"));
    }
    let here = Point::parse(input.latitude, input.longitude)?;
    let distance = distance_meters(here, Point::parse(point.latitude, point.longitude)?);
    let reason = validate::optional_text("offSiteReason", input.off_site_reason.as_deref(), 200)?;
    on_site(distance, point.radius_meters, reason.as_deref())?;
    let reason = photos
        .content
        .clear_optional(db, actor, Scene::Comment, "offSiteReason", reason)
        .await?;
    let checked = photos
        .check(db, actor, PhotoPurpose::PatrolPhoto, &input.photo_keys)
        .await?;
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let signoff = patrol_signoff::ActiveModel {
        id: Set(Uuid::now_v7()),
        task_id: Set(task_id),
        point_id: Set(point.id),
        worker_id: Set(actor.id),
        latitude: Set(input.latitude),
        longitude: Set(input.longitude),
        distance_meters: Set(distance.round() as i32),
        off_site_reason: Set(crate::content::Cleared::record_optional(reason, &txn).await?),
        timing: Set(timing(&task, now)),
        answers: Set(serde_json::json!(input.answers)),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    photos::attach(
        &txn,
        actor.id,
        Attachment::PatrolSignoff(signoff.id),
        checked,
    )
    .await?;
    let signed = patrol_signoff::Entity::find()
        .filter(patrol_signoff::Column::TaskId.eq(task_id))
        .count(&txn)
        .await?;
    if signed == point_ids.len() as u64 {
        patrol_task::Entity::update_many()
            .col_expr(patrol_task::Column::Status, Expr::value(PatrolStatus::Done))
            .col_expr(patrol_task::Column::CompletedAt, Expr::value(now))
            .filter(patrol_task::Column::Id.eq(task_id))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(signoff)
}

pub async fn signoffs(
    db: &DatabaseConnection,
    task_id: Uuid,
) -> AppResult<Vec<patrol_signoff::Model>> {
    Ok(patrol_signoff::Entity::find()
        .filter(patrol_signoff::Column::TaskId.eq(task_id))
        .order_by_asc(patrol_signoff::Column::Id)
        .all(db)
        .await?)
}

/// Where a finding was made: on the patrol, at one of its points or between them.
pub struct Found {
    pub point_id: Option<Uuid>,
    pub latitude: f64,
    pub longitude: f64,
}

/// The patrol's worker turns what they found into a work order of the grid, in one step.
#[allow(
    clippy::too_many_arguments,
    reason = "the placing path's dependencies, passed on"
)]
pub async fn report_finding(
    db: &DatabaseConnection,
    catalog: &Catalog,
    photos: &PhotoService,
    limits: PlacingLimits,
    actor: &Actor,
    task_id: Uuid,
    found: Found,
    new: NewOrder,
) -> AppResult<Committed<entity::order::Model>> {
    let task = visible(db, actor, task_id).await?;
    if task.worker_id != actor.id {
        return Err(AppError::forbidden(
            "the patrol's worker reports its findings",
        ));
    }
    if let Some(point) = found.point_id
        && !point_ids_of(&task).contains(&point)
    {
        return Err(AppError::bad_input("this point is not on the patrol"));
    }
    Point::parse(found.latitude, found.longitude)?;
    let finding = Finding {
        community_id: task.community_id,
        grid_id: task.grid_id,
        record: patrol_finding::ActiveModel {
            order_id: Set(Uuid::nil()),
            task_id: Set(task.id),
            point_id: Set(found.point_id),
            latitude: Set(found.latitude),
            longitude: Set(found.longitude),
            created_at: Set(Utc::now()),
        },
    };
    place_from_patrol(db, catalog, photos, limits, actor, new, finding).await
}

pub async fn finding_of(
    db: &DatabaseConnection,
    order_id: Uuid,
) -> AppResult<Option<patrol_finding::Model>> {
    Ok(patrol_finding::Entity::find_by_id(order_id).one(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn far_from_the_point_needs_a_reason() {
        assert!(on_site(30.0, 50, None).is_ok());
        let refused = on_site(2_000.0, 50, None).expect_err("2 km away");
        assert!(refused.to_string().contains("2.0 km"), "{refused}");
        assert!(on_site(2_000.0, 50, Some("门禁坏了，从后门进")).is_ok());
    }
}

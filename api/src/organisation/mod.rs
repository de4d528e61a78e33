//! The administrative tree the communities sit in: district → street → community → grid.
//! ADMIN build and edit it; STAFF of a community look after its grids. Rows that others refer
//! to are archived, never deleted: an archived community or grid takes no new residents or
//! orders, and its history stays.
pub mod api_keys;
pub mod departments;
pub mod units;

use chrono::Utc;
use entity::{community, district, enums::Role, grid, street};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Query,
};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    identity::{
        Actor,
        roles::{delete_grant, insert_grant},
    },
    infra::db::begin_write,
    notify::{Committed, DomainEvent, Events},
    points::rules::DEFAULT_POINTS_PER_HOUR,
    validate,
    values::geo::Point,
};

/// Communities that take residents, by name.
pub async fn communities(db: &impl ConnectionTrait) -> AppResult<Vec<community::Model>> {
    Ok(community::Entity::find()
        .filter(community::Column::ArchivedAt.is_null())
        .order_by_asc(community::Column::Name)
        .all(db)
        .await?)
}

pub async fn get_community(db: &impl ConnectionTrait, id: Uuid) -> AppResult<community::Model> {
    community::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("community"))
}

/// A community that takes new residents and orders.
pub async fn open_community(db: &impl ConnectionTrait, id: Uuid) -> AppResult<community::Model> {
    let community = get_community(db, id).await?;
    ensure_open(&community)?;
    Ok(community)
}

/// Refuses an archived community, for callers that read it with something else.
pub fn ensure_open(community: &community::Model) -> AppResult<()> {
    match community.archived_at {
        Some(_) => Err(AppError::conflict("this community is archived")),
        None => Ok(()),
    }
}

pub async fn grids_of(
    db: &impl ConnectionTrait,
    community_id: Uuid,
) -> AppResult<Vec<grid::Model>> {
    Ok(grid::Entity::find()
        .filter(grid::Column::CommunityId.eq(community_id))
        .filter(grid::Column::ArchivedAt.is_null())
        .order_by_asc(grid::Column::Id)
        .all(db)
        .await?)
}

pub async fn get_grid(db: &impl ConnectionTrait, id: Uuid) -> AppResult<grid::Model> {
    grid::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("grid"))
}

pub async fn get_street(db: &impl ConnectionTrait, id: Uuid) -> AppResult<street::Model> {
    street::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("street"))
}

pub async fn get_district(db: &impl ConnectionTrait, id: Uuid) -> AppResult<district::Model> {
    district::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("district"))
}

pub async fn districts(db: &impl ConnectionTrait) -> AppResult<Vec<district::Model>> {
    Ok(district::Entity::find()
        .order_by_asc(district::Column::Name)
        .all(db)
        .await?)
}

pub async fn streets_of(
    db: &impl ConnectionTrait,
    district_id: Uuid,
) -> AppResult<Vec<street::Model>> {
    Ok(street::Entity::find()
        .filter(street::Column::DistrictId.eq(district_id))
        .order_by_asc(street::Column::Name)
        .all(db)
        .await?)
}

pub async fn communities_of(
    db: &impl ConnectionTrait,
    street_id: Uuid,
) -> AppResult<Vec<community::Model>> {
    Ok(community::Entity::find()
        .filter(community::Column::StreetId.eq(street_id))
        .order_by_asc(community::Column::Name)
        .all(db)
        .await?)
}

/// A community, a street or a district: where numbers are counted and exports drawn from.
#[derive(Debug, Clone, Copy)]
pub enum Area {
    Community(Uuid),
    Street(Uuid),
    District(Uuid),
}

/// Who oversees an area: STAFF their community, STREET_STAFF their street, ADMIN everywhere.
pub fn oversees(actor: &Actor, area: Area) -> bool {
    match area {
        Area::Community(id) => actor.roles.is_staff_of(id),
        Area::Street(id) => actor.roles.is_street_staff_of(id),
        Area::District(_) => actor.roles.is_admin(),
    }
}

/// Every community's name, by id.
pub async fn community_names(
    db: &impl ConnectionTrait,
) -> AppResult<std::collections::HashMap<Uuid, String>> {
    Ok(community::Entity::find()
        .select_only()
        .column(community::Column::Id)
        .column(community::Column::Name)
        .into_tuple::<(Uuid, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// The communities in an area, archived ones included (their history counts).
pub async fn communities_in(db: &impl ConnectionTrait, area: Area) -> AppResult<Vec<Uuid>> {
    let select = community::Entity::find()
        .select_only()
        .column(community::Column::Id);
    let select = match area {
        Area::Community(id) => select.filter(community::Column::Id.eq(id)),
        Area::Street(id) => select.filter(community::Column::StreetId.eq(id)),
        Area::District(id) => select.filter(
            community::Column::StreetId.in_subquery(
                Query::select()
                    .column(street::Column::Id)
                    .from(street::Entity)
                    .and_where(street::Column::DistrictId.eq(id))
                    .to_owned(),
            ),
        ),
    };
    Ok(select.into_tuple().all(db).await?)
}

/// Each community's street, for jobs that go over many communities' orders.
pub async fn street_of_each_community(
    db: &impl ConnectionTrait,
) -> AppResult<std::collections::HashMap<Uuid, Uuid>> {
    let pairs: Vec<(Uuid, Uuid)> = community::Entity::find()
        .select_only()
        .column(community::Column::Id)
        .column(community::Column::StreetId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(pairs.into_iter().collect())
}

fn admin_only(actor: &Actor) -> AppResult<()> {
    if actor.roles.is_admin() {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only ADMIN may change districts, streets and communities",
        ))
    }
}

fn name(value: &str) -> AppResult<String> {
    validate::text("name", value, 1, 60)
}

/// Longest a community may let an order wait for acceptance: two weeks.
const MAX_RESPONSE_MINUTES: i32 = 60 * 24 * 14;

fn response_minutes(value: Option<i32>) -> AppResult<Option<i32>> {
    match value {
        Some(minutes) if !(10..=MAX_RESPONSE_MINUTES).contains(&minutes) => Err(
            AppError::bad_input("responseMinutes must be between 10 minutes and 14 days"),
        ),
        other => Ok(other),
    }
}

fn centre(value: Option<Point>) -> AppResult<(Option<f64>, Option<f64>)> {
    match value {
        None => Ok((None, None)),
        Some(point) if point.is_valid() => Ok((Some(point.latitude), Some(point.longitude))),
        Some(_) => Err(AppError::bad_input(
            "latitude must be within ±90 and longitude within ±180",
        )),
    }
}

pub async fn create_district(
    db: &DatabaseConnection,
    actor: &Actor,
    district_name: &str,
) -> AppResult<district::Model> {
    admin_only(actor)?;
    insert_district(db, district_name).await
}

/// Used by `create_district` and the demo seed.
pub async fn insert_district(
    db: &impl ConnectionTrait,
    district_name: &str,
) -> AppResult<district::Model> {
    Ok(district::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name(district_name)?),
    }
    .insert(db)
    .await?)
}

pub async fn create_street(
    db: &DatabaseConnection,
    actor: &Actor,
    district_id: Uuid,
    street_name: &str,
) -> AppResult<street::Model> {
    admin_only(actor)?;
    get_district(db, district_id).await?;
    insert_street(db, district_id, street_name).await
}

/// Used by `create_street` and the demo seed.
pub async fn insert_street(
    db: &impl ConnectionTrait,
    district_id: Uuid,
    street_name: &str,
) -> AppResult<street::Model> {
    Ok(street::ActiveModel {
        id: Set(Uuid::now_v7()),
        district_id: Set(district_id),
        name: Set(name(street_name)?),
    }
    .insert(db)
    .await?)
}

pub struct NewCommunity {
    pub street_id: Uuid,
    pub name: String,
    pub address: String,
    pub centre: Option<Point>,
    pub response_minutes: Option<i32>,
}

pub async fn create_community(
    db: &DatabaseConnection,
    actor: &Actor,
    new: NewCommunity,
) -> AppResult<Committed<community::Model>> {
    admin_only(actor)?;
    get_street(db, new.street_id).await?;
    let community = insert_community(db, new).await?;
    let community_id = community.id;
    Ok(Committed::new(
        community,
        DomainEvent::CommunityChanged { community_id },
    ))
}

/// Used by `create_community` and the demo seed.
pub async fn insert_community(
    db: &impl ConnectionTrait,
    new: NewCommunity,
) -> AppResult<community::Model> {
    let (latitude, longitude) = centre(new.centre)?;
    Ok(community::ActiveModel {
        id: Set(Uuid::now_v7()),
        street_id: Set(new.street_id),
        name: Set(name(&new.name)?),
        created_at: Set(Utc::now()),
        points_per_hour: Set(DEFAULT_POINTS_PER_HOUR),
        address: Set(validate::text("address", &new.address, 0, 200)?),
        latitude: Set(latitude),
        longitude: Set(longitude),
        response_minutes: Set(response_minutes(new.response_minutes)?),
        archived_at: Set(None),
    }
    .insert(db)
    .await?)
}

/// Changes to a community; `None` leaves a field as it is.
#[derive(Default)]
pub struct CommunityChanges {
    pub name: Option<String>,
    pub address: Option<String>,
    pub centre: Option<Point>,
    /// `Some(None)` goes back to each category's response time.
    pub response_minutes: Option<Option<i32>>,
    pub archived: Option<bool>,
}

pub async fn update_community(
    db: &DatabaseConnection,
    actor: &Actor,
    community_id: Uuid,
    changes: CommunityChanges,
) -> AppResult<Committed<community::Model>> {
    admin_only(actor)?;
    let mut community: community::ActiveModel = get_community(db, community_id).await?.into();
    if let Some(value) = changes.name {
        community.name = Set(name(&value)?);
    }
    if let Some(value) = changes.address {
        community.address = Set(validate::text("address", &value, 0, 200)?);
    }
    if changes.centre.is_some() {
        let (latitude, longitude) = centre(changes.centre)?;
        community.latitude = Set(latitude);
        community.longitude = Set(longitude);
    }
    if let Some(value) = changes.response_minutes {
        community.response_minutes = Set(response_minutes(value)?);
    }
    if let Some(archived) = changes.archived {
        community.archived_at = Set(archived.then(Utc::now));
    }
    Ok(Committed::new(
        community.update(db).await?,
        DomainEvent::CommunityChanged { community_id },
    ))
}

fn may_manage_grids(actor: &Actor, community_id: Uuid) -> AppResult<()> {
    if actor.roles.is_staff_of(community_id) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only ADMIN or STAFF of the community may manage its grids",
        ))
    }
}

fn boundary(value: &str) -> AppResult<String> {
    validate::text("boundary", value, 0, 500)
}

pub async fn create_grid(
    db: &DatabaseConnection,
    actor: &Actor,
    community_id: Uuid,
    grid_name: &str,
    grid_boundary: &str,
) -> AppResult<grid::Model> {
    may_manage_grids(actor, community_id)?;
    open_community(db, community_id).await?;
    insert_grid(db, community_id, grid_name, grid_boundary).await
}

/// Used by `create_grid` and the demo seed.
pub async fn insert_grid(
    db: &impl ConnectionTrait,
    community_id: Uuid,
    grid_name: &str,
    grid_boundary: &str,
) -> AppResult<grid::Model> {
    Ok(grid::ActiveModel {
        id: Set(Uuid::now_v7()),
        community_id: Set(community_id),
        name: Set(name(grid_name)?),
        boundary: Set(boundary(grid_boundary)?),
        worker_id: Set(None),
        archived_at: Set(None),
    }
    .insert(db)
    .await?)
}

/// Changes to a grid; `None` leaves a field as it is.
#[derive(Default)]
pub struct GridChanges {
    pub name: Option<String>,
    pub boundary: Option<String>,
    /// `Some(None)` leaves the grid without a worker.
    pub worker_id: Option<Option<Uuid>>,
    pub archived: Option<bool>,
}

/// A grid worker holds GRID_WORKER in the community while they look after any grid there.
pub async fn update_grid(
    db: &DatabaseConnection,
    actor: &Actor,
    grid_id: Uuid,
    changes: GridChanges,
) -> AppResult<Committed<grid::Model>> {
    let txn = begin_write(db).await?;
    let current = get_grid(&txn, grid_id).await?;
    may_manage_grids(actor, current.community_id)?;
    let community_id = current.community_id;
    let mut events = Events::default();
    let mut grid: grid::ActiveModel = current.clone().into();
    if let Some(value) = changes.name {
        grid.name = Set(name(&value)?);
    }
    if let Some(value) = changes.boundary {
        grid.boundary = Set(boundary(&value)?);
    }
    if let Some(archived) = changes.archived {
        grid.archived_at = Set(archived.then(Utc::now));
    }
    if let Some(worker) = changes.worker_id {
        if let Some(worker) = worker {
            crate::identity::get_user(&txn, worker).await?;
            insert_grant(
                &txn,
                &mut events,
                worker,
                Role::GridWorker,
                Some(community_id),
                Some(actor.id),
            )
            .await?;
        }
        grid.worker_id = Set(worker);
    }
    let grid = grid.update(&txn).await?;
    if let Some(previous) = current.worker_id
        && grid.worker_id != Some(previous)
    {
        let still_works_here = grid::Entity::find()
            .filter(grid::Column::CommunityId.eq(community_id))
            .filter(grid::Column::WorkerId.eq(previous))
            .one(&txn)
            .await?
            .is_some();
        if !still_works_here {
            delete_grant(
                &txn,
                &mut events,
                previous,
                Role::GridWorker,
                Some(community_id),
            )
            .await?;
        }
    }
    txn.commit().await?;
    Ok(events.committed(grid))
}

/// Whether `actor` looks after the grid (its worker) or its community (STAFF).
pub async fn may_see_grid(
    db: &impl ConnectionTrait,
    actor: &Actor,
    grid_id: Uuid,
) -> AppResult<bool> {
    let grid = get_grid(db, grid_id).await?;
    Ok(grid.worker_id == Some(actor.id) || actor.roles.is_staff_of(grid.community_id))
}

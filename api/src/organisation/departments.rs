//! Street and district departments (城管, 市场监管, 住建, 供电 …) that take the orders
//! communities escalate. ADMIN set them up; their people hold DEPARTMENT_STAFF.
use chrono::Utc;
use entity::department;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::{admin_only, get_district, get_street, name};
use crate::{
    error::{AppError, AppResult},
    identity::Actor,
};

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> AppResult<department::Model> {
    department::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("department"))
}

/// Where a new department sits: a street, or a district directly.
pub enum Seat {
    Street(Uuid),
    District(Uuid),
}

pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    seat: Seat,
    department_name: &str,
) -> AppResult<department::Model> {
    admin_only(actor)?;
    let seat = match seat {
        Seat::Street(id) => Seat::Street(get_street(db, id).await?.id),
        Seat::District(id) => Seat::District(get_district(db, id).await?.id),
    };
    insert(db, seat, department_name).await
}

/// Used by `create` and the demo seed.
pub async fn insert(
    db: &impl ConnectionTrait,
    seat: Seat,
    department_name: &str,
) -> AppResult<department::Model> {
    let (district_id, street_id) = match seat {
        Seat::Street(id) => (get_street(db, id).await?.district_id, Some(id)),
        Seat::District(id) => (id, None),
    };
    Ok(department::ActiveModel {
        id: Set(Uuid::now_v7()),
        district_id: Set(district_id),
        street_id: Set(street_id),
        name: Set(name(department_name)?),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?)
}

/// The departments an order can be escalated to from a street: the street's own and those of
/// its district (`street_id` null), by name.
pub async fn reachable_from(
    db: &impl ConnectionTrait,
    street_id: Uuid,
) -> AppResult<Vec<department::Model>> {
    let street = get_street(db, street_id).await?;
    Ok(department::Entity::find()
        .filter(
            Condition::any()
                .add(department::Column::StreetId.eq(street.id))
                .add(
                    Condition::all()
                        .add(department::Column::DistrictId.eq(street.district_id))
                        .add(department::Column::StreetId.is_null()),
                ),
        )
        .order_by_asc(department::Column::Name)
        .all(db)
        .await?)
}

//! The administrative tree the communities sit in: district → street → community → grid.
use entity::{community, district, grid, street};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

pub async fn communities(db: &impl ConnectionTrait) -> AppResult<Vec<community::Model>> {
    Ok(community::Entity::find()
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

pub async fn grids_of(
    db: &impl ConnectionTrait,
    community_id: Uuid,
) -> AppResult<Vec<grid::Model>> {
    Ok(grid::Entity::find()
        .filter(grid::Column::CommunityId.eq(community_id))
        .order_by_asc(grid::Column::Id)
        .all(db)
        .await?)
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

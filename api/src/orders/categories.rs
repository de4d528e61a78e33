//! Kinds of service residents can order, each with its response time limit.
use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use chrono::Utc;
use entity::service_category;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, QueryOrder};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    identity::Actor,
    validate,
};

/// The categories an instance has read. A category never changes once created (there is no
/// update or delete), so a remembered one is never stale, on any instance; an order's
/// category is then resolved without a query.
#[derive(Clone, Default)]
pub struct Catalog(Arc<RwLock<HashMap<Uuid, service_category::Model>>>);

impl Catalog {
    pub fn get(&self, id: Uuid) -> Option<service_category::Model> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&id)
            .cloned()
    }

    pub async fn get_or_load(
        &self,
        db: &impl ConnectionTrait,
        id: Uuid,
    ) -> AppResult<service_category::Model> {
        if let Some(category) = self.get(id) {
            return Ok(category);
        }
        let category = get(db, id).await?;
        self.remember(&category);
        Ok(category)
    }

    pub fn remember(&self, category: &service_category::Model) {
        self.0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(category.id, category.clone());
    }
}

pub async fn list(db: &impl ConnectionTrait) -> AppResult<Vec<service_category::Model>> {
    Ok(service_category::Entity::find()
        .order_by_asc(service_category::Column::Id)
        .all(db)
        .await?)
}

async fn get(db: &impl ConnectionTrait, id: Uuid) -> AppResult<service_category::Model> {
    service_category::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("service category"))
}

pub struct CategoryInput {
    pub code: String,
    pub name: String,
    pub response_minutes: i32,
}

pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    input: CategoryInput,
) -> AppResult<service_category::Model> {
    if !actor.roles.is_staff_anywhere() {
        return Err(AppError::forbidden(
            "only STAFF or ADMIN may add service categories",
        ));
    }
    insert(db, input).await
}

/// Used by `create` and by the demo seed.
pub async fn insert(
    db: &impl ConnectionTrait,
    input: CategoryInput,
) -> AppResult<service_category::Model> {
    let code = validate::text("code", &input.code, 1, 40)?.to_uppercase();
    if !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(AppError::bad_input("code may contain only A–Z, 0–9 and _"));
    }
    if !(10..=60 * 24 * 14).contains(&input.response_minutes) {
        return Err(AppError::bad_input(
            "responseMinutes must be between 10 minutes and 14 days",
        ));
    }
    service_category::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(code),
        name: Set(validate::text("name", &input.name, 1, 40)?),
        response_minutes: Set(input.response_minutes),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await
    .map_err(|error| match AppError::from(error) {
        AppError::Conflict(_) => AppError::conflict("a category with this code already exists"),
        other => other,
    })
}

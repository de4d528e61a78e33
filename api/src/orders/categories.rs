//! Kinds of service residents can order, each with its response time limit.
use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use chrono::Utc;
use entity::service_category;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    identity::Actor,
    notify::{Committed, DomainEvent},
    validate,
};

/// Longest an instance trusts a remembered category if it missed the news of a change.
const REMEMBERED_FOR: Duration = Duration::from_secs(300);

/// The categories an instance has read, so that an order's category resolves without a
/// query. Categories rarely change: when one does, every instance hears it on the event bus
/// (`forget_on_change`) and reads them afresh; an instance that missed the news (Redis down)
/// does so within five minutes.
#[derive(Clone, Default)]
pub struct Catalog(Arc<RwLock<HashMap<Uuid, (service_category::Model, Instant)>>>);

impl Catalog {
    pub fn get(&self, id: Uuid) -> Option<service_category::Model> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&id)
            .filter(|(_, at)| at.elapsed() < REMEMBERED_FOR)
            .map(|(category, _)| category.clone())
    }

    fn forget_all(&self) {
        self.0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
    }

    /// Forgets every category whenever the bus reports a change, until the bus closes.
    pub async fn forget_on_change(self, mut changes: broadcast::Receiver<()>) {
        loop {
            match changes.recv().await {
                Ok(()) => self.forget_all(),
                // Missed some: they were changes too.
                Err(broadcast::error::RecvError::Lagged(_)) => self.forget_all(),
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
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
            .insert(category.id, (category.clone(), Instant::now()));
    }
}

/// Every category's name, by id.
pub async fn names(
    db: &impl ConnectionTrait,
) -> AppResult<std::collections::HashMap<Uuid, String>> {
    Ok(service_category::Entity::find()
        .select_only()
        .column(service_category::Column::Id)
        .column(service_category::Column::Name)
        .into_tuple::<(Uuid, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// The categories residents may order, or all of them (retired ones too).
pub async fn list(
    db: &impl ConnectionTrait,
    include_retired: bool,
) -> AppResult<Vec<service_category::Model>> {
    let mut query = service_category::Entity::find();
    if !include_retired {
        query = query.filter(service_category::Column::Active.eq(true));
    }
    Ok(query
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
    /// Default: three days.
    pub completion_minutes: Option<i32>,
}

const DEFAULT_COMPLETION_MINUTES: i32 = 3 * 24 * 60;

fn may_manage(actor: &Actor) -> AppResult<()> {
    if actor.roles.is_staff_anywhere() {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only STAFF or ADMIN may manage service categories",
        ))
    }
}

fn completion_minutes(minutes: i32) -> AppResult<i32> {
    if (60..=60 * 24 * 60).contains(&minutes) {
        Ok(minutes)
    } else {
        Err(AppError::bad_input(
            "completionMinutes must be between 1 hour and 60 days",
        ))
    }
}

fn response_minutes(minutes: i32) -> AppResult<i32> {
    if (10..=60 * 24 * 14).contains(&minutes) {
        Ok(minutes)
    } else {
        Err(AppError::bad_input(
            "responseMinutes must be between 10 minutes and 14 days",
        ))
    }
}

pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    input: CategoryInput,
) -> AppResult<service_category::Model> {
    may_manage(actor)?;
    insert(db, input).await
}

/// Changes to a category; `None` leaves a field as it is.
pub struct CategoryChanges {
    pub name: Option<String>,
    pub response_minutes: Option<i32>,
    pub completion_minutes: Option<i32>,
    /// false retires it: no new orders; existing ones keep it.
    pub active: Option<bool>,
}

pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    changes: CategoryChanges,
) -> AppResult<Committed<service_category::Model>> {
    may_manage(actor)?;
    let mut category: service_category::ActiveModel = get(db, id).await?.into();
    if let Some(name) = changes.name {
        category.name = Set(validate::text("name", &name, 1, 40)?);
    }
    if let Some(minutes) = changes.response_minutes {
        category.response_minutes = Set(response_minutes(minutes)?);
    }
    if let Some(minutes) = changes.completion_minutes {
        category.completion_minutes = Set(completion_minutes(minutes)?);
    }
    if let Some(active) = changes.active {
        category.active = Set(active);
    }
    Ok(Committed::new(
        category.update(db).await?,
        DomainEvent::CategoryChanged { category_id: id },
    ))
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
    service_category::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(code),
        name: Set(validate::text("name", &input.name, 1, 40)?),
        response_minutes: Set(response_minutes(input.response_minutes)?),
        completion_minutes: Set(completion_minutes(
            input
                .completion_minutes
                .unwrap_or(DEFAULT_COMPLETION_MINUTES),
        )?),
        created_at: Set(Utc::now()),
        active: Set(true),
    }
    .insert(db)
    .await
    .map_err(|error| match AppError::from(error) {
        AppError::Conflict(_) => AppError::conflict("a category with this code already exists"),
        other => other,
    })
}

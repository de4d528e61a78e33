//! Batches the lookups of a request's list fields (an order's requester, category, a
//! merchant's offers, …) into one query per kind instead of one per row.
use std::{collections::HashMap, marker::PhantomData, sync::Arc};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use futures::future::BoxFuture;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, Iterable, ModelTrait, PrimaryKeyToColumn,
    QueryFilter, Value,
};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// Loads rows of `E` by their UUID primary key.
pub struct ById<E> {
    db: DatabaseConnection,
    entity: PhantomData<E>,
}

impl<E> Loader<Uuid> for ById<E>
where
    E: EntityTrait + Send + Sync,
    E::Model: Clone + Send + Sync,
{
    type Value = E::Model;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let Some(key) = E::PrimaryKey::iter().next().map(|pk| pk.into_column()) else {
            return Ok(HashMap::new());
        };
        let rows = E::find()
            .filter(key.is_in(keys.iter().copied()))
            .all(&self.db)
            .await
            .map_err(|error| Arc::new(AppError::from(error)))?;
        Ok(rows
            .into_iter()
            .filter_map(|row| match row.get(key) {
                Value::Uuid(Some(id)) => Some((id, row)),
                _ => None,
            })
            .collect())
    }
}

/// Remembers what it loaded for the rest of the request, and accepts rows the request already
/// read (`feed_many`).
pub type ByIdLoader<E> = DataLoader<ById<E>, HashMapCache>;

pub fn by_id<E: EntityTrait + Send + Sync>(db: &DatabaseConnection) -> ByIdLoader<E>
where
    E::Model: Clone + Send + Sync,
{
    DataLoader::with_cache(
        ById {
            db: db.clone(),
            entity: PhantomData,
        },
        tokio::spawn,
        HashMapCache::default(),
    )
}

/// A batched domain query: what each of these rows has (a merchant's offers, an order's
/// timeline, a unit's totals).
pub type LoadBatch<T> =
    for<'a> fn(&'a DatabaseConnection, &'a [Uuid]) -> BoxFuture<'a, AppResult<HashMap<Uuid, T>>>;

/// Loads for many rows with one batched domain query; a row with nothing is not in the map.
pub struct Batched<T> {
    db: DatabaseConnection,
    load: LoadBatch<T>,
}

impl<T: Clone + Send + Sync + 'static> Loader<Uuid> for Batched<T> {
    type Value = T;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, T>, Self::Error> {
        (self.load)(&self.db, keys).await.map_err(Arc::new)
    }
}

pub type BatchLoader<T> = DataLoader<Batched<T>, HashMapCache>;

/// The children of each parent row, in the order the domain query gives them.
pub type ChildrenLoader<V> = BatchLoader<Vec<V>>;

pub fn batched<T: Clone + Send + Sync + 'static>(
    db: &DatabaseConnection,
    load: LoadBatch<T>,
) -> BatchLoader<T> {
    DataLoader::with_cache(
        Batched {
            db: db.clone(),
            load,
        },
        tokio::spawn,
        HashMapCache::default(),
    )
}

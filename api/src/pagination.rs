//! Keyset pagination over UUIDv7 ids: ids grow with time, so "newest first" is `id DESC` and
//! the cursor is the last id seen. Pages stay fast however deep the list is.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Select, Statement,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

pub const DEFAULT_PAGE_SIZE: u64 = 20;
pub const MAX_PAGE_SIZE: u64 = 100;

/// Query cost of a page: its size (`first`, the default when absent, at most the maximum)
/// times the cost of one item, as GitHub's GraphQL API counts nodes.
pub fn list_cost(first: Option<i32>, item_cost: usize) -> usize {
    let items = first.map_or(DEFAULT_PAGE_SIZE, |n| {
        n.clamp(1, MAX_PAGE_SIZE as i32) as u64
    });
    (items as usize).saturating_mul(item_cost)
}

#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub first: u64,
    pub after: Option<Uuid>,
}

impl PageRequest {
    pub fn parse(first: Option<i32>, after: Option<&str>) -> AppResult<Self> {
        let first = match first {
            None => DEFAULT_PAGE_SIZE,
            Some(n) if (1..=MAX_PAGE_SIZE as i32).contains(&n) => n as u64,
            Some(_) => {
                return Err(AppError::bad_input(format!(
                    "first must be between 1 and {MAX_PAGE_SIZE}"
                )));
            }
        };
        let after = after.map(decode_cursor).transpose()?;
        Ok(Self { first, after })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next_page: bool,
}

impl<T> Page<T> {
    /// The page of rows a `keyset` select fetched.
    pub fn of_fetched(mut items: Vec<T>, request: PageRequest) -> Self {
        let has_next_page = items.len() as u64 > request.first;
        items.truncate(request.first as usize);
        Self {
            items,
            has_next_page,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            has_next_page: self.has_next_page,
        }
    }
}

pub fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn decode_cursor(cursor: &str) -> AppResult<Uuid> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| Uuid::from_slice(&bytes).ok())
        .ok_or_else(|| AppError::bad_input("after is not a cursor this API returned"))
}

/// Fetches one page of `select`, newest first by `id_column`.
pub async fn fetch_page<E, C>(
    db: &C,
    select: Select<E>,
    id_column: E::Column,
    page: PageRequest,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let statement = page_statement(db.get_database_backend(), select, id_column, page);
    let items = E::find().from_raw_sql(statement).all(db).await?;
    Ok(Page::of_fetched(items, page))
}

/// The statement of one page of `select`: newest first by `id_column`, after the cursor, one
/// row more than asked for so that `Page::of_fetched` can tell whether another page follows.
/// The limit is written into the text rather than bound: with `LIMIT $n` PostgreSQL cannot
/// cost a generic plan and plans every execution anew, which was two thirds of its time on a
/// page of the pool (bench/RESULTS.md). Page sizes are bounded, so the texts are few.
pub fn page_statement<S, C>(
    backend: DbBackend,
    select: S,
    id_column: C,
    page: PageRequest,
) -> Statement
where
    S: QueryFilter + QueryOrder + QueryTrait,
    C: ColumnTrait,
{
    let select = select.order_by_desc(id_column);
    let select = match page.after {
        Some(after) => select.filter(id_column.lt(after)),
        None => select,
    };
    let mut statement = select.build(backend);
    statement
        .sql
        .push_str(&format!(" LIMIT {}", page.first + 1));
    statement
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let id = Uuid::now_v7();
        let page = PageRequest::parse(Some(5), Some(&encode_cursor(id))).expect("parse");
        assert_eq!(page.after, Some(id));
        assert_eq!(page.first, 5);
    }

    #[test]
    fn bad_page_arguments_are_refused() {
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(1000), None).is_err());
        assert!(PageRequest::parse(None, Some("not a cursor")).is_err());
    }

    #[test]
    fn the_page_size_is_in_the_statement_text_and_the_cursor_is_bound() {
        let after = Uuid::now_v7();
        let page = PageRequest::parse(Some(20), Some(&encode_cursor(after))).expect("parse");
        let statement = page_statement(
            DbBackend::Postgres,
            entity::order::Entity::find(),
            entity::order::Column::Id,
            page,
        );
        assert!(
            statement
                .sql
                .ends_with(r#"ORDER BY "orders"."id" DESC LIMIT 21"#)
        );
        let values = statement.values.expect("the cursor is a bound value").0;
        assert_eq!(values, vec![after.into()]);
    }
}

/// What an export reads: the rows of some communities created in `[from, to)`, oldest first
/// in pages of `EXPORT_PAGE` after the last id seen.
#[derive(Debug, Clone, Default)]
pub struct Span {
    pub communities: Vec<Uuid>,
    pub from: chrono::DateTime<chrono::Utc>,
    pub to: chrono::DateTime<chrono::Utc>,
}

/// Rows an export reads per round trip while streaming.
pub const EXPORT_PAGE: u64 = 500;

/// The next `EXPORT_PAGE` rows of `select` after `after`, oldest first by `id_column`; a full
/// page means more may follow.
pub async fn export_page<E, C>(
    db: &C,
    select: Select<E>,
    id_column: E::Column,
    after: Option<Uuid>,
) -> AppResult<Vec<E::Model>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut select = select.order_by_asc(id_column).limit(EXPORT_PAGE);
    if let Some(after) = after {
        select = select.filter(id_column.gt(after));
    }
    Ok(select.all(db).await?)
}

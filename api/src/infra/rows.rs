//! Rows of the hot lists decoded by position straight from sqlx.
//!
//! sea-orm reads each column through a `format!` of its name and turns each NULL into a
//! formatted error before it becomes `None`: about 40,000 instructions for one order row,
//! more than a quarter of a page request (bench/RESULTS.md). The lists members poll, and the
//! merchants of a page of offers, decode here instead, by position in `Column::iter()` order
//! (`order::LISTED_COLUMNS` order for a listed order), as the same Rust types sea-orm reads.
//! sqlx's per-column type check is skipped as well (another 15 % of a request): the columns
//! are the entity's own, held in order by the test below, and every order list and the
//! offers list are exercised on both databases by the integration tests.
use entity::{merchant, order, user};
use sea_orm::{
    ActiveEnum, ConnectionTrait, DbErr, QueryResult, Statement,
    sqlx::{self, Row},
};

/// A model decodable from `COLUMNS` consecutive columns of a row.
pub trait FromRow: Sized {
    const COLUMNS: usize;
    fn from_row(row: &QueryResult, at: usize) -> Result<Self, DbErr>;
}

/// All rows of `statement` (whose columns are `M`'s, in order).
pub async fn all<M: FromRow>(
    db: &impl ConnectionTrait,
    statement: Statement,
) -> Result<Vec<M>, DbErr> {
    let rows = db.query_all_raw(statement).await?;
    rows.iter().map(|row| M::from_row(row, 0)).collect()
}

/// Nothing: the second of a pair whose first alone was selected.
impl FromRow for () {
    const COLUMNS: usize = 0;

    fn from_row(_: &QueryResult, _: usize) -> Result<Self, DbErr> {
        Ok(())
    }
}

/// A row of two models, one's columns after the other's (an inner join).
impl<A: FromRow, B: FromRow> FromRow for (A, B) {
    const COLUMNS: usize = A::COLUMNS + B::COLUMNS;

    fn from_row(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
        Ok((A::from_row(row, at)?, B::from_row(row, at + A::COLUMNS)?))
    }
}

fn decode_error(error: sqlx::Error) -> DbErr {
    DbErr::Type(error.to_string())
}

/// The column at `index` as `T`; enums are read as their strings.
macro_rules! column {
    ($row:ident, $index:expr, enum) => {
        ActiveEnum::try_from_value(
            &$row
                .try_get_unchecked::<String, _>($index)
                .map_err(decode_error)?,
        )?
    };
    ($row:ident, $index:expr, value) => {
        $row.try_get_unchecked($index).map_err(decode_error)?
    };
}

/// `FromRow` for an entity model whose fields are listed in declaration order, each marked
/// `value` (a type sqlx decodes) or `enum` (an `ActiveEnum` stored as a string); `$names`
/// lists them for the test that holds the order to sea-orm's.
macro_rules! from_row {
    ($names:ident, $model:path { $($field:ident: $kind:ident),* $(,)? }) => {
        const $names: &[&str] = &[$(stringify!($field)),*];

        impl FromRow for $model {
            const COLUMNS: usize = $names.len();

            fn from_row(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
                let mut index = at..;
                let mut next = || index.next().unwrap_or_default();
                if let Some(row) = row.try_as_pg_row() {
                    return Ok(Self { $($field: column!(row, next(), $kind)),* });
                }
                if let Some(row) = row.try_as_sqlite_row() {
                    return Ok(Self { $($field: column!(row, next(), $kind)),* });
                }
                Err(DbErr::Type("a row of neither PostgreSQL nor SQLite".into()))
            }
        }
    };
}

from_row!(ORDER_COLUMNS, order::Model {
    id: value,
    community_id: value,
    grid_id: value,
    requester_id: value,
    category_id: value,
    title: value,
    description: value,
    address: value,
    contact_phone: value,
    preferred_time: value,
    urgency: enum,
    status: enum,
    assignee_id: value,
    taker_id: value,
    response_due_at: value,
    accepted_at: value,
    completed_at: value,
    completion_summary: value,
    minutes_spent: value,
    photo_urls: value,
    rating_stars: value,
    rating_comment: value,
    rated_at: value,
    cancel_reason: value,
    version: value,
    created_at: value,
    updated_at: value,
    channel: enum,
    resident_name: value,
    placed_by_id: value,
    completion_due_at: value,
    alert_level: enum,
    alert_changed_at: value,
    escalated_to_id: value,
    escalated_street_id: value,
});

from_row!(LISTED_ORDER_COLUMNS, order::Listed {
    id: value,
    community_id: value,
    requester_id: value,
    category_id: value,
    title: value,
    urgency: enum,
    status: enum,
    response_due_at: value,
    created_at: value,
});

from_row!(
    LISTED_USER_COLUMNS,
    user::Listed {
        id: value,
        name: value
    }
);

from_row!(
    USER_COLUMNS,
    user::Model {
        id: value,
        openid: value,
        name: value,
        phone: value,
        community_id: value,
        grid_id: value,
        address: value,
        created_at: value,
        updated_at: value,
        show_on_leaderboard: value,
        skills: value,
    }
);

from_row!(MERCHANT_COLUMNS, merchant::Model {
    id: value,
    community_id: value,
    owner_id: value,
    kind: enum,
    name: value,
    description: value,
    category: value,
    address: value,
    latitude: value,
    longitude: value,
    phone: value,
    opening_hours: value,
    status: enum,
    status_reason: value,
    reviewed_by: value,
    created_at: value,
    updated_at: value,
});

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{IdenStatic, Iterable};

    fn names<C: Iterable + sea_orm::ColumnTrait>() -> Vec<String> {
        C::iter().map(|column| column.as_str().to_owned()).collect()
    }

    #[test]
    fn columns_are_decoded_in_the_order_sea_orm_selects_them() {
        assert_eq!(ORDER_COLUMNS, names::<order::Column>());
        assert_eq!(USER_COLUMNS, names::<user::Column>());
        assert_eq!(MERCHANT_COLUMNS, names::<merchant::Column>());
        let listed: Vec<_> = order::LISTED_COLUMNS.iter().map(|c| c.as_str()).collect();
        assert_eq!(LISTED_ORDER_COLUMNS, listed);
        let listed: Vec<_> = user::LISTED_COLUMNS.iter().map(|c| c.as_str()).collect();
        assert_eq!(LISTED_USER_COLUMNS, listed);
    }
}

//! Points that expire (积分有效期): a community may rule that points earned in year N expire at
//! the end of year N+1 (China time). Points are spent oldest first, so what expires is what is
//! left of the old years' credits once every debit took from the oldest. An hourly job posts
//! one EXPIRE entry per resident and year under the key `expire:{user}:{year}`: a second run,
//! or a second instance, moves nothing.
use chrono::{DateTime, Utc};
use entity::{
    enums::{EntryKind, PointsExpiry},
    points_account, points_entry, points_policy, user,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, JoinType, QueryFilter,
    QuerySelect,
    sea_query::{Expr, ExprTrait, Func},
};
use uuid::Uuid;

use super::{
    ledger::{self, Posting},
    policy::{self, Setting},
};
use crate::{error::AppResult, identity::Actor, infra::db::begin_write, values::china_time};

/// STAFF set when the community's points expire.
pub async fn set_expiry(
    db: &DatabaseConnection,
    actor: &Actor,
    community_id: Uuid,
    expiry: PointsExpiry,
) -> AppResult<PointsExpiry> {
    policy::set(db, actor, community_id, Setting::Expiry(expiry)).await?;
    Ok(expiry)
}

fn start_of_year(year: i32) -> DateTime<Utc> {
    china_time::start_of_year(year).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// When points earned in `year` expire: the start of year + 2.
pub fn expires_at(year: i32) -> DateTime<Utc> {
    start_of_year(year + 2)
}

/// What is left of each year's credits once the debits took the oldest first: (year earned,
/// points), oldest first, years with nothing left omitted. Entries are (when, amount).
pub fn unspent_by_year(entries: &[(DateTime<Utc>, i64)]) -> Vec<(i32, i64)> {
    let mut debits: i64 = entries
        .iter()
        .filter(|(_, amount)| *amount < 0)
        .map(|(_, amount)| -amount)
        .sum();
    let mut credits: Vec<(i32, i64)> = Vec::new();
    for (at, amount) in entries.iter().filter(|(_, amount)| *amount > 0) {
        let year = china_time::year_of(*at);
        match credits.iter_mut().find(|(y, _)| *y == year) {
            Some((_, sum)) => *sum += amount,
            None => credits.push((year, *amount)),
        }
    }
    credits.sort_unstable();
    credits
        .into_iter()
        .filter_map(|(year, credit)| {
            let taken = std::cmp::min(credit, debits);
            debits -= taken;
            (credit > taken).then_some((year, credit - taken))
        })
        .collect()
}

/// Points due to expire by `now`: what is left of years at least two before.
pub fn due(unspent: &[(i32, i64)], now: DateTime<Utc>) -> i64 {
    let this_year = china_time::year_of(now);
    unspent
        .iter()
        .filter(|(year, _)| *year <= this_year - 2)
        .map(|(_, points)| points)
        .sum()
}

/// The next points to expire, and when, for a resident of a community whose points expire.
pub struct NextExpiry {
    pub points: i64,
    pub at: DateTime<Utc>,
}

async fn expiry_of(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<PointsExpiry> {
    let policy = points_policy::Entity::find()
        .join(
            JoinType::InnerJoin,
            points_policy::Entity::belongs_to(user::Entity)
                .from(points_policy::Column::CommunityId)
                .to(user::Column::CommunityId)
                .into(),
        )
        .filter(user::Column::Id.eq(user_id))
        .one(db)
        .await?;
    Ok(policy.map_or(PointsExpiry::Never, |policy| policy.expiry))
}

async fn entries_of(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> AppResult<Vec<(DateTime<Utc>, i64)>> {
    Ok(points_entry::Entity::find()
        .select_only()
        .columns([
            points_entry::Column::CreatedAt,
            points_entry::Column::Amount,
        ])
        .filter(points_entry::Column::UserId.eq(user_id))
        .into_tuple()
        .all(db)
        .await?)
}

pub async fn next_expiry(db: &DatabaseConnection, user_id: Uuid) -> AppResult<Option<NextExpiry>> {
    if expiry_of(db, user_id).await? == PointsExpiry::Never {
        return Ok(None);
    }
    let unspent = unspent_by_year(&entries_of(db, user_id).await?);
    Ok(unspent.first().map(|(year, points)| NextExpiry {
        points: *points,
        at: expires_at(*year),
    }))
}

/// Residents of communities whose points expire who hold credits from before last year
/// beyond all their debits: those with something to expire at `now`, in one grouped query.
async fn holders_of_old_points(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> AppResult<Vec<Uuid>> {
    // Credits from before last year began are the ones due.
    let cut = start_of_year(china_time::year_of(now) - 1);
    let amount = || Expr::col((points_entry::Entity, points_entry::Column::Amount));
    let old_credits = Expr::case(
        amount()
            .gt(0)
            .and(Expr::col((points_entry::Entity, points_entry::Column::CreatedAt)).lt(cut)),
        amount(),
    )
    .finally(0);
    let debits = Expr::case(amount().lt(0), amount()).finally(0);
    Ok(points_entry::Entity::find()
        .select_only()
        .column(points_entry::Column::UserId)
        .join(
            JoinType::InnerJoin,
            points_entry::Entity::belongs_to(user::Entity)
                .from(points_entry::Column::UserId)
                .to(user::Column::Id)
                .into(),
        )
        .join(
            JoinType::InnerJoin,
            user::Entity::belongs_to(points_policy::Entity)
                .from(user::Column::CommunityId)
                .to(points_policy::Column::CommunityId)
                .into(),
        )
        .filter(points_policy::Column::Expiry.eq(PointsExpiry::EndOfNextYear))
        .group_by(points_entry::Column::UserId)
        .having(Func::sum(old_credits).add(Func::sum(debits)).gt(0))
        .into_tuple()
        .all(db)
        .await?)
}

/// Posts the EXPIRE entries due at `now`; returns how many residents lost points.
pub async fn expire_due(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<u64> {
    let mut expired = 0;
    for user_id in holders_of_old_points(db, now).await? {
        let txn = begin_write(db).await?;
        // The account's row lock holds off spends while the oldest credits are counted.
        points_account::Entity::find_by_id(user_id)
            .lock_exclusive()
            .one(&txn)
            .await?;
        let points = due(&unspent_by_year(&entries_of(&txn, user_id).await?), now);
        if points > 0 {
            let year = china_time::year_of(now);
            ledger::post(
                &txn,
                Posting {
                    user_id,
                    kind: EntryKind::Expire,
                    amount: -points,
                    reference: None,
                    rate: None,
                    reason: Some(format!("{} 年及以前获得的积分到期", year - 2)),
                    idempotency_key: Some(format!("expire:{user_id}:{year}")),
                    created_by: None,
                },
            )
            .await?;
            expired += 1;
        }
        txn.commit().await?;
    }
    Ok(expired)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(year: i32, month: u32) -> DateTime<Utc> {
        china_time::start_of(chrono::NaiveDate::from_ymd_opt(year, month, 1).expect("date"))
    }

    #[test]
    fn spending_takes_the_oldest_points_first() {
        let entries = [
            (at(2024, 3), 100),
            (at(2025, 6), 50),
            (at(2025, 7), -30),
            (at(2026, 1), 40),
            (at(2026, 2), -90),
        ];
        // 120 spent: all of 2024's 100, then 20 of 2025's 50.
        assert_eq!(unspent_by_year(&entries), vec![(2025, 30), (2026, 40)]);
        assert_eq!(due(&unspent_by_year(&entries), at(2026, 5)), 0);
        assert_eq!(due(&unspent_by_year(&entries), at(2027, 1)), 30);
    }

    #[test]
    fn years_turn_at_midnight_china_time() {
        let new_year = at(2026, 1);
        assert_eq!(china_time::year_of(new_year), 2026);
        assert_eq!(
            china_time::year_of(new_year - chrono::Duration::seconds(1)),
            2025
        );
        assert_eq!(expires_at(2024), at(2026, 1));
    }

    #[test]
    fn what_is_unspent_is_the_balance() {
        let entries = [(at(2024, 1), 10), (at(2024, 2), -10), (at(2025, 1), 5)];
        let unspent = unspent_by_year(&entries);
        assert_eq!(unspent, vec![(2025, 5)]);
        assert_eq!(unspent.iter().map(|(_, p)| p).sum::<i64>(), 5);
    }
}

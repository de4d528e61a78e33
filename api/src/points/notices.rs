//! What a community publishes about its volunteers: the leaderboard and the monthly notice
//! (积分公示). Names follow each volunteer's privacy choice (`identity::public_name`).
use chrono::{DateTime, Utc};
use entity::{
    enums::{RecordStatus, ServiceSource},
    service_record, user,
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::rules::{self, Period};
use crate::{
    error::{AppError, AppResult},
    identity,
    infra::db::sum_i64,
    organisation,
    pagination::MAX_PAGE_SIZE,
    values::Month,
};

/// Most lines a monthly notice lists.
const MAX_NOTICE_LINES: u64 = 2000;

pub struct LeaderboardEntry {
    pub rank: i32,
    pub name: String,
    pub confirmed_minutes: i64,
}

/// The community's volunteers with the most confirmed time in `period` (China time), best first.
pub async fn leaderboard(
    db: &DatabaseConnection,
    community_id: Uuid,
    period: Period,
    first: i32,
) -> AppResult<Vec<LeaderboardEntry>> {
    if !(1..=MAX_PAGE_SIZE as i32).contains(&first) {
        return Err(AppError::bad_input(format!(
            "first must be between 1 and {MAX_PAGE_SIZE}"
        )));
    }
    let mut query = service_record::Entity::find()
        .select_only()
        .column(service_record::Column::UserId)
        .column_as(sum_i64(service_record::Column::Minutes), "minutes")
        .filter(service_record::Column::CommunityId.eq(community_id))
        .filter(service_record::Column::Status.eq(RecordStatus::Confirmed));
    if let Some(since) = rules::period_start(period, Utc::now()) {
        query = query.filter(service_record::Column::ConfirmedAt.gte(since));
    }
    let totals: Vec<(Uuid, i64)> = query
        .group_by(service_record::Column::UserId)
        .order_by(sum_i64(service_record::Column::Minutes), Order::Desc)
        .order_by_asc(service_record::Column::UserId)
        .limit(first as u64)
        .into_tuple()
        .all(db)
        .await?;
    let users = users_by_id(db, totals.iter().map(|(id, _)| *id)).await?;
    Ok(totals
        .into_iter()
        .filter_map(|(id, minutes)| users.iter().find(|u| u.id == id).map(|u| (u, minutes)))
        .zip(1..)
        .map(|((user, minutes), rank)| LeaderboardEntry {
            rank,
            name: identity::public_name(user),
            confirmed_minutes: minutes,
        })
        .collect())
}

pub struct NoticeLine {
    /// The confirmed service record it shows; objections name it.
    pub record_id: Uuid,
    pub name: String,
    pub source: ServiceSource,
    pub minutes: i32,
    pub points: i64,
    pub confirmed_at: Option<DateTime<Utc>>,
}

pub struct MonthlyNotice {
    pub total_minutes: i64,
    pub total_points: i64,
    pub lines: Vec<NoticeLine>,
}

/// Every record confirmed in `month` ("2026-11", China time), oldest first, with totals.
pub async fn monthly(
    db: &DatabaseConnection,
    community_id: Uuid,
    month: Month,
) -> AppResult<MonthlyNotice> {
    let (from, to) = month.bounds();
    organisation::get_community(db, community_id).await?;
    let records = service_record::Entity::find()
        .filter(service_record::Column::CommunityId.eq(community_id))
        .filter(service_record::Column::Status.eq(RecordStatus::Confirmed))
        .filter(service_record::Column::ConfirmedAt.gte(from))
        .filter(service_record::Column::ConfirmedAt.lt(to))
        .order_by_asc(service_record::Column::ConfirmedAt)
        .limit(MAX_NOTICE_LINES)
        .all(db)
        .await?;
    let users = users_by_id(db, records.iter().map(|r| r.user_id)).await?;
    let lines: Vec<NoticeLine> = records
        .into_iter()
        .filter_map(|record| {
            let user = users.iter().find(|u| u.id == record.user_id)?;
            Some(NoticeLine {
                record_id: record.id,
                name: identity::public_name(user),
                source: record.source,
                minutes: record.minutes,
                points: record.points.unwrap_or(0),
                confirmed_at: record.confirmed_at,
            })
        })
        .collect();
    Ok(MonthlyNotice {
        total_minutes: lines.iter().map(|l| i64::from(l.minutes)).sum(),
        total_points: lines.iter().map(|l| l.points).sum(),
        lines,
    })
}

async fn users_by_id(
    db: &DatabaseConnection,
    ids: impl IntoIterator<Item = Uuid>,
) -> AppResult<Vec<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(db)
        .await?)
}

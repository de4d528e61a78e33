//! Settlement (会昌's volunteer time offsetting property fees, and every merchant's): a
//! merchant's monthly statement lists the redemptions verified at its counter that month, with
//! their points and their value in yuan at the community's rate; STAFF mark it paid once the
//! month is over, exactly once.
use chrono::Utc;
use entity::{
    enums::RedemptionStatus, merchant, merchant_statement, offer, redemption, settlement_rate,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, sea_query::OnConflict,
};
use uuid::Uuid;

use super::{get, staff_role};
use crate::{
    error::{AppError, AppResult},
    identity::Actor,
    infra::db::begin_write,
    values::Month,
};

/// The rate when a community set none: 10 points to the yuan.
pub const DEFAULT_POINTS_PER_YUAN: i64 = 10;

pub async fn rate_of(db: &impl ConnectionTrait, community_id: Uuid) -> AppResult<i64> {
    Ok(settlement_rate::Entity::find_by_id(community_id)
        .one(db)
        .await?
        .map_or(DEFAULT_POINTS_PER_YUAN, |rate| rate.points_per_yuan))
}

/// STAFF set how many points their community settles as one yuan.
pub async fn set_rate(
    db: &DatabaseConnection,
    actor: &Actor,
    community_id: Uuid,
    points_per_yuan: i64,
) -> AppResult<i64> {
    if !actor.roles.is_staff_of(community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community set its settlement rate",
        ));
    }
    if !(1..=10_000).contains(&points_per_yuan) {
        return Err(AppError::bad_input(
            "pointsPerYuan must be between 1 and 10000",
        ));
    }
    settlement_rate::Entity::insert(settlement_rate::ActiveModel {
        community_id: Set(community_id),
        points_per_yuan: Set(points_per_yuan),
        updated_by: Set(actor.id),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(settlement_rate::Column::CommunityId)
            .update_columns([
                settlement_rate::Column::PointsPerYuan,
                settlement_rate::Column::UpdatedBy,
                settlement_rate::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(points_per_yuan)
}

/// Points as yuan, in whole fen (rounded down).
pub fn cents(points: i64, points_per_yuan: i64) -> i64 {
    points * 100 / points_per_yuan
}

pub struct Statement {
    pub merchant: merchant::Model,
    pub month: String,
    /// The month's verified redemptions, oldest first, with their offers' titles.
    pub lines: Vec<(redemption::Model, String)>,
    pub points: i64,
    pub points_per_yuan: i64,
    pub paid: Option<merchant_statement::Model>,
}

impl Statement {
    /// What is owed: once paid, what was paid (the rate may have changed since).
    pub fn yuan_cents(&self) -> i64 {
        self.paid.as_ref().map_or_else(
            || cents(self.points, self.points_per_yuan),
            |paid| paid.yuan_cents,
        )
    }
}

/// The merchant's own people and STAFF of its community.
async fn may_see(
    db: &impl ConnectionTrait,
    actor: &Actor,
    merchant: &merchant::Model,
) -> AppResult<bool> {
    Ok(actor.roles.is_staff_of(merchant.community_id)
        || staff_role(db, actor.id, merchant.id).await?.is_some())
}

async fn read(
    db: &impl ConnectionTrait,
    merchant: merchant::Model,
    month: Month,
) -> AppResult<Statement> {
    let (from, to) = month.bounds();
    let verified = redemption::Entity::find()
        .filter(redemption::Column::MerchantId.eq(merchant.id))
        .filter(redemption::Column::Status.eq(RedemptionStatus::Verified))
        .filter(redemption::Column::VerifiedAt.gte(from))
        .filter(redemption::Column::VerifiedAt.lt(to))
        .order_by_asc(redemption::Column::VerifiedAt)
        .all(db)
        .await?;
    let offers: std::collections::HashMap<Uuid, String> = offer::Entity::find()
        .filter(offer::Column::MerchantId.eq(merchant.id))
        .all(db)
        .await?
        .into_iter()
        .map(|offer| (offer.id, offer.title))
        .collect();
    let points = verified.iter().map(|r| r.points_cost).sum();
    let paid = merchant_statement::Entity::find_by_id((merchant.id, month.to_string()))
        .one(db)
        .await?;
    Ok(Statement {
        points_per_yuan: rate_of(db, merchant.community_id).await?,
        lines: verified
            .into_iter()
            .map(|r| {
                let title = offers.get(&r.offer_id).cloned().unwrap_or_default();
                (r, title)
            })
            .collect(),
        points,
        paid,
        month: month.to_string(),
        merchant,
    })
}

pub async fn statement(
    db: &DatabaseConnection,
    actor: &Actor,
    merchant_id: Uuid,
    month: Month,
) -> AppResult<Statement> {
    let merchant = get(db, merchant_id).await?;
    if !may_see(db, actor, &merchant).await? {
        return Err(AppError::forbidden(
            "only the merchant's people and STAFF of its community see its statements",
        ));
    }
    read(db, merchant, month).await
}

/// STAFF mark a month's statement paid, once the month is over; its points and yuan are
/// recorded as paid.
pub async fn mark_paid(
    db: &DatabaseConnection,
    actor: &Actor,
    merchant_id: Uuid,
    month: Month,
) -> AppResult<Statement> {
    let merchant = get(db, merchant_id).await?;
    if !actor.roles.is_staff_of(merchant.community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the merchant's community settle its statements",
        ));
    }
    let (_, end) = month.bounds();
    if Utc::now() < end {
        return Err(AppError::conflict(
            "a month's statement is settled once the month is over",
        ));
    }
    let txn = begin_write(db).await?;
    let due = read(&txn, merchant, month).await?;
    let paid = merchant_statement::Entity::insert(merchant_statement::ActiveModel {
        merchant_id: Set(merchant_id),
        month: Set(month.to_string()),
        points: Set(due.points),
        yuan_cents: Set(due.yuan_cents()),
        paid_by: Set(actor.id),
        paid_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([
            merchant_statement::Column::MerchantId,
            merchant_statement::Column::Month,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if paid == 0 {
        return Err(AppError::conflict("this statement is already paid"));
    }
    let settled = read(&txn, due.merchant, month).await?;
    txn.commit().await?;
    Ok(settled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_become_fen_at_the_rate_rounded_down() {
        assert_eq!(cents(25, 10), 250);
        assert_eq!(cents(1, 3), 33);
    }
}

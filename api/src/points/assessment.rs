//! The Party members' yearly assessment (党建超市): each community sets a bar of confirmed
//! service points for the year (80 by default) and, if it wants, a least number of orders
//! completed, activities attended and wishes fulfilled; each member reporting to it is
//! measured against them. STAFF list their community's members; a member sees their own.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    assessment_rule,
    enums::{RecordStatus, Role, ServiceSource, WishStatus},
    order, role_grant, service_record, user, wish,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::OnConflict,
};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    identity::Actor,
    infra::db::sum_i64,
    values::china_time::year_bounds,
};

/// The bar when a community set none: 80 points of confirmed service a year.
pub const DEFAULT_BAR_POINTS: i64 = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    pub bar_points: i64,
    pub min_orders: i64,
    pub min_activities: i64,
    pub min_wishes: i64,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            bar_points: DEFAULT_BAR_POINTS,
            min_orders: 0,
            min_activities: 0,
            min_wishes: 0,
        }
    }
}

/// What a member did for a community in the period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Record {
    pub points: i64,
    pub minutes: i64,
    pub orders_completed: i64,
    pub activities_attended: i64,
    pub wishes_fulfilled: i64,
}

impl Rules {
    pub fn passed(&self, record: &Record) -> bool {
        record.points >= self.bar_points
            && record.orders_completed >= self.min_orders
            && record.activities_attended >= self.min_activities
            && record.wishes_fulfilled >= self.min_wishes
    }
}

pub struct MemberYear {
    pub user: user::Model,
    pub record: Record,
    pub passed: bool,
}

pub async fn rules_of(db: &impl ConnectionTrait, community_id: Uuid) -> AppResult<Rules> {
    Ok(assessment_rule::Entity::find_by_id(community_id)
        .one(db)
        .await?
        .map_or_else(Rules::default, |row| Rules {
            bar_points: row.bar_points,
            min_orders: row.min_orders,
            min_activities: row.min_activities,
            min_wishes: row.min_wishes,
        }))
}

/// STAFF set their community's bar and required items.
pub async fn set_rules(
    db: &DatabaseConnection,
    actor: &Actor,
    community_id: Uuid,
    rules: Rules,
) -> AppResult<Rules> {
    if !actor.roles.is_staff_of(community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community set its assessment",
        ));
    }
    let counts = [
        rules.bar_points,
        rules.min_orders,
        rules.min_activities,
        rules.min_wishes,
    ];
    if counts.iter().any(|n| !(0..=100_000).contains(n)) {
        return Err(AppError::bad_input(
            "the bar and each required number must be between 0 and 100000",
        ));
    }
    assessment_rule::Entity::insert(assessment_rule::ActiveModel {
        community_id: Set(community_id),
        bar_points: Set(rules.bar_points),
        min_orders: Set(rules.min_orders),
        min_activities: Set(rules.min_activities),
        min_wishes: Set(rules.min_wishes),
        updated_by: Set(actor.id),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(assessment_rule::Column::CommunityId)
            .update_columns([
                assessment_rule::Column::BarPoints,
                assessment_rule::Column::MinOrders,
                assessment_rule::Column::MinActivities,
                assessment_rule::Column::MinWishes,
                assessment_rule::Column::UpdatedBy,
                assessment_rule::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    rules_of(db, community_id).await
}

/// How many rows of `select` each value of `column` has.
async fn count_by<E: EntityTrait>(
    db: &impl ConnectionTrait,
    select: sea_orm::Select<E>,
    column: E::Column,
) -> AppResult<HashMap<Uuid, i64>> {
    let counts: Vec<(Uuid, i64)> = select
        .select_only()
        .column(column)
        .column_as(sea_orm::sea_query::Expr::cust("COUNT(*)"), "n")
        .group_by(column)
        .into_tuple()
        .all(db)
        .await?;
    Ok(counts.into_iter().collect())
}

/// What each of `members` did for the community from `from` to `to`.
pub async fn records(
    db: &impl ConnectionTrait,
    community_id: Uuid,
    members: &[Uuid],
    (from, to): (DateTime<Utc>, DateTime<Utc>),
) -> AppResult<HashMap<Uuid, Record>> {
    let confirmed = service_record::Entity::find()
        .filter(service_record::Column::CommunityId.eq(community_id))
        .filter(service_record::Column::UserId.is_in(members.iter().copied()))
        .filter(service_record::Column::Status.eq(RecordStatus::Confirmed))
        .filter(service_record::Column::ConfirmedAt.gte(from))
        .filter(service_record::Column::ConfirmedAt.lt(to));
    let time: Vec<(Uuid, i64, i64)> = confirmed
        .clone()
        .select_only()
        .column(service_record::Column::UserId)
        .column_as(sum_i64(service_record::Column::Points), "points")
        .column_as(sum_i64(service_record::Column::Minutes), "minutes")
        .group_by(service_record::Column::UserId)
        .into_tuple()
        .all(db)
        .await?;
    let activities = count_by(
        db,
        confirmed.filter(service_record::Column::Source.eq(ServiceSource::Activity)),
        service_record::Column::UserId,
    )
    .await?;
    let orders = count_by(
        db,
        order::Entity::find()
            .filter(order::Column::CommunityId.eq(community_id))
            .filter(order::Column::TakerId.is_in(members.iter().copied()))
            .filter(order::Column::CompletedAt.gte(from))
            .filter(order::Column::CompletedAt.lt(to)),
        order::Column::TakerId,
    )
    .await?;
    let wishes = count_by(
        db,
        wish::Entity::find()
            .filter(wish::Column::CommunityId.eq(community_id))
            .filter(wish::Column::ClaimerId.is_in(members.iter().copied()))
            .filter(wish::Column::Status.eq(WishStatus::Fulfilled))
            .filter(wish::Column::FulfilledAt.gte(from))
            .filter(wish::Column::FulfilledAt.lt(to)),
        wish::Column::ClaimerId,
    )
    .await?;
    let mut found: HashMap<Uuid, Record> = HashMap::new();
    for (member, points, minutes) in time {
        let record = found.entry(member).or_default();
        record.points = points;
        record.minutes = minutes;
    }
    for (member, n) in activities {
        found.entry(member).or_default().activities_attended = n;
    }
    for (member, n) in orders {
        found.entry(member).or_default().orders_completed = n;
    }
    for (member, n) in wishes {
        found.entry(member).or_default().wishes_fulfilled = n;
    }
    Ok(found)
}

/// The community's approved Party members, each with what they did in the period and whether
/// they pass, by name.
pub async fn assess(
    db: &impl ConnectionTrait,
    community_id: Uuid,
    period: (DateTime<Utc>, DateTime<Utc>),
) -> AppResult<(Rules, Vec<MemberYear>)> {
    let rules = rules_of(db, community_id).await?;
    let members: Vec<Uuid> = role_grant::Entity::find()
        .select_only()
        .column(role_grant::Column::UserId)
        .filter(role_grant::Column::Role.eq(Role::PartyMember))
        .filter(role_grant::Column::CommunityId.eq(community_id))
        .into_tuple()
        .all(db)
        .await?;
    let found = records(db, community_id, &members, period).await?;
    let users = user::Entity::find()
        .filter(user::Column::Id.is_in(members))
        .order_by_asc(user::Column::Name)
        .order_by_asc(user::Column::Id)
        .all(db)
        .await?;
    let assessed = users
        .into_iter()
        .map(|user| {
            let record = found.get(&user.id).copied().unwrap_or_default();
            MemberYear {
                passed: rules.passed(&record),
                user,
                record,
            }
        })
        .collect();
    Ok((rules, assessed))
}

/// STAFF: their community's members in `year`.
pub async fn for_staff(
    db: &DatabaseConnection,
    actor: &Actor,
    community_id: Uuid,
    year: i32,
) -> AppResult<(Rules, Vec<MemberYear>)> {
    if !actor.roles.is_staff_of(community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community see its members' assessment",
        ));
    }
    assess(db, community_id, year_bounds(year)?).await
}

/// A member's own progress in `year`, in each community they report to.
pub async fn mine(
    db: &DatabaseConnection,
    actor: &Actor,
    year: i32,
) -> AppResult<Vec<(Uuid, Rules, Record)>> {
    let period = year_bounds(year)?;
    let mut progress = Vec::new();
    for community_id in actor.roles.member_communities() {
        let rules = rules_of(db, community_id).await?;
        let record = records(db, community_id, &[actor.id], period)
            .await?
            .remove(&actor.id)
            .unwrap_or_default();
        progress.push((community_id, rules, record));
    }
    Ok(progress)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_passes_at_the_bar_with_every_required_item() {
        let rules = Rules {
            min_activities: 2,
            ..Rules::default()
        };
        let record = Record {
            points: 80,
            activities_attended: 2,
            ..Record::default()
        };
        assert!(rules.passed(&record));
        assert!(!rules.passed(&Record {
            points: 79,
            ..record
        }));
        assert!(!rules.passed(&Record {
            activities_attended: 1,
            ..record
        }));
    }
}

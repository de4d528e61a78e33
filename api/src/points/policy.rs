//! Each community's points policy, one row per community: what a resident may give to family
//! in a month (`gifts`) and when points expire (`expiry`). STAFF change one setting at a time;
//! the others keep their values, or their defaults when the community had no policy yet.
use chrono::Utc;
use entity::{enums::PointsExpiry, points_policy};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, DatabaseConnection, EntityTrait,
    sea_query::{Expr, Func, OnConflict, Query},
};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    identity::Actor,
};

/// The monthly cap when a community set none.
pub const DEFAULT_GIFT_MONTHLY_CAP: i64 = 200;

/// A community's monthly cap as an expression, for the statement that checks or reads it.
pub fn gift_cap(community_id: Uuid) -> Expr {
    let set = Query::select()
        .column(points_policy::Column::GiftMonthlyCap)
        .from(points_policy::Entity)
        .and_where(points_policy::Column::CommunityId.eq(community_id))
        .to_owned();
    Func::coalesce([
        Expr::SubQuery(None, Box::new(set.into())),
        Expr::val(DEFAULT_GIFT_MONTHLY_CAP),
    ])
    .into()
}

pub enum Setting {
    GiftMonthlyCap(i64),
    Expiry(PointsExpiry),
}

pub async fn set(
    db: &DatabaseConnection,
    actor: &Actor,
    community_id: Uuid,
    setting: Setting,
) -> AppResult<()> {
    if !actor.roles.is_staff_of(community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community set its points policy",
        ));
    }
    let mut row = points_policy::ActiveModel {
        community_id: Set(community_id),
        gift_monthly_cap: Set(DEFAULT_GIFT_MONTHLY_CAP),
        expiry: Set(PointsExpiry::Never),
        updated_by: Set(actor.id),
        updated_at: Set(Utc::now()),
    };
    let changed = match setting {
        Setting::GiftMonthlyCap(cap) => {
            row.gift_monthly_cap = Set(cap);
            points_policy::Column::GiftMonthlyCap
        }
        Setting::Expiry(expiry) => {
            row.expiry = Set(expiry);
            points_policy::Column::Expiry
        }
    };
    points_policy::Entity::insert(row)
        .on_conflict(
            OnConflict::column(points_policy::Column::CommunityId)
                .update_columns([
                    changed,
                    points_policy::Column::UpdatedBy,
                    points_policy::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

//! Points for family (积分转赠): a resident gives points to a family member registered at the
//! same address in the same community, up to the community's monthly cap. Both sides see it in
//! their ledger (GIFT_OUT, GIFT_IN), posted in one transaction under the giver's idempotency
//! key, so a retried gift moves points once; the giver's balance never goes below zero.
use chrono::Utc;
use entity::{enums::EntryKind, points_entry, points_policy};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use super::{
    Moved,
    ledger::{self, Posting},
    policy::{self, Setting},
    replay_or_post, rules,
};
use crate::{
    china_time::month_bounds,
    error::{AppError, AppResult},
    identity::{self, Actor},
    infra::db::{begin_serialised, sum_i64},
    validate,
};

/// The monthly cap when a community set none.
pub const DEFAULT_GIFT_MONTHLY_CAP: i64 = 200;

pub async fn gift_cap_of(db: &impl ConnectionTrait, community_id: Uuid) -> AppResult<i64> {
    Ok(points_policy::Entity::find_by_id(community_id)
        .one(db)
        .await?
        .map_or(DEFAULT_GIFT_MONTHLY_CAP, |policy| policy.gift_monthly_cap))
}

/// STAFF set how many points a resident may give away in a month (0: no gifts).
pub async fn set_gift_cap(
    db: &DatabaseConnection,
    actor: &Actor,
    community_id: Uuid,
    cap: i64,
) -> AppResult<i64> {
    if !(0..=100_000).contains(&cap) {
        return Err(AppError::bad_input(
            "giftMonthlyCap must be between 0 and 100000",
        ));
    }
    policy::set(db, actor, community_id, Setting::GiftMonthlyCap(cap)).await?;
    Ok(cap)
}

/// Family: registered in the same community at the same (non-empty) address.
pub fn same_household(giver: &entity::user::Model, receiver: &entity::user::Model) -> bool {
    let address = |user: &entity::user::Model| {
        user.address
            .as_deref()
            .map(str::trim)
            .filter(|address| !address.is_empty())
            .map(str::to_owned)
    };
    giver.community_id.is_some()
        && giver.community_id == receiver.community_id
        && address(giver).is_some()
        && address(giver) == address(receiver)
}

pub struct Gift {
    pub to: Uuid,
    pub amount: i64,
    pub note: Option<String>,
    pub idempotency_key: String,
}

/// The giver's GIFT_OUT entry.
pub async fn give(
    db: &DatabaseConnection,
    actor: &Actor,
    gift: Gift,
) -> AppResult<points_entry::Model> {
    let note = validate::optional_text("note", gift.note.as_deref(), 100)?;
    let key = validate::text("idempotencyKey", &gift.idempotency_key, 8, 64)?;
    if gift.to == actor.id {
        return Err(AppError::bad_input("give points to someone else"));
    }
    if gift.amount <= 0 {
        return Err(AppError::bad_input("amount must be positive"));
    }
    let giver = identity::get_user(db, actor.id).await?;
    let receiver = identity::get_user(db, gift.to).await?;
    if !same_household(&giver, &receiver) {
        return Err(AppError::forbidden(
            "points go only to family registered at your address in your community",
        ));
    }
    let community_id = giver
        .community_id
        .ok_or_else(|| AppError::bad_input("set your community in your profile first"))?;
    let out_key = format!("gift:{}:{key}:out", actor.id);
    let moved = Moved {
        user_id: actor.id,
        amount: -gift.amount,
        counterpart: Some(gift.to),
    };
    replay_or_post(db, Some(&out_key), moved, async {
        // The month's total is read after the giver is held, in the transaction that adds to
        // it: concurrent gifts cannot each see it before the others.
        let txn = begin_serialised(db, &format!("gift:{}", actor.id)).await?;
        let cap = gift_cap_of(&txn, community_id).await?;
        let (month_start, _) = month_bounds(&rules::month_of(Utc::now()))?;
        let given: Option<i64> = points_entry::Entity::find()
            .select_only()
            .column_as(sum_i64(points_entry::Column::Amount), "given")
            .filter(points_entry::Column::UserId.eq(actor.id))
            .filter(points_entry::Column::Kind.eq(EntryKind::GiftOut))
            .filter(points_entry::Column::CreatedAt.gte(month_start))
            .into_tuple()
            .one(&txn)
            .await?
            .flatten();
        let given = -given.unwrap_or(0);
        if given + gift.amount > cap {
            return Err(AppError::conflict(format!(
                "your community lets you give {cap} points a month; you have given {given}"
            )));
        }
        let posting = |user_id, kind, amount, side: &str| Posting {
            user_id,
            kind,
            amount,
            reference: Some(("user", if side == "out" { gift.to } else { actor.id })),
            rate: None,
            reason: note.clone(),
            idempotency_key: Some(format!("gift:{}:{key}:{side}", actor.id)),
            created_by: Some(actor.id),
        };
        let out = ledger::post(
            &txn,
            posting(actor.id, EntryKind::GiftOut, -gift.amount, "out"),
        )
        .await?;
        ledger::post(&txn, posting(gift.to, EntryKind::GiftIn, gift.amount, "in")).await?;
        txn.commit().await?;
        Ok(out)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resident(community: Option<Uuid>, address: &str) -> entity::user::Model {
        entity::user::Model {
            id: Uuid::now_v7(),
            openid: String::new(),
            name: None,
            phone: None,
            community_id: community,
            grid_id: None,
            address: Some(address.to_owned()),
            created_at: Utc::now(),
            updated_at: Utc::now(),
            show_on_leaderboard: false,
            skills: String::new(),
        }
    }

    #[test]
    fn family_shares_a_community_and_an_address() {
        let here = Some(Uuid::now_v7());
        let home = resident(here, "3号楼2单元401");
        assert!(same_household(&home, &resident(here, " 3号楼2单元401 ")));
        assert!(!same_household(&home, &resident(here, "3号楼2单元402")));
        assert!(!same_household(
            &home,
            &resident(Some(Uuid::now_v7()), "3号楼2单元401")
        ));
        assert!(!same_household(&resident(here, ""), &resident(here, "")));
    }
}

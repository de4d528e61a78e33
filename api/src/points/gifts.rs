//! Points for family (积分转赠): a resident gives points to a member of a confirmed household,
//! up to the community's monthly cap. A household is confirmed pair by pair: the giver accepts
//! the receiver, or STAFF confirm that both live there; an address typed into a profile is not
//! enough, and a confirmation holds only while both stay registered at that address. Both
//! sides see a gift in their ledger (GIFT_OUT, GIFT_IN), posted in one transaction under the
//! giver's idempotency key, so a retried gift moves points once (on PostgreSQL in one statement
//! when every row can say yes on its own); the giver's balance never goes below zero. What a
//! giver gave in the month is a row (`gift_budgets`) the gift bumps.
use chrono::{DateTime, Utc};
use entity::{enums::EntryKind, gift_budget, household_link, points_account, points_entry, user};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    sea_query::{Expr, ExprTrait, InsertStatement, OnConflict, Query, UpdateStatement},
};
use uuid::Uuid;

use super::{
    Moved,
    ledger::{self, Posting},
    policy::{self, Setting},
    replay_or_post_after,
};
use crate::{
    content::{Cleared, ContentGuard, Scene},
    error::{AppError, AppResult},
    identity::{self, Actor},
    infra::db::{self, begin_write, select_prefixed, sum_i64},
    validate,
    values::Month,
};

/// Others one giver may have in their household: bounds `myHousehold`.
pub const MAX_HOUSEHOLD: usize = 20;

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

/// The address a resident is registered at, trimmed; `None` when blank.
fn address_of(user: &user::Model) -> Option<&str> {
    user.address
        .as_deref()
        .map(str::trim)
        .filter(|address| !address.is_empty())
}

/// Registered in the same community at the same (non-empty) address: the condition for
/// confirming a household, not a confirmation.
pub fn same_household(giver: &user::Model, receiver: &user::Model) -> bool {
    giver.community_id.is_some()
        && giver.community_id == receiver.community_id
        && address_of(giver).is_some()
        && address_of(giver) == address_of(receiver)
}

/// Whether `link` still holds: both are registered where it was confirmed.
fn holds(link: &household_link::Model, giver: &user::Model, receiver: &user::Model) -> bool {
    same_household(giver, receiver)
        && giver.community_id == Some(link.community_id)
        && address_of(giver) == Some(link.address.as_str())
}

/// The giver accepts `receiver_id` as family: the giver's points may go to them.
pub async fn accept_member(
    db: &DatabaseConnection,
    actor: &Actor,
    receiver_id: Uuid,
) -> AppResult<household_link::Model> {
    if receiver_id == actor.id {
        return Err(AppError::bad_input("accept someone else"));
    }
    let giver = identity::get_user(db, actor.id).await?;
    let receiver = identity::get_user(db, receiver_id).await?;
    let [link] = confirm(db, actor, [(&giver, &receiver)]).await?;
    Ok(link)
}

/// STAFF of their community confirm that two residents live together: points may go either
/// way between them.
pub async fn confirm_by_staff(
    db: &DatabaseConnection,
    actor: &Actor,
    first: Uuid,
    second: Uuid,
) -> AppResult<[household_link::Model; 2]> {
    let (first, second) = (
        identity::get_user(db, first).await?,
        identity::get_user(db, second).await?,
    );
    if !first
        .community_id
        .is_some_and(|community| actor.roles.is_staff_of(community))
    {
        return Err(AppError::forbidden(
            "only STAFF of the residents' community confirm their household",
        ));
    }
    if first.id == second.id {
        return Err(AppError::bad_input(
            "a household is two different residents",
        ));
    }
    confirm(db, actor, [(&first, &second), (&second, &first)]).await
}

/// Records `(giver, receiver)` pairs confirmed by `actor`; a pair confirmed again is dated anew.
async fn confirm<const N: usize>(
    db: &DatabaseConnection,
    actor: &Actor,
    pairs: [(&user::Model, &user::Model); N],
) -> AppResult<[household_link::Model; N]> {
    if pairs
        .iter()
        .any(|(giver, receiver)| !same_household(giver, receiver))
    {
        return Err(AppError::forbidden(
            "a household is confirmed only for residents registered at the same address in the \
             same community",
        ));
    }
    for (giver, receiver) in &pairs {
        let others = household_link::Entity::find()
            .filter(household_link::Column::GiverId.eq(giver.id))
            .filter(household_link::Column::ReceiverId.ne(receiver.id))
            .count(db)
            .await?;
        if others >= MAX_HOUSEHOLD as u64 {
            return Err(AppError::bad_input(format!(
                "a household has at most {MAX_HOUSEHOLD} others; remove someone first"
            )));
        }
    }
    let now = Utc::now();
    // `same_household` holds for each pair: the community and address are there.
    let links = pairs.map(|(giver, receiver)| household_link::Model {
        giver_id: giver.id,
        receiver_id: receiver.id,
        community_id: giver.community_id.unwrap_or_default(),
        address: address_of(giver).unwrap_or_default().to_owned(),
        confirmed_by: actor.id,
        confirmed_at: now,
    });
    household_link::Entity::insert_many(
        links.iter().cloned().map(household_link::ActiveModel::from),
    )
    .on_conflict(
        OnConflict::columns([
            household_link::Column::GiverId,
            household_link::Column::ReceiverId,
        ])
        .update_columns([
            household_link::Column::CommunityId,
            household_link::Column::Address,
            household_link::Column::ConfirmedBy,
            household_link::Column::ConfirmedAt,
        ])
        .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(links)
}

/// The giver takes `receiver_id` off their household.
pub async fn remove_member(
    db: &DatabaseConnection,
    actor: &Actor,
    receiver_id: Uuid,
) -> AppResult<()> {
    let removed = household_link::Entity::delete_by_id((actor.id, receiver_id))
        .exec(db)
        .await?;
    if removed.rows_affected == 0 {
        return Err(AppError::NotFound("member of your household"));
    }
    Ok(())
}

/// Those the giver may give points to now, in the order they were confirmed.
pub async fn members_of(
    db: &DatabaseConnection,
    giver_id: Uuid,
) -> AppResult<Vec<household_link::Model>> {
    let giver = identity::get_user(db, giver_id).await?;
    let links = household_link::Entity::find()
        .filter(household_link::Column::GiverId.eq(giver_id))
        .order_by_asc(household_link::Column::ConfirmedAt)
        .all(db)
        .await?;
    let receivers = user::Entity::find()
        .filter(user::Column::Id.is_in(links.iter().map(|link| link.receiver_id)))
        .all(db)
        .await?;
    Ok(links
        .into_iter()
        .filter(|link| {
            receivers
                .iter()
                .any(|receiver| receiver.id == link.receiver_id && holds(link, &giver, receiver))
        })
        .collect())
}

pub struct Gift {
    pub to: Uuid,
    pub amount: i64,
    pub note: Option<String>,
    pub idempotency_key: String,
}

/// The compare-and-set that takes `amount` from the giver's month row when the row can say yes
/// on its own; it changes no row otherwise.
fn budget_taken(
    giver: Uuid,
    community_id: Uuid,
    amount: i64,
    now: DateTime<Utc>,
) -> UpdateStatement {
    use gift_budget::Column;
    let (month_start, _) = Month::of(now).bounds();
    let given_this_month: Expr =
        Expr::case(Column::MonthStart.eq(month_start), Expr::col(Column::Given))
            .finally(Expr::val(0))
            .into();
    gift_budget::Entity::update_many()
        .col_expr(Column::Given, given_this_month.clone().add(amount))
        .col_expr(Column::MonthStart, Expr::val(month_start))
        .filter(Column::GiverId.eq(giver))
        // An instance whose clock is behind never moves the row back a month.
        .filter(Column::MonthStart.lte(month_start))
        .filter(
            given_this_month
                .add(amount)
                .lte(policy::gift_cap(community_id)),
        )
        .into_query()
}

/// Takes `amount` from the giver's budget of the month, or refuses it. Run in the gift's
/// transaction: the giver's row stays locked until it commits, so concurrent gifts cannot each
/// see room for one more. The compare-and-set starts the row over when a new month begins
/// (every gift since the row was made went through it); the month's entries are summed only
/// when the row is missing or says no.
async fn take_from_budget(
    txn: &DatabaseTransaction,
    giver: Uuid,
    community_id: Uuid,
    amount: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    use gift_budget::Column;
    let (month_start, _) = Month::of(now).bounds();
    let taken = txn
        .execute(&budget_taken(giver, community_id, amount, now))
        .await?;
    if taken.rows_affected() == 1 {
        return Ok(());
    }
    // Hold the row (made here on first use) before summing, so that the sum, a statement of
    // its own, sees every gift made under it.
    gift_budget::Entity::insert(gift_budget::ActiveModel {
        giver_id: Set(giver),
        month_start: Set(month_start),
        given: Set(0),
    })
    .on_conflict(OnConflict::column(Column::GiverId).do_nothing().to_owned())
    .exec_without_returning(txn)
    .await?;
    let row = gift_budget::Entity::find_by_id(giver)
        .lock_exclusive()
        .one(txn)
        .await?;
    let (given, cap): (Option<i64>, i64) = points_entry::Entity::find()
        .select_only()
        .column_as(sum_i64(points_entry::Column::Amount), "given")
        .expr_as(policy::gift_cap(community_id), "cap")
        .filter(points_entry::Column::UserId.eq(giver))
        .filter(points_entry::Column::Kind.eq(EntryKind::GiftOut))
        .filter(points_entry::Column::CreatedAt.gte(month_start))
        .into_tuple()
        .one(txn)
        .await?
        // A sum without GROUP BY always answers one row.
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no row from the month's sum")))?;
    let given = -given.unwrap_or(0);
    if given + amount > cap {
        return Err(AppError::conflict(format!(
            "your community lets you give {cap} points a month; you have given {given}"
        )));
    }
    if row.is_none_or(|row| row.month_start <= month_start) {
        gift_budget::Entity::update_many()
            .col_expr(Column::Given, Expr::val(given + amount))
            .col_expr(Column::MonthStart, Expr::val(month_start))
            .filter(Column::GiverId.eq(giver))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// What a gift reads, in one statement: the giver and the receiver, the link from one to the
/// other if there is one, and the giver's entry under `key` if the gift was made before.
struct GiftReads {
    giver: user::Model,
    receiver: user::Model,
    link: Option<household_link::Model>,
    earlier: Option<points_entry::Model>,
}

async fn gift_reads(
    db: &DatabaseConnection,
    giver_id: Uuid,
    receiver_id: Uuid,
    key: &str,
) -> AppResult<GiftReads> {
    let link_column = |column| Expr::col((household_link::Entity, column));
    let mut query = Query::select();
    select_prefixed(&mut query, user::Entity, "u_");
    select_prefixed(&mut query, household_link::Entity, "l_");
    select_prefixed(&mut query, points_entry::Entity, "e_");
    query
        .from(user::Entity)
        .left_join(
            household_link::Entity,
            link_column(household_link::Column::GiverId)
                .eq(giver_id)
                .and(link_column(household_link::Column::ReceiverId).eq(receiver_id)),
        )
        .left_join(
            points_entry::Entity,
            Expr::col((points_entry::Entity, points_entry::Column::IdempotencyKey)).eq(key),
        )
        .and_where(Expr::col((user::Entity, user::Column::Id)).is_in([giver_id, receiver_id]));
    let rows = db
        .query_all_raw(db.get_database_backend().build(&query))
        .await?;
    let (mut giver, mut receiver, mut link, mut earlier) = (None, None, None, None);
    for row in &rows {
        let person = user::Model::from_query_result(row, "u_")?;
        link = household_link::Model::from_query_result_optional(row, "l_")?;
        earlier = points_entry::Model::from_query_result_optional(row, "e_")?;
        match person.id == giver_id {
            true => giver = Some(person),
            false => receiver = Some(person),
        }
    }
    match (giver, receiver) {
        (Some(giver), Some(receiver)) => Ok(GiftReads {
            giver,
            receiver,
            link,
            earlier,
        }),
        _ => Err(AppError::NotFound("user")),
    }
}

/// The giver's GIFT_OUT entry.
pub async fn give(
    db: &DatabaseConnection,
    content: &ContentGuard,
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
    let out_key = format!("gift:{}:{key}:out", actor.id);
    let GiftReads {
        giver,
        receiver,
        link,
        earlier,
    } = gift_reads(db, actor.id, gift.to, &out_key).await?;
    if !link.is_some_and(|link| holds(&link, &giver, &receiver)) {
        return Err(AppError::forbidden(
            "points go only to your confirmed household: accept them as family \
             (acceptHouseholdMember) or ask STAFF to confirm you live together",
        ));
    }
    let community_id = giver
        .community_id
        .ok_or_else(|| AppError::bad_input("set your community in your profile first"))?;
    let note = content
        .clear_optional(db, actor, Scene::Comment, "note", note)
        .await?;
    let moved = Moved {
        user_id: actor.id,
        amount: -gift.amount,
        counterpart: Some(gift.to),
    };
    let (note, flag) = match note.map(Cleared::into_write) {
        Some((text, flag)) => (Some(text), flag),
        None => (None, None),
    };
    replay_or_post_after(db, Some(&out_key), earlier, moved, async {
        let now = db::now();
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
        let (out, to) = (
            posting(actor.id, EntryKind::GiftOut, -gift.amount, "out"),
            posting(gift.to, EntryKind::GiftIn, gift.amount, "in"),
        );
        let budget = budget_taken(actor.id, community_id, gift.amount, now);
        let at_once = give_at_once(db, budget, (out.clone(), to.clone()), flag.clone(), now);
        if let Some(out) = at_once.await? {
            return Ok(out);
        }
        let txn = begin_write(db).await?;
        if let Some(flag) = flag {
            txn.execute(&flag).await?;
        }
        take_from_budget(&txn, actor.id, community_id, gift.amount, now).await?;
        // The two accounts are locked in the order of their ids, so that gifts crossing
        // between two people at once cannot deadlock. Both keys are new: `gift_reads`
        // looked the gift's up.
        let out = if actor.id < gift.to {
            let out = ledger::post_once(&txn, out).await?;
            ledger::post_once(&txn, to).await?;
            out
        } else {
            ledger::post_once(&txn, to).await?;
            ledger::post_once(&txn, out).await?
        };
        txn.commit().await?;
        Ok(out)
    })
    .await
}

/// On PostgreSQL, the gift as one statement (`db::write_at_once_answering`): the giver's month
/// budget, both accounts (listed in the order of their ids, as the transaction locks them),
/// both entries and the note's flag. It answers the giver's entry, with the balance its debit
/// left. `None` when it stored nothing (the budget's row cannot say yes on its own, too few
/// points, a receiver without an account yet, a key used meanwhile): the transaction decides.
async fn give_at_once(
    db: &DatabaseConnection,
    budget: UpdateStatement,
    (out, to): (Posting, Posting),
    flag: Option<InsertStatement>,
    now: DateTime<Utc>,
) -> AppResult<Option<points_entry::Model>> {
    if !db::writes_in_one_statement(db) {
        return Ok(None);
    }
    let giver_first = out.user_id < to.user_id;
    let (first, second) = if giver_first { (out, to) } else { (to, out) };
    let (first_move, first_entry, first_row) = ledger::post_at_once(first, 1, now);
    let (second_move, second_entry, second_row) = ledger::post_at_once(second, 2, now);
    let (out_row, out_guard) = match giver_first {
        true => (first_row, 1),
        false => (second_row, 2),
    };
    let balance_left = Query::select()
        .column(points_account::Column::Balance)
        .from(db::guarded(out_guard))
        .to_owned();
    let answer = Expr::SubQuery(None, Box::new(balance_left.into()));
    let inserts = flag
        .into_iter()
        .chain([first_entry, second_entry])
        .collect();
    let guards = vec![budget, first_move, second_move];
    let Some(row) = db::write_at_once_answering(db, inserts, guards, answer).await? else {
        return Ok(None);
    };
    Ok(Some(points_entry::Model {
        balance_after: row.try_get("", "answer")?,
        ..out_row
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resident(community: Option<Uuid>, address: &str) -> user::Model {
        user::Model {
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

    #[test]
    fn a_confirmation_holds_while_both_stay_at_its_address() {
        let community = Uuid::now_v7();
        let here = Some(community);
        let (giver, receiver) = (resident(here, "3号楼401"), resident(here, "3号楼401"));
        let link = household_link::Model {
            giver_id: giver.id,
            receiver_id: receiver.id,
            community_id: community,
            address: "3号楼401".into(),
            confirmed_by: giver.id,
            confirmed_at: Utc::now(),
        };
        assert!(holds(&link, &giver, &receiver));
        assert!(!holds(&link, &giver, &resident(here, "5号楼101")));
        let moved = resident(here, "5号楼101");
        assert!(!holds(&link, &moved, &resident(here, "5号楼101")));
    }
}

//! Micro-wishes (微心愿): a resident posts a small wish, STAFF put it on the community's wish
//! wall, one Party member or merchant of the community claims it, marks it delivered, and the
//! resident confirms it; only then it counts. A Party member's stated time becomes a service
//! record for STAFF to review. Wishes nobody claimed by their date close themselves.
//!
//! A wish may carry photos (WISH_PHOTO), shown to whoever may see the wish once WeChat's image
//! check passed them.
//!
//! Every step is a compare-and-set on the wish's `version`, so of two claims at once one wins.
use chrono::{DateTime, Utc};
use entity::{
    enums::{Claimer, PhotoPurpose, ServiceSource, WishStatus},
    user, wish,
};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DatabaseConnection, DatabaseTransaction, EntityTrait, ExprTrait, PaginatorTrait, QueryFilter,
    QuerySelect,
};
use uuid::Uuid;

use crate::{
    content::photos::{self, Attachment, PhotoService},
    content::{Cleared, ContentGuard, Scene},
    error::{AppError, AppResult},
    identity::{self, Actor},
    infra::db::begin_write,
    notify::{Committed, DomainEvent, Events},
    organisation::units,
    pagination::{Page, PageRequest, fetch_page},
    points::records::{self, NewRecord},
    validate,
};

/// Wishes someone still has to act on: posted and not yet reviewed, on the wall, claimed, or
/// delivered and not yet confirmed.
pub const UNSETTLED: [WishStatus; 4] = [
    WishStatus::PendingReview,
    WishStatus::Open,
    WishStatus::Claimed,
    WishStatus::Delivered,
];

/// The longest a member may say a wish took: one day of work.
const MAX_MINUTES: i32 = 24 * 60;

/// A wish as the resident typed it, unchecked.
pub struct WishInput {
    pub title: String,
    pub description: String,
    pub needed_by: DateTime<Utc>,
    /// Uploaded photos of what is wished for (`createUploadUrl(purpose: WISH_PHOTO)`), at
    /// most 9.
    pub photo_keys: Vec<String>,
}

pub async fn post(
    db: &DatabaseConnection,
    content: &ContentGuard,
    photos: &PhotoService,
    actor: &Actor,
    input: WishInput,
) -> AppResult<Committed<wish::Model>> {
    photos::check_count(&input.photo_keys)?;
    let title = validate::text("title", &input.title, 1, 60)?;
    let description = validate::text("description", &input.description, 0, 1000)?;
    let now = Utc::now();
    if input.needed_by <= now || input.needed_by > now + chrono::Duration::days(180) {
        return Err(AppError::bad_input(
            "neededBy must be in the future, within 180 days",
        ));
    }
    let resident = identity::get_user(db, actor.id).await?;
    let community_id = resident.community_id.ok_or_else(|| {
        AppError::bad_input("set your community in your profile before posting a wish")
    })?;
    let [title, description] = content
        .clear_all(
            db,
            actor,
            Scene::Forum,
            [("title", title), ("description", description)],
        )
        .await?;
    let checked = photos
        .check(db, actor, PhotoPurpose::WishPhoto, &input.photo_keys)
        .await?;
    let txn = begin_write(db).await?;
    let wish = wish::ActiveModel {
        id: Set(Uuid::now_v7()),
        community_id: Set(community_id),
        resident_id: Set(actor.id),
        title: Set(title.record(&txn).await?),
        description: Set(description.record(&txn).await?),
        needed_by: Set(input.needed_by),
        status: Set(WishStatus::PendingReview),
        reviewed_by: Set(None),
        review_note: Set(None),
        claimer_id: Set(None),
        claimed_as: Set(None),
        unit_id: Set(None),
        claimed_at: Set(None),
        delivery_note: Set(None),
        minutes_spent: Set(None),
        delivered_at: Set(None),
        fulfilled_at: Set(None),
        version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    photos::attach(&txn, actor.id, Attachment::Wish(wish.id), checked).await?;
    finish((txn, wish)).await
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> AppResult<wish::Model> {
    wish::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("wish"))
}

/// The wall shows wishes from OPEN on; STAFF and the resident also see theirs before and
/// after.
fn on_the_wall(status: WishStatus) -> bool {
    matches!(
        status,
        WishStatus::Open | WishStatus::Claimed | WishStatus::Delivered | WishStatus::Fulfilled
    )
}

pub fn can_view(actor: &Actor, wish: &wish::Model) -> bool {
    on_the_wall(wish.status)
        || wish.resident_id == actor.id
        || actor.roles.is_staff_of(wish.community_id)
}

/// The community's wishes in `status` (the wall when absent), newest first. Wishes not on the
/// wall are for STAFF.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    community_id: Uuid,
    status: Option<WishStatus>,
    page: PageRequest,
) -> AppResult<Page<wish::Model>> {
    let mut select = wish::Entity::find().filter(wish::Column::CommunityId.eq(community_id));
    select = match status {
        Some(status) if !on_the_wall(status) && !actor.roles.is_staff_of(community_id) => {
            return Err(AppError::forbidden(
                "only STAFF of the community see wishes that are not on its wall",
            ));
        }
        Some(status) => select.filter(wish::Column::Status.eq(status)),
        None => select.filter(wish::Column::Status.is_in([
            WishStatus::Open,
            WishStatus::Claimed,
            WishStatus::Delivered,
            WishStatus::Fulfilled,
        ])),
    };
    fetch_page(db, select, wish::Column::Id, page).await
}

pub async fn mine(
    db: &DatabaseConnection,
    actor: &Actor,
    page: PageRequest,
) -> AppResult<Page<wish::Model>> {
    let select = wish::Entity::find().filter(
        wish::Column::ResidentId
            .eq(actor.id)
            .or(wish::Column::ClaimerId.eq(actor.id)),
    );
    fetch_page(db, select, wish::Column::Id, page).await
}

/// A step: `decide` checks it against the wish read in the transaction and says what
/// changes; the change is written guarded by the version read. The transaction stays open
/// for what follows from it (`finish` commits).
async fn step(
    db: &DatabaseConnection,
    wish_id: Uuid,
    decide: impl FnOnce(&wish::Model) -> AppResult<wish::ActiveModel>,
) -> AppResult<(DatabaseTransaction, wish::Model)> {
    let txn = begin_write(db).await?;
    let current = get(&txn, wish_id).await?;
    let mut update = decide(&current)?;
    update.version = Set(current.version + 1);
    update.updated_at = Set(Utc::now());
    let updated = wish::Entity::update_many()
        .set(update)
        .filter(wish::Column::Id.eq(wish_id))
        .filter(wish::Column::Version.eq(current.version))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(AppError::conflict(
            "someone else changed this wish a moment ago (e.g. claimed it); reload",
        ));
    }
    let wish = get(&txn, wish_id).await?;
    Ok((txn, wish))
}

async fn finish(
    (txn, wish): (DatabaseTransaction, wish::Model),
) -> AppResult<Committed<wish::Model>> {
    let mut events = Events::default();
    events.push(DomainEvent::WishChanged {
        wish: Box::new(wish.clone()),
    });
    events.commit(txn, wish).await
}

fn in_state(wish: &wish::Model, wanted: WishStatus, doing: &str) -> AppResult<()> {
    if wish.status == wanted {
        Ok(())
    } else {
        Err(AppError::conflict(format!(
            "cannot {doing} this wish: it is {}",
            wish.status.to_value().to_lowercase().replace('_', " ")
        )))
    }
}

/// STAFF put a wish on the wall, or turn it down with a note the resident sees.
pub async fn review(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    wish_id: Uuid,
    approve: bool,
    note: Option<String>,
) -> AppResult<Committed<wish::Model>> {
    let note = validate::optional_text("note", note.as_deref(), 500)?;
    if !approve && note.is_none() {
        return Err(AppError::bad_input(
            "a note is required to turn a wish down",
        ));
    }
    let may_review = |wish: &wish::Model| {
        if !actor.roles.is_staff_of(wish.community_id) {
            return Err(AppError::forbidden(
                "only STAFF of the wish's community may review it",
            ));
        }
        in_state(wish, WishStatus::PendingReview, "review")
    };
    // Refused before the note is sent to be checked.
    may_review(&get(db, wish_id).await?)?;
    let note = content
        .clear_optional(db, actor, Scene::Comment, "note", note)
        .await?;
    let (txn, wish) = step(db, wish_id, |wish| {
        may_review(wish)?;
        Ok(wish::ActiveModel {
            status: Set(if approve {
                WishStatus::Open
            } else {
                WishStatus::Rejected
            }),
            reviewed_by: Set(Some(actor.id)),
            review_note: Set(note.as_ref().map(|note| note.text().to_owned())),
            ..Default::default()
        })
    })
    .await?;
    Cleared::record_optional(note, &txn).await?;
    finish((txn, wish)).await
}

/// As whom `actor` may claim a wish of `community`: a Party member or a merchant of it.
fn claimer_kind(actor: &Actor, community: Uuid) -> Option<Claimer> {
    if actor.roles.is_member_of(community) {
        Some(Claimer::PartyMember)
    } else if actor.roles.is_merchant_in(community) {
        Some(Claimer::Merchant)
    } else {
        None
    }
}

/// Exactly one claimer: the wish's version guards the claim.
/// Claims an OPEN wish: as a Party member or merchant of its community, or, with `unit_id`,
/// in the name of a unit of that community the caller represents.
pub async fn claim(
    db: &DatabaseConnection,
    actor: &Actor,
    wish_id: Uuid,
    unit_id: Option<Uuid>,
) -> AppResult<Committed<wish::Model>> {
    let unit = match unit_id {
        Some(id) => Some(units::represented(db, actor, id).await?),
        None => None,
    };
    let stepped = step(db, wish_id, |wish| {
        if wish.resident_id == actor.id {
            return Err(AppError::forbidden(
                "someone else must fulfil your own wish",
            ));
        }
        let kind = match &unit {
            Some(unit) if unit.community_id == wish.community_id => Claimer::Unit,
            Some(_) => {
                return Err(AppError::forbidden(
                    "the unit reports to another community than the wish's",
                ));
            }
            None => claimer_kind(actor, wish.community_id).ok_or_else(|| {
                AppError::forbidden(
                    "only Party members, merchants and units of the wish's community may claim it",
                )
            })?,
        };
        in_state(wish, WishStatus::Open, "claim")?;
        Ok(wish::ActiveModel {
            status: Set(WishStatus::Claimed),
            claimer_id: Set(Some(actor.id)),
            claimed_as: Set(Some(kind)),
            unit_id: Set(unit.as_ref().map(|unit| unit.id)),
            claimed_at: Set(Some(Utc::now())),
            ..Default::default()
        })
    })
    .await?;
    finish(stepped).await
}

/// The claimer says it is done (a Party member with the time it took).
pub async fn deliver(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    wish_id: Uuid,
    note: String,
    minutes_spent: Option<i32>,
) -> AppResult<Committed<wish::Model>> {
    let note = validate::text("note", &note, 1, 500)?;
    if let Some(minutes) = minutes_spent
        && !(1..=MAX_MINUTES).contains(&minutes)
    {
        return Err(AppError::bad_input(format!(
            "minutesSpent must be between 1 and {MAX_MINUTES}"
        )));
    }
    let may_deliver = |wish: &wish::Model| {
        if wish.claimer_id != Some(actor.id) {
            return Err(AppError::forbidden(
                "only whoever claimed the wish may deliver it",
            ));
        }
        if minutes_spent.is_some() && wish.claimed_as != Some(Claimer::PartyMember) {
            return Err(AppError::bad_input(
                "minutesSpent is for Party members' volunteer time",
            ));
        }
        in_state(wish, WishStatus::Claimed, "deliver")
    };
    may_deliver(&get(db, wish_id).await?)?;
    let note = content
        .clear(db, actor, Scene::Comment, "note", note)
        .await?;
    let (txn, wish) = step(db, wish_id, |wish| {
        may_deliver(wish)?;
        Ok(wish::ActiveModel {
            status: Set(WishStatus::Delivered),
            delivery_note: Set(Some(note.text().to_owned())),
            minutes_spent: Set(minutes_spent),
            delivered_at: Set(Some(Utc::now())),
            ..Default::default()
        })
    })
    .await?;
    note.record(&txn).await?;
    finish((txn, wish)).await
}

/// The resident confirms the wish came true; a Party member's stated time becomes a service
/// record for STAFF to review, in the same transaction.
pub async fn confirm(
    db: &DatabaseConnection,
    actor: &Actor,
    wish_id: Uuid,
) -> AppResult<Committed<wish::Model>> {
    let (txn, wish) = step(db, wish_id, |wish| {
        if wish.resident_id != actor.id {
            return Err(AppError::forbidden(
                "only the resident who posted the wish may confirm it",
            ));
        }
        in_state(wish, WishStatus::Delivered, "confirm")?;
        Ok(wish::ActiveModel {
            status: Set(WishStatus::Fulfilled),
            fulfilled_at: Set(Some(Utc::now())),
            ..Default::default()
        })
    })
    .await?;
    if let (Some(member), Some(minutes), Some(Claimer::PartyMember)) =
        (wish.claimer_id, wish.minutes_spent, wish.claimed_as)
    {
        let new = NewRecord {
            user_id: member,
            community_id: wish.community_id,
            source: ServiceSource::Wish,
            order_id: None,
            activity_id: None,
            wish_id: Some(wish.id),
            minutes,
        };
        records::create(&txn, new, None).await?;
    }
    finish((txn, wish)).await
}

/// Closes the OPEN wishes whose date passed unclaimed; how many.
pub async fn close_expired(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<u64> {
    let closed = wish::Entity::update_many()
        .set(wish::ActiveModel {
            status: Set(WishStatus::Closed),
            updated_at: Set(now),
            ..Default::default()
        })
        .filter(wish::Column::Status.eq(WishStatus::Open))
        .filter(wish::Column::NeededBy.lt(now))
        .exec(db)
        .await?;
    Ok(closed.rows_affected)
}

/// Fulfilled wishes of a community: in total and per claimer, most first.
pub struct Fulfilment {
    pub total: u64,
    pub by_claimer: Vec<(user::Model, u64)>,
}

pub async fn fulfilment(db: &DatabaseConnection, community_id: Uuid) -> AppResult<Fulfilment> {
    let fulfilled = wish::Entity::find()
        .filter(wish::Column::CommunityId.eq(community_id))
        .filter(wish::Column::Status.eq(WishStatus::Fulfilled));
    let total = fulfilled.clone().count(db).await?;
    let counts: Vec<(Uuid, i64)> = fulfilled
        .select_only()
        .column(wish::Column::ClaimerId)
        .column_as(wish::Column::Id.count(), "wishes")
        .group_by(wish::Column::ClaimerId)
        .into_tuple()
        .all(db)
        .await?;
    let claimers: std::collections::HashMap<Uuid, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(counts.iter().map(|(claimer, _)| *claimer)))
        .all(db)
        .await?
        .into_iter()
        .map(|user| (user.id, user))
        .collect();
    let mut by_claimer: Vec<(user::Model, u64)> = counts
        .into_iter()
        .filter_map(|(claimer, count)| Some((claimers.get(&claimer)?.clone(), count as u64)))
        .collect();
    by_claimer.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.id.cmp(&b.0.id)));
    Ok(Fulfilment { total, by_claimer })
}

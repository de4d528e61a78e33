//! The steps of the loop. Each runs in one write transaction: read the order, ask `workflow`
//! whether the step is allowed, update it guarded by its `version` (two concurrent steps
//! cannot both succeed) and append the step to its timeline. On PostgreSQL a step without a
//! note whose other rules fit in its guard (`quick_transition`: a grab, a publish, a dispatch)
//! and a placement are first tried as one statement.
use chrono::{DateTime, Utc};
use entity::{
    enums::{AlertLevel, OrderChannel, OrderStatus, PhotoPurpose, Role, Urgency},
    order, order_event, patrol_finding, role_grant, service_category, user,
};
use futures::future::BoxFuture;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QuerySelect, QueryTrait, Select,
    sea_query::{Condition, Expr, InsertStatement, UpdateStatement},
};
use uuid::Uuid;

use super::{
    budgets::{self, PlacingLimits},
    categories, relation, routing, stats,
    workflow::{self, Refusal, Relation, Step},
};
use crate::{
    content::photos::{self, Attachment, CheckedPhoto, PhotoService},
    content::{Cleared, ContentGuard, Scene},
    error::{AppError, AppResult},
    identity::{self, Actor},
    infra::db::{self, begin_write},
    notify::{Committed, DomainEvent, Events},
    organisation, points, validate,
    values::Phone,
};

/// Longest a completion report may claim: one day of work.
const MAX_MINUTES_SPENT: i32 = 24 * 60;

/// A resident's request as typed in the app, unchecked.
pub struct PlaceOrderInput {
    pub category_id: Uuid,
    pub title: String,
    pub description: String,
    pub address: String,
    /// `None`: the requester's own phone.
    pub contact_phone: Option<String>,
    pub preferred_time: Option<DateTime<Utc>>,
    pub urgency: Option<Urgency>,
    /// Uploaded photos of the problem (`createUploadUrl`), at most 9.
    pub photo_keys: Vec<String>,
}

/// A resident's request, checked: only `TryFrom<PlaceOrderInput>` makes one.
pub struct NewOrder {
    category_id: Uuid,
    title: String,
    description: String,
    address: String,
    contact_phone: Option<Phone>,
    preferred_time: Option<DateTime<Utc>>,
    urgency: Urgency,
    photo_keys: Vec<String>,
}

impl TryFrom<PlaceOrderInput> for NewOrder {
    type Error = AppError;

    fn try_from(input: PlaceOrderInput) -> AppResult<Self> {
        photos::check_count(&input.photo_keys)?;
        Ok(Self {
            category_id: input.category_id,
            title: validate::text("title", &input.title, 1, 100)?,
            description: validate::text(
                "description",
                &input.description,
                0,
                validate::LONGEST_TEXT,
            )?,
            address: validate::text("address", &input.address, 1, 200)?,
            contact_phone: input
                .contact_phone
                .map(|phone| Phone::parse("contactPhone", &phone))
                .transpose()?,
            preferred_time: input.preferred_time,
            urgency: input.urgency.unwrap_or(Urgency::Normal),
            photo_keys: input.photo_keys,
        })
    }
}

/// 群众点单. On PostgreSQL, a resident's second and later orders of a category are built from
/// what their last one read (`routing::Placings`) and filed in one statement that checks it
/// still holds; otherwise, or when it does not, from a fresh read.
pub async fn place(
    db: &DatabaseConnection,
    catalog: &categories::Catalog,
    photos: &PhotoService,
    limits: PlacingLimits,
    placings: &routing::Placings,
    actor: &Actor,
    new: NewOrder,
) -> AppResult<Committed<order::Model>> {
    let category_id = new.category_id;
    let contact_phone = new.contact_phone.clone();
    // An order with photos attaches them in the transaction: nothing to file at once. A
    // remembered placing that would refuse the order is not trusted to: it is read afresh.
    let remembered = (db::writes_in_one_statement(db) && new.photo_keys.is_empty())
        .then(|| placings.remembered(actor.id, category_id))
        .flatten()
        .and_then(|placing| {
            let check = routing::still_current(&placing, category_id)?;
            Some((
                check,
                own_intake(actor.id, &placing, contact_phone.clone()).ok()?,
            ))
        });
    let (check, mut intake) = match remembered {
        Some((check, intake)) => (Some(check), intake),
        None => {
            let placing = placings.read(db, actor.id, category_id).await?;
            (None, own_intake(actor.id, &placing, contact_phone.clone())?)
        }
    };
    let prepared = prepare(db, catalog, photos, actor, new).await?;
    if let Some(check) = check {
        let filing = file_at_once(db, limits, actor, &intake, &prepared, Some(check));
        if let Some(committed) = filing.await? {
            return Ok(committed);
        }
        // Something the order was built from changed, or its budget cannot say yes on its
        // own: read afresh, and let `file` decide.
        let placing = placings.read(db, actor.id, category_id).await?;
        intake = own_intake(actor.id, &placing, contact_phone)?;
    }
    file(db, limits, actor, intake, prepared).await
}

/// A resident's own order, to their own community.
fn own_intake(
    requester_id: Uuid,
    placing: &routing::Placing,
    contact_phone: Option<Phone>,
) -> AppResult<Intake> {
    let destination = placing.destination.clone().ok_or_else(|| {
        AppError::bad_input("set your community in your profile before placing an order")
    })?;
    Ok(Intake {
        destination,
        requester_id,
        grid_id: placing.requester.grid_id,
        contact_phone: or_own_phone(contact_phone, &placing.requester)?,
        channel: OrderChannel::App,
        resident_name: None,
        placed_by_id: None,
        finding: None,
    })
}

/// The order's contact phone, else its requester's own.
fn or_own_phone(contact_phone: Option<Phone>, requester: &user::Model) -> AppResult<Phone> {
    match contact_phone {
        Some(phone) => Ok(phone),
        None => requester
            .phone
            .as_deref()
            .map(|phone| Phone::parse("contactPhone", phone))
            .transpose()?
            .ok_or_else(|| {
                AppError::bad_input("give a contactPhone, or bind your phone number first")
            }),
    }
}

/// Where a grid worker found what they report: its community and grid, and the finding's
/// record, filed in the order's transaction.
pub struct Finding {
    pub community_id: Uuid,
    pub grid_id: Uuid,
    pub record: patrol_finding::ActiveModel,
}

/// A grid worker files what they found on patrol as an order of their grid (channel
/// PATROL, 发现上报): it then runs the normal loop of dispatch, escalation and callback.
/// `patrols` checks that the worker is on that patrol.
pub async fn place_from_patrol(
    db: &DatabaseConnection,
    catalog: &categories::Catalog,
    photos: &PhotoService,
    limits: PlacingLimits,
    actor: &Actor,
    new: NewOrder,
    finding: Finding,
) -> AppResult<Committed<order::Model>> {
    let worker = identity::get_user(db, actor.id).await?;
    let intake = Intake {
        destination: routing::community_for(db, finding.community_id, new.category_id).await?,
        requester_id: actor.id,
        grid_id: Some(finding.grid_id),
        contact_phone: or_own_phone(new.contact_phone.clone(), &worker)?,
        channel: OrderChannel::Patrol,
        resident_name: None,
        placed_by_id: Some(actor.id),
        finding: Some(finding.record),
    };
    let prepared = prepare(db, catalog, photos, actor, new).await?;
    file(db, limits, actor, intake, prepared).await
}

/// Who an order is for, where it goes and how it came in.
struct Intake {
    destination: routing::Destination,
    requester_id: Uuid,
    grid_id: Option<Uuid>,
    contact_phone: Phone,
    channel: OrderChannel,
    resident_name: Option<String>,
    placed_by_id: Option<Uuid>,
    /// Where a grid worker found it, filed with the order.
    finding: Option<patrol_finding::ActiveModel>,
}

/// A resident without the app, as STAFF or a hotline operator took it down.
pub struct OnBehalf {
    pub community_id: Uuid,
    pub resident_name: String,
    pub phone: String,
    pub channel: OrderChannel,
}

/// 代办: STAFF (or a hotline operator) place an order for a resident. It is the resident's
/// own when an account of the community has that phone; otherwise the placer holds it for
/// them (and rates it from the callback), with the resident's name on the order.
pub async fn place_on_behalf(
    db: &DatabaseConnection,
    catalog: &categories::Catalog,
    photos: &PhotoService,
    limits: PlacingLimits,
    actor: &Actor,
    new: NewOrder,
    on_behalf: OnBehalf,
) -> AppResult<Committed<order::Model>> {
    if !actor.roles.is_staff_of(on_behalf.community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community may place orders on a resident's behalf",
        ));
    }
    if !matches!(
        on_behalf.channel,
        OrderChannel::Staff | OrderChannel::Hotline
    ) {
        return Err(AppError::bad_input(
            "channel must be STAFF or HOTLINE: APP orders are placed by residents themselves, \
             PATROL ones by grid workers",
        ));
    }
    let name = validate::text("residentName", &on_behalf.resident_name, 1, 40)?;
    let phone = Phone::parse("phone", &on_behalf.phone)?;
    let account = identity::users::find_by_phone(db, on_behalf.community_id, phone.as_ref())
        .await?
        .filter(|user| user.id != actor.id);
    let intake = Intake {
        destination: routing::community_for(db, on_behalf.community_id, new.category_id).await?,
        requester_id: account.as_ref().map_or(actor.id, |user| user.id),
        grid_id: account.as_ref().and_then(|user| user.grid_id),
        contact_phone: new.contact_phone.clone().unwrap_or(phone),
        channel: on_behalf.channel,
        resident_name: account.is_none().then_some(name),
        placed_by_id: Some(actor.id),
        finding: None,
    };
    let prepared = prepare(db, catalog, photos, actor, new).await?;
    file(db, limits, actor, intake, prepared).await
}

/// An order's own fields, checked, before it knows where it goes.
struct Prepared {
    category: service_category::Model,
    /// Each text with its content flag's insert, if it has one.
    title: (String, Option<InsertStatement>),
    description: (String, Option<InsertStatement>),
    address: String,
    preferred_time: Option<DateTime<Utc>>,
    urgency: Urgency,
    photos: Vec<CheckedPhoto>,
}

/// Checks what the order says for itself: an offered category, photos the actor may attach,
/// and texts that pass the content check (photos first: a refused one spares WeChat the texts).
async fn prepare(
    db: &DatabaseConnection,
    catalog: &categories::Catalog,
    photos: &PhotoService,
    actor: &Actor,
    new: NewOrder,
) -> AppResult<Prepared> {
    let category = catalog.get_or_load(db, new.category_id).await?;
    if !category.active {
        return Err(AppError::bad_input(
            "this service category is no longer offered; choose another",
        ));
    }
    let checked = photos
        .check(db, actor, PhotoPurpose::OrderPhoto, &new.photo_keys)
        .await?;
    let texts = [("title", new.title), ("description", new.description)];
    let [title, description] = photos
        .content
        .clear_all(db, actor, Scene::Forum, texts)
        .await?;
    Ok(Prepared {
        category,
        title: title.into_write(),
        description: description.into_write(),
        address: new.address,
        preferred_time: new.preferred_time,
        urgency: new.urgency,
        photos: checked,
    })
}

/// The new order's row, and the inserts that file it with its PLACE step: deadlines from the
/// community and category (urgent requests get half of each).
fn filed(
    intake: &Intake,
    prepared: &Prepared,
    actor_id: Uuid,
) -> (order::Model, Vec<InsertStatement>, InsertStatement) {
    let community = &intake.destination.community;
    let category = &prepared.category;
    // The community's own response time, when it set one, else the category's.
    let allowed = community
        .response_minutes
        .unwrap_or(category.response_minutes);
    let (response_minutes, completion_minutes) = match prepared.urgency {
        Urgency::Normal => (allowed, category.completion_minutes),
        Urgency::Urgent => ((allowed / 2).max(10), category.completion_minutes / 2),
    };
    let now = db::now();
    let order = order::Model {
        id: Uuid::now_v7(),
        community_id: community.id,
        grid_id: intake.grid_id,
        requester_id: intake.requester_id,
        category_id: category.id,
        title: prepared.title.0.clone(),
        description: prepared.description.0.clone(),
        address: prepared.address.clone(),
        contact_phone: intake.contact_phone.clone().into(),
        preferred_time: prepared.preferred_time,
        urgency: prepared.urgency,
        status: OrderStatus::PendingDispatch,
        assignee_id: None,
        taker_id: None,
        response_due_at: now + chrono::Duration::minutes(response_minutes.into()),
        accepted_at: None,
        completed_at: None,
        completion_summary: None,
        minutes_spent: None,
        photo_urls: None,
        rating_stars: None,
        rating_comment: None,
        rated_at: None,
        cancel_reason: None,
        version: 0,
        created_at: now,
        updated_at: now,
        channel: intake.channel,
        resident_name: intake.resident_name.clone(),
        placed_by_id: intake.placed_by_id,
        completion_due_at: Some(now + chrono::Duration::minutes(completion_minutes.into())),
        alert_level: AlertLevel::Green,
        alert_changed_at: None,
        escalated_to_id: None,
        escalated_street_id: None,
    };
    // Every column is written from this model, so it is what the row holds: nothing to read back.
    let flags = [&prepared.title.1, &prepared.description.1];
    let mut writes: Vec<InsertStatement> = flags.into_iter().flatten().cloned().collect();
    writes.push(
        order::Entity::insert(order::ActiveModel::from(order.clone()).reset_all()).into_query(),
    );
    if let Some(mut finding) = intake.finding.clone() {
        finding.order_id = Set(order.id);
        writes.push(patrol_finding::Entity::insert(finding).into_query());
    }
    let placed = event(&order, actor_id, "PLACE", None, None);
    (order, writes, placed)
}

/// Files the order as one statement, its budget's compare-and-set and `check` included, where
/// the database can and there is nothing to read inside a transaction (no photo to attach, no
/// rule to route by). `None` when it did not: nothing was written.
async fn file_at_once(
    db: &DatabaseConnection,
    limits: PlacingLimits,
    actor: &Actor,
    intake: &Intake,
    prepared: &Prepared,
    check: Option<Expr>,
) -> AppResult<Option<Committed<order::Model>>> {
    if !prepared.photos.is_empty() || intake.destination.routed || !db::writes_in_one_statement(db)
    {
        return Ok(None);
    }
    let (order, mut writes, placed) = filed(intake, prepared, actor.id);
    let lane = budgets::lane_of(intake.channel, intake.requester_id, intake.placed_by_id);
    let guards = match lane {
        Some(lane) => {
            let mut take = limits.take_one(intake.requester_id, lane, order.created_at);
            vec![take.and_where_option(check).to_owned()]
        }
        // Only what STAFF place for themselves has no lane, and it comes with no check.
        None if check.is_none() => Vec::new(),
        None => return Ok(None),
    };
    writes.push(placed);
    stepped(&order, None)
        .commit_at_once(db, writes, guards, order.clone())
        .await
}

/// Files a new order from `intake`: at once where it can, else in a transaction that takes
/// the budget, attaches the photos and routes it.
async fn file(
    db: &DatabaseConnection,
    limits: PlacingLimits,
    actor: &Actor,
    intake: Intake,
    prepared: Prepared,
) -> AppResult<Committed<order::Model>> {
    if let Some(committed) = file_at_once(db, limits, actor, &intake, &prepared, None).await? {
        return Ok(committed);
    }
    let (order, writes, placed) = filed(&intake, &prepared, actor.id);
    let lane = budgets::lane_of(intake.channel, intake.requester_id, intake.placed_by_id);
    let txn = begin_write(db).await?;
    if let Some(lane) = lane {
        limits
            .admit(&txn, intake.requester_id, lane, order.created_at)
            .await?;
    }
    db::write_together(&txn, writes, placed).await?;
    photos::attach(&txn, actor.id, Attachment::Order(order.id), prepared.photos).await?;
    let mut events = stepped(&order, None);
    let routed_to = if intake.destination.routed {
        routing::route(&txn, &order).await?
    } else {
        None
    };
    let order = match routed_to {
        Some((assignee, rule_by)) => {
            let order = routing::dispatched(&order, assignee)?.update(&txn).await?;
            let note = Some("按类别自动派单".to_owned());
            let from = Some(OrderStatus::PendingDispatch);
            record_event(&txn, &order, rule_by, Step::Dispatch.action(), from, note).await?;
            events.push(DomainEvent::OrderStepped {
                order: Box::new(order.clone()),
                step: Some(Step::Dispatch),
            });
            order
        }
        None => order,
    };
    events.commit(txn, order).await
}

pub async fn dispatch(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    order_id: Uuid,
    assignee_id: Uuid,
    note: Option<String>,
) -> AppResult<Committed<order::Model>> {
    let note = validate::optional_text("note", note.as_deref(), 500)?;
    let note = content
        .clear_optional(db, actor, Scene::Comment, "note", note)
        .await?;
    let already = move |order: &order::Model| order.assignee_id == Some(assignee_id);
    let own = move |order: &order::Model| assignee_id == order.requester_id;
    let assigned = move |_: &order::Model| order::ActiveModel {
        assignee_id: Set(Some(assignee_id)),
        ..Default::default()
    };
    let plan = planned(move |txn, order| {
        Box::pin(async move {
            if already(order) {
                return Err(AppError::bad_input(
                    "the order is already dispatched to this member",
                ));
            }
            if own(order) {
                return Err(AppError::bad_input(
                    "the resident who placed the order cannot be dispatched it",
                ));
            }
            if !is_member(txn, assignee_id, order.community_id).await? {
                return Err(AppError::bad_input(
                    "the assignee is not an approved Party member of this community",
                ));
            }
            Ok(Plan::new(assigned(order)))
        })
    });
    if note.is_some() {
        return transition(db, actor, order_id, Step::Dispatch, note, plan)
            .await?
            .commit()
            .await;
    }
    // The membership is checked by the guarded statement itself.
    let quick = move |order: &order::Model| {
        (!already(order) && !own(order)).then(|| {
            let member = memberships(assignee_id, order.community_id).into_query();
            (assigned(order), Condition::all().add(Expr::exists(member)))
        })
    };
    quick_transition(db, actor, order_id, Step::Dispatch, quick, plan).await
}

pub async fn publish(
    db: &DatabaseConnection,
    actor: &Actor,
    order_id: Uuid,
) -> AppResult<Committed<order::Model>> {
    let quick = |_: &order::Model| Some((Default::default(), Condition::all()));
    quick_transition(db, actor, order_id, Step::Publish, quick, unchanged()).await
}

pub async fn take(
    db: &DatabaseConnection,
    actor: &Actor,
    order_id: Uuid,
) -> AppResult<Committed<order::Model>> {
    let taker = |_: &order::Model| order::ActiveModel {
        taker_id: Set(Some(actor.id)),
        accepted_at: Set(Some(db::now())),
        ..Default::default()
    };
    let quick = move |order: &order::Model| Some((taker(order), Condition::all()));
    quick_transition(db, actor, order_id, Step::Take, quick, columns(taker)).await
}

pub async fn decline(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    order_id: Uuid,
    reason: String,
) -> AppResult<Committed<order::Model>> {
    let reason = step_note(db, content, actor, "reason", &reason).await?;
    let declined = columns(|_| order::ActiveModel {
        assignee_id: Set(None),
        ..Default::default()
    });
    transition(db, actor, order_id, Step::Decline, Some(reason), declined)
        .await?
        .commit()
        .await
}

/// A step's reason or note (1–500 characters), validated and cleared for the others on the
/// order who will read it in its timeline.
pub(super) async fn step_note(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    field: &str,
    text: &str,
) -> AppResult<Cleared> {
    let text = validate::text(field, text, 1, 500)?;
    content.clear(db, actor, Scene::Comment, field, text).await
}

/// Waiting for someone again: a fresh response window as long as the first one.
pub(super) fn awaiting_again(order: &order::Model, now: DateTime<Utc>) -> DateTime<Utc> {
    now + (order.response_due_at - order.created_at)
}

pub async fn hand_back(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    order_id: Uuid,
    reason: String,
) -> AppResult<Committed<order::Model>> {
    let reason = step_note(db, content, actor, "reason", &reason).await?;
    let handed_back = columns(|order| order::ActiveModel {
        assignee_id: Set(None),
        taker_id: Set(None),
        accepted_at: Set(None),
        response_due_at: Set(awaiting_again(order, Utc::now())),
        ..Default::default()
    });
    transition(
        db,
        actor,
        order_id,
        Step::HandBack,
        Some(reason),
        handed_back,
    )
    .await?
    .commit()
    .await
}

/// STAFF pass an order they cannot serve to another community, timeline and all.
pub async fn transfer(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    order_id: Uuid,
    to_community: Uuid,
    reason: String,
) -> AppResult<Committed<order::Model>> {
    let reason = step_note(db, content, actor, "reason", &reason).await?;
    transition(
        db,
        actor,
        order_id,
        Step::Transfer,
        Some(reason),
        move |txn, order| {
            Box::pin(async move {
                if order.community_id == to_community {
                    return Err(AppError::bad_input(
                        "the order is already in this community",
                    ));
                }
                organisation::open_community(txn, to_community).await?;
                Ok(Plan::new(order::ActiveModel {
                    community_id: Set(to_community),
                    // The grid and any member chosen belong to the old community.
                    grid_id: Set(None),
                    assignee_id: Set(None),
                    response_due_at: Set(awaiting_again(order, Utc::now())),
                    ..Default::default()
                }))
            })
        },
    )
    .await?
    .commit()
    .await
}

pub async fn report_progress(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    order_id: Uuid,
    note: String,
) -> AppResult<Committed<order::Model>> {
    let note = step_note(db, content, actor, "note", &note).await?;
    transition(db, actor, order_id, Step::Progress, Some(note), unchanged())
        .await?
        .commit()
        .await
}

/// The requester says it was not fixed, within `workflow::REOPEN_WINDOW` of completion.
/// Points credited for it are held (`points::records::hold_for_order`) until it is rated again.
pub async fn reopen(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    order_id: Uuid,
    reason: String,
) -> AppResult<Committed<order::Model>> {
    let reason = step_note(db, content, actor, "reason", &reason).await?;
    let now = Utc::now();
    // Whether the taker is still there to take it back is read under the order's lock.
    let reopen = Step::Reopen {
        taker_available: true,
    };
    let applied = transition(
        db,
        actor,
        order_id,
        reopen,
        Some(reason),
        move |txn, order| {
            Box::pin(async move {
                if !workflow::may_reopen(order.completed_at, now) {
                    return Err(AppError::conflict(
                        "an order can be reopened within 7 days of its completion",
                    ));
                }
                let reopened = order_event::Entity::find()
                    .filter(order_event::Column::OrderId.eq(order.id))
                    .filter(order_event::Column::Action.eq(reopen.action()))
                    .count(txn)
                    .await?;
                if reopened >= workflow::MAX_REOPENS {
                    return Err(AppError::conflict(
                        "this order was reopened once already; if it is still not fixed, \
                         please place a new order or call your community",
                    ));
                }
                let taker_available = match order.taker_id {
                    Some(taker) => is_member(txn, taker, order.community_id).await?,
                    None => false,
                };
                let mut changes = order::ActiveModel {
                    completed_at: Set(None),
                    rating_stars: Set(None),
                    rating_comment: Set(None),
                    rated_at: Set(None),
                    ..Default::default()
                };
                if !taker_available {
                    changes.taker_id = Set(None);
                    changes.assignee_id = Set(None);
                    changes.accepted_at = Set(None);
                    changes.response_due_at = Set(awaiting_again(order, now));
                }
                Ok(Plan {
                    step: Some(Step::Reopen { taker_available }),
                    ..Plan::new(changes)
                })
            })
        },
    )
    .await?;
    points::records::hold_for_order(&applied.txn, &applied.before).await?;
    applied.commit().await
}

pub(super) async fn is_member(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    community_id: Uuid,
) -> AppResult<bool> {
    Ok(memberships(user_id, community_id).one(db).await?.is_some())
}

/// The grant that makes `user_id` a Party member of `community_id`.
fn memberships(user_id: Uuid, community_id: Uuid) -> Select<role_grant::Entity> {
    role_grant::Entity::find()
        .filter(role_grant::Column::UserId.eq(user_id))
        .filter(role_grant::Column::Role.eq(Role::PartyMember))
        .filter(role_grant::Column::CommunityId.eq(community_id))
}

/// A taker's completion report as typed in the app, unchecked.
pub struct CompleteOrderInput {
    pub summary: String,
    pub minutes_spent: i32,
    /// Uploaded photos of the result (`createUploadUrl`), at most 9.
    pub photo_keys: Vec<String>,
}

/// A completion report, checked: only `TryFrom<CompleteOrderInput>` makes one.
pub struct CompletionReport {
    summary: String,
    minutes_spent: i32,
    photo_keys: Vec<String>,
}

impl TryFrom<CompleteOrderInput> for CompletionReport {
    type Error = AppError;

    fn try_from(input: CompleteOrderInput) -> AppResult<Self> {
        if !(1..=MAX_MINUTES_SPENT).contains(&input.minutes_spent) {
            return Err(AppError::bad_input(format!(
                "minutesSpent must be between 1 and {MAX_MINUTES_SPENT}"
            )));
        }
        photos::check_count(&input.photo_keys)?;
        Ok(Self {
            summary: validate::text("summary", &input.summary, 1, 1000)?,
            minutes_spent: input.minutes_spent,
            photo_keys: input.photo_keys,
        })
    }
}

pub async fn complete(
    db: &DatabaseConnection,
    photos: &PhotoService,
    actor: &Actor,
    order_id: Uuid,
    report: CompletionReport,
) -> AppResult<Committed<order::Model>> {
    let summary = photos
        .content
        .clear(db, actor, Scene::Forum, "summary", report.summary)
        .await?;
    let photos = photos
        .check(db, actor, PhotoPurpose::CompletionPhoto, &report.photo_keys)
        .await?;
    let completed = columns(|_| order::ActiveModel {
        completion_summary: Set(Some(summary.text().to_owned())),
        minutes_spent: Set(Some(report.minutes_spent)),
        completed_at: Set(Some(db::now())),
        ..Default::default()
    });
    let applied = transition(db, actor, order_id, Step::Complete, None, completed).await?;
    summary.record(&applied.txn).await?;
    photos::attach(&applied.txn, actor.id, Attachment::Order(order_id), photos).await?;
    applied.commit().await
}

/// Rating also credits the taker's time (see `points::records::record_order_service`),
/// at most `minutes_cap` of it, in the same transaction.
pub async fn rate(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    order_id: Uuid,
    stars: i32,
    comment: Option<String>,
    minutes_cap: i32,
) -> AppResult<Committed<order::Model>> {
    if !(1..=5).contains(&stars) {
        return Err(AppError::bad_input("stars must be between 1 and 5"));
    }
    let comment = validate::optional_text("comment", comment.as_deref(), 500)?;
    let comment = content
        .clear_optional(db, actor, Scene::Comment, "comment", comment)
        .await?;
    let comment_text = comment.as_ref().map(|c| c.text().to_owned());
    let rated = columns(move |_| order::ActiveModel {
        rating_stars: Set(Some(stars as i16)),
        rating_comment: Set(comment_text),
        rated_at: Set(Some(db::now())),
        ..Default::default()
    });
    let applied = transition(db, actor, order_id, Step::Rate, comment, rated).await?;
    points::records::record_order_service(&applied.txn, &applied.order, stars, minutes_cap).await?;
    applied.commit().await
}

pub async fn cancel(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    order_id: Uuid,
    reason: String,
) -> AppResult<Committed<order::Model>> {
    let reason = step_note(db, content, actor, "reason", &reason).await?;
    let reason_text = reason.text().to_owned();
    let cancelled = columns(move |_| order::ActiveModel {
        cancel_reason: Set(Some(reason_text)),
        ..Default::default()
    });
    transition(db, actor, order_id, Step::Cancel, Some(reason), cancelled)
        .await?
        .commit()
        .await
}

/// What a step writes to the order, worked out inside its transaction from the order as read
/// there (under its row lock), with whatever else the command needs afterwards (`then`).
pub(super) struct Plan<T = ()> {
    changes: order::ActiveModel,
    /// Set when what the transaction read decides the step (a reopen whose taker has left):
    /// the state machine is asked again with it.
    step: Option<Step>,
    then: T,
}

impl Plan {
    pub(super) fn new(changes: order::ActiveModel) -> Self {
        Self {
            changes,
            step: None,
            then: (),
        }
    }
}

impl<T> Plan<T> {
    pub(super) fn then<U>(self, then: U) -> Plan<U> {
        Plan {
            changes: self.changes,
            step: self.step,
            then,
        }
    }
}

pub(super) type Planned<'a, T> = BoxFuture<'a, AppResult<Plan<T>>>;

/// A plan as written at its call site, typed for `transition` (closures bound to a name
/// first are not inferred as taking any lifetime).
fn planned<T, P>(plan: P) -> P
where
    P: for<'a> FnOnce(&'a DatabaseTransaction, &'a order::Model) -> Planned<'a, T> + Send,
{
    plan
}

/// A plan whose columns follow from the order alone, with no rule that needs the database.
pub(super) fn columns(
    changes: impl FnOnce(&order::Model) -> order::ActiveModel + Send,
) -> impl for<'a> FnOnce(&'a DatabaseTransaction, &'a order::Model) -> Planned<'a, ()> + Send {
    move |_, order| {
        let plan = Plan::new(changes(order));
        Box::pin(async move { Ok(plan) })
    }
}

/// A step's status and bookkeeping only.
pub(super) fn unchanged()
-> impl for<'a> FnOnce(&'a DatabaseTransaction, &'a order::Model) -> Planned<'a, ()> + Send {
    columns(|_| Default::default())
}

/// A step applied inside a still-open transaction, so that its consequences (points for a
/// rated order) commit with it.
pub(super) struct Applied<T = ()> {
    pub(super) txn: DatabaseTransaction,
    /// The order as the transaction read it, before the step.
    pub(super) before: order::Model,
    pub(super) order: order::Model,
    pub(super) then: T,
    step: Step,
}

impl<T> Applied<T> {
    pub(super) async fn commit(self) -> AppResult<Committed<order::Model>> {
        stepped(&self.order, Some(self.step))
            .commit(self.txn, self.order)
            .await
    }
}

fn stepped(order: &order::Model, step: Option<Step>) -> Events {
    let mut events = Events::default();
    events.push(DomainEvent::OrderStepped {
        order: Box::new(order.clone()),
        step,
    });
    events
}

/// Applies one workflow step, with the actor's usual relation to the order.
pub(super) async fn transition<T, P>(
    db: &DatabaseConnection,
    actor: &Actor,
    order_id: Uuid,
    step: Step,
    note: Option<Cleared>,
    plan: P,
) -> AppResult<Applied<T>>
where
    P: for<'a> FnOnce(&'a DatabaseTransaction, &'a order::Model) -> Planned<'a, T> + Send,
{
    let who = move |order: &order::Model| relation(actor, order);
    apply_step(db, actor, order_id, step, note, who, plan).await
}

/// Applies one workflow step in one transaction: locks and reads the order, asks the state
/// machine (with `who` the actor is to it), then runs `plan` on the row just read, so that
/// nothing a step writes comes from an earlier read. The `version` guard stays as a second
/// line: two steps can never both apply to one version.
pub(super) async fn apply_step<T, P>(
    db: &DatabaseConnection,
    actor: &Actor,
    order_id: Uuid,
    step: Step,
    note: Option<Cleared>,
    who: impl FnOnce(&order::Model) -> Relation,
    plan: P,
) -> AppResult<Applied<T>>
where
    P: for<'a> FnOnce(&'a DatabaseTransaction, &'a order::Model) -> Planned<'a, T> + Send,
{
    let txn = begin_write(db).await?;
    // FOR UPDATE on PostgreSQL: whatever the plan reads next (membership, the community) is
    // read after any step already on this order committed. SQLite's IMMEDIATE write
    // transaction already holds every row.
    let before = order::Entity::find_by_id(order_id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("order"))?;
    let who = who(&before);
    let refused = |refusal| match refusal {
        Refusal::Forbidden(why) => AppError::forbidden(why),
        Refusal::WrongState(why) => AppError::Conflict(why),
    };
    let mut to = workflow::next_status(before.status, step, who).map_err(refused)?;
    let Plan {
        changes,
        step: decided,
        then,
    } = plan(&txn, &before).await?;
    let step = decided.unwrap_or(step);
    if decided.is_some() {
        to = workflow::next_status(before.status, step, who).map_err(refused)?;
    }
    let note = Cleared::record_optional(note, &txn).await?;
    let (order, stepped, update) = step_writes(actor.id, &before, step, to, changes, note)?;
    // The step and its event in one round trip on PostgreSQL; a lost race rolls both back.
    if db::write_together(&txn, vec![stepped], update).await? != 1 {
        return Err(AppError::conflict(
            "someone else changed this order a moment ago (e.g. another member took it); reload",
        ));
    }
    stats::restate_order(&txn, &before, &order).await?;
    if reenters_open_work(&before, &order) {
        budgets::reopened(&txn, &order).await?;
    }
    Ok(Applied {
        txn,
        before,
        order,
        then,
        step,
    })
}

/// What a step writes, worked out from the order as read: the order after it, its timeline
/// event, and the update guarded by the version read (two steps never both apply to one).
fn step_writes(
    actor_id: Uuid,
    before: &order::Model,
    step: Step,
    to: OrderStatus,
    mut changes: order::ActiveModel,
    note: Option<String>,
) -> AppResult<(order::Model, InsertStatement, UpdateStatement)> {
    changes.status = Set(to);
    changes.version = Set(before.version + 1);
    changes.updated_at = Set(db::now());
    let order = updated_row(before, changes.clone())?;
    let stepped = event(&order, actor_id, step.action(), Some(before.status), note);
    let update = order::Entity::update_many()
        .set(changes)
        .filter(order::Column::Id.eq(before.id))
        .filter(order::Column::Version.eq(before.version))
        .into_query();
    Ok((order, stepped, update))
}

/// An order open again (reopened) counts against its requester's open budget again.
fn reenters_open_work(before: &order::Model, after: &order::Model) -> bool {
    !workflow::OPEN_WORK.contains(&before.status) && workflow::OPEN_WORK.contains(&after.status)
}

/// `transition` for a step without a note (a grab from the pool, a publish, a dispatch). On
/// PostgreSQL it is first tried as a read of the order (no lock) and ONE statement: the step,
/// its event and its inbox rows, guarded by the version read and by what `quick` adds (a
/// dispatch: that the assignee is a member). `quick` gives the step's columns, or `None` when
/// the order as read would be refused. Such a step, one that would also restate the rollups
/// or a budget, and a guard unmet run the transaction with `plan` instead, which reads under
/// the lock, decides and words the refusal.
async fn quick_transition<P>(
    db: &DatabaseConnection,
    actor: &Actor,
    order_id: Uuid,
    step: Step,
    quick: impl FnOnce(&order::Model) -> Option<(order::ActiveModel, Condition)>,
    plan: P,
) -> AppResult<Committed<order::Model>>
where
    P: for<'a> FnOnce(&'a DatabaseTransaction, &'a order::Model) -> Planned<'a, ()> + Send,
{
    if db::writes_in_one_statement(db)
        && let Some(before) = order::Entity::find_by_id(order_id).one(db).await?
        && let Ok(to) = workflow::next_status(before.status, step, relation(actor, &before))
        && let Some((changes, holds)) = quick(&before)
    {
        let (order, timeline, mut update) =
            step_writes(actor.id, &before, step, to, changes, None)?;
        let beyond = stats::restates(&before, &order) || reenters_open_work(&before, &order);
        if !beyond
            && let Some(committed) = stepped(&order, Some(step))
                .commit_at_once(
                    db,
                    vec![timeline],
                    vec![update.cond_where(holds).to_owned()],
                    order,
                )
                .await?
        {
            return Ok(committed);
        }
    }
    transition(db, actor, order_id, step, None, plan)
        .await?
        .commit()
        .await
}

/// The row as the update left it: `before` with the set columns replaced (no trigger or
/// default changes a column on update), without reading it back.
fn updated_row(before: &order::Model, changes: order::ActiveModel) -> AppResult<order::Model> {
    let mut row: order::ActiveModel = before.clone().into();
    for column in <order::Column as sea_orm::Iterable>::iter() {
        if let sea_orm::ActiveValue::Set(value) = changes.get(column) {
            row.set(column, value);
        }
    }
    Ok(sea_orm::TryIntoModel::try_into_model(row)?)
}

pub(super) async fn record_event(
    txn: &DatabaseTransaction,
    order: &order::Model,
    actor_id: Uuid,
    action: &str,
    from: Option<OrderStatus>,
    note: Option<String>,
) -> AppResult<()> {
    txn.execute(&event(order, actor_id, action, from, note))
        .await?;
    Ok(())
}

/// The step `action` of `order` in its timeline, as its insert.
fn event(
    order: &order::Model,
    actor_id: Uuid,
    action: &str,
    from: Option<OrderStatus>,
    note: Option<String>,
) -> InsertStatement {
    order_event::Entity::insert(order_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        order_id: Set(order.id),
        actor_id: Set(actor_id),
        action: Set(action.to_owned()),
        from_status: Set(from),
        to_status: Set(order.status),
        note: Set(note),
        created_at: Set(order.updated_at),
    })
    .into_query()
}

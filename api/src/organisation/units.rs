//! Units stationed in a community (驻区单位) report to it (双报到): a unit registers with its
//! Party organisation, a contact and what it can offer; STAFF of the community approve it;
//! Party members say which unit they work at; the unit's page shows its members' confirmed
//! service; its representative may claim micro-wishes in its name (`wishes::claim`).
use std::collections::HashMap;

use chrono::Utc;
use entity::{
    enums::{RecordStatus, UnitStatus, WishStatus},
    service_record, unit, unit_member, wish,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, JoinType, QueryFilter, QuerySelect, sea_query::OnConflict,
};
use uuid::Uuid;

use crate::{
    content::{Cleared, ContentGuard, Scene},
    error::{AppError, AppResult},
    identity::Actor,
    infra::db::{begin_write, sum_i64},
    pagination::{Page, PageRequest, fetch_page},
    validate,
    values::Phone,
};

/// A unit as its representative typed it, unchecked.
pub struct UnitInput {
    pub community_id: Uuid,
    pub name: String,
    pub party_organisation: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub resources: String,
}

/// Anyone logged in may register a unit with a community; it waits for STAFF there.
pub async fn register(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    input: UnitInput,
) -> AppResult<unit::Model> {
    let name = validate::text("name", &input.name, 1, 60)?;
    let party_organisation = validate::text("partyOrganisation", &input.party_organisation, 1, 60)?;
    let contact_name = validate::text("contactName", &input.contact_name, 1, 30)?;
    let contact_phone = Phone::parse("contactPhone", &input.contact_phone)?;
    let resources = validate::text("resources", &input.resources, 0, 1000)?;
    super::get_community(db, input.community_id).await?;
    let texts = [
        ("name", name),
        ("partyOrganisation", party_organisation),
        ("resources", resources),
    ];
    let [name, party_organisation, resources] =
        content.clear_all(db, actor, Scene::Forum, texts).await?;
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let unit = unit::ActiveModel {
        id: Set(Uuid::now_v7()),
        community_id: Set(input.community_id),
        name: Set(name.record(&txn).await?),
        party_organisation: Set(party_organisation.record(&txn).await?),
        contact_name: Set(contact_name),
        contact_phone: Set(contact_phone.into()),
        resources: Set(resources.record(&txn).await?),
        status: Set(UnitStatus::PendingReview),
        review_note: Set(None),
        representative_id: Set(actor.id),
        reviewed_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(unit)
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> AppResult<unit::Model> {
    unit::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("unit"))
}

/// STAFF of the unit's community approve it, or turn it down with a note its representative
/// sees. Decided once: a second decision is a conflict.
pub async fn review(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    unit_id: Uuid,
    approve: bool,
    note: Option<String>,
) -> AppResult<unit::Model> {
    let unit = get(db, unit_id).await?;
    if !actor.roles.is_staff_of(unit.community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the unit's community review it",
        ));
    }
    let note = validate::optional_text("note", note.as_deref(), 200)?;
    if !approve && note.is_none() {
        return Err(AppError::bad_input("say why the unit is turned down"));
    }
    let note = content
        .clear_optional(db, actor, Scene::Comment, "note", note)
        .await?;
    let txn = begin_write(db).await?;
    let note = Cleared::record_optional(note, &txn).await?;
    let decided = unit::Entity::update_many()
        .set(unit::ActiveModel {
            status: Set(if approve {
                UnitStatus::Approved
            } else {
                UnitStatus::Rejected
            }),
            review_note: Set(note),
            reviewed_by: Set(Some(actor.id)),
            updated_at: Set(Utc::now()),
            ..Default::default()
        })
        .filter(unit::Column::Id.eq(unit_id))
        .filter(unit::Column::Status.eq(UnitStatus::PendingReview))
        .exec(&txn)
        .await?;
    if decided.rows_affected != 1 {
        return Err(AppError::conflict("this unit was reviewed already"));
    }
    txn.commit().await?;
    get(db, unit_id).await
}

/// Approved units are public; a unit waiting or turned down is seen by its representative and
/// STAFF of its community.
pub fn can_view(actor: &Actor, unit: &unit::Model) -> bool {
    unit.status == UnitStatus::Approved
        || unit.representative_id == actor.id
        || actor.roles.is_staff_of(unit.community_id)
}

/// Its contact phone: for its representative and STAFF of its community.
pub fn may_see_contact(actor: &Actor, unit: &unit::Model) -> bool {
    unit.representative_id == actor.id || actor.roles.is_staff_of(unit.community_id)
}

/// The community's units, newest first: approved ones for anyone, others for its STAFF.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    community_id: Uuid,
    status: UnitStatus,
    page: PageRequest,
) -> AppResult<Page<unit::Model>> {
    if status != UnitStatus::Approved && !actor.roles.is_staff_of(community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community see units not yet approved",
        ));
    }
    let select = unit::Entity::find()
        .filter(unit::Column::CommunityId.eq(community_id))
        .filter(unit::Column::Status.eq(status));
    fetch_page(db, select, unit::Column::Id, page).await
}

/// A Party member of the unit's community says they work at it (replacing any earlier unit).
pub async fn join(db: &DatabaseConnection, actor: &Actor, unit_id: Uuid) -> AppResult<unit::Model> {
    let unit = get(db, unit_id).await?;
    if !actor.roles.is_member_of(unit.community_id) {
        return Err(AppError::forbidden(
            "only approved Party members of the unit's community state it as theirs",
        ));
    }
    if unit.status != UnitStatus::Approved {
        return Err(AppError::conflict("this unit is not approved"));
    }
    unit_member::Entity::insert(unit_member::ActiveModel {
        user_id: Set(actor.id),
        unit_id: Set(unit_id),
        joined_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(unit_member::Column::UserId)
            .update_columns([unit_member::Column::UnitId, unit_member::Column::JoinedAt])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(unit)
}

pub async fn leave(db: &DatabaseConnection, actor: &Actor) -> AppResult<()> {
    unit_member::Entity::delete_by_id(actor.id).exec(db).await?;
    Ok(())
}

/// What a unit's page shows of its members' service and the wishes it fulfilled.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnitTotals {
    pub members: u64,
    pub confirmed_minutes: i64,
    pub wishes_fulfilled: u64,
}

/// The totals of these units, in three grouped queries however many there are; a unit with
/// nothing to count is left out.
pub async fn totals_of(
    db: &DatabaseConnection,
    unit_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, UnitTotals>> {
    let ids = || unit_ids.iter().copied();
    let members: Vec<(Uuid, i64)> = unit_member::Entity::find()
        .select_only()
        .column(unit_member::Column::UnitId)
        .column_as(unit_member::Column::UserId.count(), "members")
        .filter(unit_member::Column::UnitId.is_in(ids()))
        .group_by(unit_member::Column::UnitId)
        .into_tuple()
        .all(db)
        .await?;
    let membership = service_record::Entity::belongs_to(unit_member::Entity)
        .from(service_record::Column::UserId)
        .to(unit_member::Column::UserId);
    let minutes: Vec<(Uuid, Option<i64>)> = service_record::Entity::find()
        .select_only()
        .column(unit_member::Column::UnitId)
        .column_as(sum_i64(service_record::Column::Minutes), "minutes")
        .join(JoinType::InnerJoin, membership.into())
        .filter(unit_member::Column::UnitId.is_in(ids()))
        .filter(service_record::Column::Status.eq(RecordStatus::Confirmed))
        .group_by(unit_member::Column::UnitId)
        .into_tuple()
        .all(db)
        .await?;
    let wishes: Vec<(Uuid, i64)> = wish::Entity::find()
        .select_only()
        .column(wish::Column::UnitId)
        .column_as(wish::Column::Id.count(), "wishes")
        .filter(wish::Column::UnitId.is_in(ids()))
        .filter(wish::Column::Status.eq(WishStatus::Fulfilled))
        .group_by(wish::Column::UnitId)
        .into_tuple()
        .all(db)
        .await?;
    let mut totals: HashMap<Uuid, UnitTotals> = HashMap::new();
    for (unit, count) in members {
        totals.entry(unit).or_default().members = count as u64;
    }
    for (unit, sum) in minutes {
        totals.entry(unit).or_default().confirmed_minutes = sum.unwrap_or(0);
    }
    for (unit, count) in wishes {
        totals.entry(unit).or_default().wishes_fulfilled = count as u64;
    }
    Ok(totals)
}

/// The unit `actor` represents in `community_id`, approved, for claiming a wish in its name.
pub async fn represented(
    db: &impl ConnectionTrait,
    actor: &Actor,
    unit_id: Uuid,
) -> AppResult<unit::Model> {
    let unit = get(db, unit_id).await?;
    if unit.representative_id != actor.id {
        return Err(AppError::forbidden(
            "only the unit's representative acts in its name",
        ));
    }
    if unit.status != UnitStatus::Approved {
        return Err(AppError::conflict("this unit is not approved yet"));
    }
    Ok(unit)
}

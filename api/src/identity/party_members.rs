//! Party-member registration (在职党员到社区报到): a member reports to a community, its
//! STAFF approve (granting PARTY_MEMBER there) or reject.
use chrono::Utc;
use std::collections::HashMap;

use entity::{
    enums::{ApplicationStatus, OrderStatus, Role},
    order, party_member_application, role_grant, user,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, sea_query::Query,
};
use uuid::Uuid;

use super::{Actor, roles::insert_grant};
use crate::{
    content::{Cleared, ContentGuard, Scene},
    error::{AppError, AppResult},
    infra::db::begin_write,
    notify::{Application, Committed, DomainEvent, Events},
    organisation,
    pagination::{Page, PageRequest, fetch_page},
    validate,
    values::Skills,
};

pub struct PartyMemberApplicationInput {
    pub branch: String,
    pub employer: String,
    pub community_id: Uuid,
}

pub async fn apply_party_member(
    db: &DatabaseConnection,
    actor: &Actor,
    input: PartyMemberApplicationInput,
) -> AppResult<party_member_application::Model> {
    let branch = validate::text("branch", &input.branch, 1, 100)?;
    let employer = validate::text("employer", &input.employer, 1, 100)?;
    organisation::get_community(db, input.community_id).await?;
    if actor.roles.is_member_of(input.community_id) {
        return Err(AppError::conflict(
            "you are already a registered Party member of this community",
        ));
    }
    let txn = begin_write(db).await?;
    let pending = party_member_application::Entity::find()
        .filter(party_member_application::Column::UserId.eq(actor.id))
        .filter(party_member_application::Column::Status.eq(ApplicationStatus::Pending))
        .one(&txn)
        .await?;
    if pending.is_some() {
        return Err(AppError::conflict(
            "you already have a registration waiting for review",
        ));
    }
    let application = party_member_application::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(actor.id),
        community_id: Set(input.community_id),
        branch: Set(branch),
        employer: Set(employer),
        status: Set(ApplicationStatus::Pending),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        review_note: Set(None),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(application)
}

pub async fn review_party_member(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    application_id: Uuid,
    approve: bool,
    note: Option<String>,
) -> AppResult<Committed<party_member_application::Model>> {
    let note = validate::optional_text("note", note.as_deref(), 500)?;
    let application = party_member_application::Entity::find_by_id(application_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("registration"))?;
    if !actor.roles.is_staff_of(application.community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community may review its registrations",
        ));
    }
    let note = content
        .clear_optional(db, actor, Scene::Comment, "note", note)
        .await?;
    let txn = begin_write(db).await?;
    let note = Cleared::record_optional(note, &txn).await?;
    let status = if approve {
        ApplicationStatus::Approved
    } else {
        ApplicationStatus::Rejected
    };
    let now = Utc::now();
    // Compare-and-set on PENDING: two reviewers cannot both decide.
    let updated = party_member_application::Entity::update_many()
        .set(party_member_application::ActiveModel {
            status: Set(status),
            reviewed_by: Set(Some(actor.id)),
            reviewed_at: Set(Some(now)),
            review_note: Set(note),
            ..Default::default()
        })
        .filter(party_member_application::Column::Id.eq(application_id))
        .filter(party_member_application::Column::Status.eq(ApplicationStatus::Pending))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(AppError::conflict("this registration was already reviewed"));
    }
    let mut events = Events::default();
    if approve {
        insert_grant(
            &txn,
            &mut events,
            application.user_id,
            Role::PartyMember,
            Some(application.community_id),
            Some(actor.id),
        )
        .await?;
    }
    let reviewed = party_member_application::Entity::find_by_id(application_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("registration"))?;
    events.push(DomainEvent::ApplicationReviewed {
        applicant_id: reviewed.user_id,
        application: Application::PartyMember,
        approved: approve,
    });
    events.commit(txn, reviewed).await
}

pub async fn party_member_applications(
    db: &DatabaseConnection,
    actor: &Actor,
    community_id: Uuid,
    status: Option<ApplicationStatus>,
) -> AppResult<Vec<party_member_application::Model>> {
    if !actor.roles.is_staff_of(community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community may list its registrations",
        ));
    }
    let mut query = party_member_application::Entity::find()
        .filter(party_member_application::Column::CommunityId.eq(community_id));
    if let Some(status) = status {
        query = query.filter(party_member_application::Column::Status.eq(status));
    }
    Ok(query
        .order_by_desc(party_member_application::Column::Id)
        .all(db)
        .await?)
}

pub async fn my_party_member_applications(
    db: &DatabaseConnection,
    actor: &Actor,
) -> AppResult<Vec<party_member_application::Model>> {
    Ok(party_member_application::Entity::find()
        .filter(party_member_application::Column::UserId.eq(actor.id))
        .order_by_desc(party_member_application::Column::Id)
        .all(db)
        .await?)
}

/// What a dispatcher sees of a member when choosing whom to send.
pub struct MemberAtWork {
    pub user: entity::user::Model,
    /// Orders dispatched to them awaiting an answer, and orders they took and have not
    /// completed.
    pub open_tasks: i64,
    pub completed_last_30_days: i64,
}

/// STAFF: the community's approved Party members (with `skill`, when given), newest account
/// first, each with their current load.
pub async fn community_members(
    db: &DatabaseConnection,
    actor: &Actor,
    community_id: Uuid,
    skill: Option<&str>,
    page: PageRequest,
) -> AppResult<Page<MemberAtWork>> {
    if !actor.roles.is_staff_of(community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community may list its members for dispatch",
        ));
    }
    let members = Query::select()
        .column(role_grant::Column::UserId)
        .from(role_grant::Entity)
        .and_where(role_grant::Column::Role.eq(Role::PartyMember))
        .and_where(role_grant::Column::CommunityId.eq(community_id))
        .to_owned();
    let mut select = user::Entity::find().filter(user::Column::Id.in_subquery(members));
    if let Some(skill) = skill {
        select = select.filter(user::Column::Skills.like(Skills::pattern(skill)));
    }
    let users = fetch_page(db, select, user::Column::Id, page).await?;
    let ids: Vec<Uuid> = users.items.iter().map(|user| user.id).collect();
    let open = count_by(
        db,
        order::Column::TakerId,
        &ids,
        Condition::all().add(order::Column::Status.eq(OrderStatus::Accepted)),
    )
    .await?;
    let awaiting = count_by(
        db,
        order::Column::AssigneeId,
        &ids,
        Condition::all().add(order::Column::Status.eq(OrderStatus::Dispatched)),
    )
    .await?;
    let completed = count_by(
        db,
        order::Column::TakerId,
        &ids,
        Condition::all()
            .add(order::Column::CompletedAt.gt(Utc::now() - chrono::Duration::days(30))),
    )
    .await?;
    Ok(users.map(|user| MemberAtWork {
        open_tasks: open.get(&user.id).copied().unwrap_or(0)
            + awaiting.get(&user.id).copied().unwrap_or(0),
        completed_last_30_days: completed.get(&user.id).copied().unwrap_or(0),
        user,
    }))
}

/// Orders matching `condition` per member in `column`, for these members.
async fn count_by(
    db: &DatabaseConnection,
    column: order::Column,
    members: &[Uuid],
    condition: Condition,
) -> AppResult<HashMap<Uuid, i64>> {
    if members.is_empty() {
        return Ok(HashMap::new());
    }
    let counts: Vec<(Uuid, i64)> = order::Entity::find()
        .select_only()
        .column(column)
        .column_as(order::Column::Id.count(), "orders")
        .filter(column.is_in(members.iter().copied()))
        .filter(condition)
        .group_by(column)
        .into_tuple()
        .all(db)
        .await?;
    Ok(counts.into_iter().collect())
}

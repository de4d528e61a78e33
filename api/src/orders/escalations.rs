//! Escalation up and back (吹哨报到, 街呼区应): STAFF send an order they cannot solve to a
//! department of their street or district; the department accepts it, reports progress, and
//! resolves it (the order comes back completed, for the resident's rating and the community's
//! callback) or returns it; a street may pass it on to the district. Every hop is a workflow
//! step on the order, so its version guard serialises them, and a row here.
use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entity::{
    department,
    enums::{EscalationLevel, EscalationStatus, Urgency},
    escalation, order, street,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::{
    commands::{Plan, apply_step, awaiting_again, step_note, transition},
    relation,
    workflow::{Relation, Response, Step},
};
use crate::{
    content::{ContentGuard, Scene},
    error::{AppError, AppResult},
    identity::Actor,
    infra::db::group_by_parent,
    notify::Committed,
    organisation::{self, departments},
    pagination::{Page, PageRequest, fetch_page},
    validate,
};

/// How long a level has to resolve what it is sent; urgent orders get half.
pub fn deadline(level: EscalationLevel, urgency: Urgency) -> Duration {
    let full = match level {
        EscalationLevel::Street => Duration::days(3),
        EscalationLevel::District => Duration::days(7),
    };
    match urgency {
        Urgency::Normal => full,
        Urgency::Urgent => full / 2,
    }
}

/// A street escalates to its own departments, a district level to the district's.
fn department_fits(
    department: &department::Model,
    level: EscalationLevel,
    street: &street::Model,
) -> AppResult<()> {
    let fits = match level {
        EscalationLevel::Street => department.street_id == Some(street.id),
        EscalationLevel::District => {
            department.street_id.is_none() && department.district_id == street.district_id
        }
    };
    if fits {
        Ok(())
    } else {
        Err(AppError::bad_input(match level {
            EscalationLevel::Street => "choose a department of the order's street",
            EscalationLevel::District => "choose a department of the order's district",
        }))
    }
}

pub struct Escalate {
    pub order_id: Uuid,
    pub to: EscalationLevel,
    pub department_id: Uuid,
    pub reason: String,
}

/// The order's columns while `department` has it at `level`, until `due`.
fn with_department(
    department: Uuid,
    level: EscalationLevel,
    street: Uuid,
    due: DateTime<Utc>,
) -> order::ActiveModel {
    order::ActiveModel {
        escalated_to_id: Set(Some(department)),
        escalated_street_id: Set((level == EscalationLevel::Street).then_some(street)),
        completion_due_at: Set(Some(due)),
        ..Default::default()
    }
}

pub async fn escalate(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    input: Escalate,
) -> AppResult<Committed<escalation::Model>> {
    let reason = step_note(db, content, actor, "reason", &input.reason).await?;
    let department = departments::get(db, input.department_id).await?;
    let now = Utc::now();
    let hop_reason = reason.text().to_owned();
    let to = input.to;
    let applied = transition(
        db,
        actor,
        input.order_id,
        Step::Escalate,
        Some(reason),
        // The street is the one of the community the order is in now, under its lock.
        move |txn, order| {
            Box::pin(async move {
                let community = organisation::get_community(txn, order.community_id).await?;
                let street = organisation::get_street(txn, community.street_id).await?;
                department_fits(&department, to, &street)?;
                let due = now + deadline(to, order.urgency);
                let changes = order::ActiveModel {
                    // Whoever had it is off it while the department works.
                    assignee_id: Set(None),
                    taker_id: Set(None),
                    ..with_department(department.id, to, street.id, due)
                };
                Ok(Plan::new(changes).then((street, department.id, due)))
            })
        },
    )
    .await?;
    let (street, department_id, due) = &applied.then;
    let hop = open_hop(
        &applied.txn,
        &applied.order,
        street,
        Hop {
            level: input.to,
            department_id: *department_id,
            reason: hop_reason,
            by: actor.id,
            at: now,
            due: *due,
        },
    )
    .await?;
    Ok(applied.commit().await?.map(|_| hop))
}

struct Hop {
    level: EscalationLevel,
    department_id: Uuid,
    reason: String,
    by: Uuid,
    at: DateTime<Utc>,
    due: DateTime<Utc>,
}

async fn open_hop(
    txn: &impl ConnectionTrait,
    order: &order::Model,
    street: &street::Model,
    hop: Hop,
) -> AppResult<escalation::Model> {
    Ok(escalation::ActiveModel {
        id: Set(Uuid::now_v7()),
        order_id: Set(order.id),
        community_id: Set(order.community_id),
        street_id: Set(street.id),
        district_id: Set(street.district_id),
        level: Set(hop.level),
        department_id: Set(hop.department_id),
        status: Set(EscalationStatus::Open),
        reason: Set(hop.reason),
        escalated_by: Set(hop.by),
        created_at: Set(hop.at),
        due_at: Set(hop.due),
        accepted_by: Set(None),
        accepted_at: Set(None),
        closed_by: Set(None),
        closed_at: Set(None),
        outcome: Set(None),
    }
    .insert(txn)
    .await?)
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> AppResult<escalation::Model> {
    escalation::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("escalation"))
}

/// A department's answer, unchecked.
pub struct Answer {
    pub escalation_id: Uuid,
    pub response: Response,
    /// The progress, the result, or why it is returned or passed on.
    pub note: String,
    /// PASS_ON: the district department that takes it.
    pub pass_to: Option<Uuid>,
}

fn still_with_them(hop: &escalation::Model, response: Response) -> AppResult<()> {
    match (hop.status, response) {
        (EscalationStatus::Open, _) => Ok(()),
        (EscalationStatus::Accepted, Response::Accept) => {
            Err(AppError::conflict("this escalation is already accepted"))
        }
        (EscalationStatus::Accepted, _) => Ok(()),
        _ => Err(AppError::conflict(
            "this escalation is closed: the order has moved on",
        )),
    }
}

pub async fn respond(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    answer: Answer,
) -> AppResult<Committed<escalation::Model>> {
    let note = validate::text("note", &answer.note, 1, 1000)?;
    let note = content
        .clear(db, actor, Scene::Comment, "note", note)
        .await?;
    let note_text = note.text().to_owned();
    // Who a hop went to, and at which level, never changes: read once, outside.
    let hop = get(db, answer.escalation_id).await?;
    let now = Utc::now();
    let response = answer.response;
    let pass_to = match (response, answer.pass_to) {
        (Response::PassOn, Some(id)) => Some((
            departments::get(db, id).await?,
            organisation::get_street(db, hop.street_id).await?,
        )),
        (Response::PassOn, None) => {
            return Err(AppError::bad_input(
                "PASS_ON needs departmentId: the district department",
            ));
        }
        (_, Some(_)) => return Err(AppError::bad_input("departmentId is only for PASS_ON")),
        (_, None) => None,
    };
    let hop_id = hop.id;
    let level = hop.level;
    // Whether they may answer is settled by the hop they answer, not by where the order is
    // now: one who loses a race to it is told it moved on, not that it was never theirs.
    let acts_for = actor.roles.is_department_staff_of(hop.department_id)
        || (level == EscalationLevel::Street && actor.roles.is_street_staff_of(hop.street_id));
    let who = move |order: &order::Model| Relation {
        department: acts_for,
        ..relation(actor, order)
    };
    let summary = note_text.clone();
    let applied = apply_step(
        db,
        actor,
        hop.order_id,
        Step::Respond(response),
        Some(note),
        who,
        move |txn, order| {
            Box::pin(async move {
                let hop = get(txn, hop_id).await?;
                if order.escalated_to_id != Some(hop.department_id) {
                    return Err(AppError::conflict(
                        "this escalation is closed: the order has moved on",
                    ));
                }
                still_with_them(&hop, response)?;
                if response == Response::PassOn && level != EscalationLevel::Street {
                    return Err(AppError::conflict(
                        "only a street passes an order on to the district",
                    ));
                }
                let due = now + deadline(EscalationLevel::District, order.urgency);
                let changes = match &pass_to {
                    None if response == Response::Resolve => order::ActiveModel {
                        completed_at: Set(Some(now)),
                        completion_summary: Set(Some(summary)),
                        accepted_at: Set(order.accepted_at.or(Some(now))),
                        escalated_to_id: Set(None),
                        escalated_street_id: Set(None),
                        ..Default::default()
                    },
                    None if response == Response::Return => order::ActiveModel {
                        escalated_to_id: Set(None),
                        escalated_street_id: Set(None),
                        response_due_at: Set(awaiting_again(order, now)),
                        ..Default::default()
                    },
                    None => Default::default(),
                    Some((department, street)) => {
                        department_fits(department, EscalationLevel::District, street)?;
                        with_department(department.id, EscalationLevel::District, street.id, due)
                    }
                };
                Ok(Plan::new(changes)
                    .then(pass_to.map(|(department, street)| (department, street, due))))
            })
        },
    )
    .await?;
    let closing = |status| escalation::ActiveModel {
        status: Set(status),
        closed_by: Set(Some(actor.id)),
        closed_at: Set(Some(now)),
        outcome: Set(Some(note_text.clone())),
        ..Default::default()
    };
    let update = match response {
        Response::Accept => Some(escalation::ActiveModel {
            status: Set(EscalationStatus::Accepted),
            accepted_by: Set(Some(actor.id)),
            accepted_at: Set(Some(now)),
            ..Default::default()
        }),
        Response::Progress => None,
        Response::Resolve => Some(closing(EscalationStatus::Resolved)),
        Response::Return => Some(closing(EscalationStatus::Returned)),
        Response::PassOn => Some(closing(EscalationStatus::PassedOn)),
    };
    if let Some(update) = update {
        escalation::Entity::update_many()
            .set(update)
            .filter(escalation::Column::Id.eq(hop_id))
            .exec(&applied.txn)
            .await?;
    }
    let answered = match &applied.then {
        Some((department, street, due)) => {
            open_hop(
                &applied.txn,
                &applied.order,
                street,
                Hop {
                    level: EscalationLevel::District,
                    department_id: department.id,
                    reason: note_text,
                    by: actor.id,
                    at: now,
                    due: *due,
                },
            )
            .await?
        }
        None => get(&applied.txn, hop_id).await?,
    };
    Ok(applied.commit().await?.map(|_| answered))
}

/// Whose escalations a list shows.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    Department(Uuid),
    Street(Uuid),
    District(Uuid),
    Community(Uuid),
}

/// May `actor` see the escalations of `scope`: the department's staff (and its street's),
/// the street's staff, STAFF of the community, ADMIN everywhere.
async fn may_list(db: &impl ConnectionTrait, actor: &Actor, scope: Scope) -> AppResult<bool> {
    Ok(match scope {
        Scope::Department(id) => {
            let department = departments::get(db, id).await?;
            actor.roles.is_department_staff_of(id)
                || department
                    .street_id
                    .is_some_and(|street| actor.roles.is_street_staff_of(street))
        }
        Scope::Street(id) => actor.roles.is_street_staff_of(id),
        Scope::District(_) => actor.roles.is_admin(),
        Scope::Community(id) => actor.roles.is_staff_of(id),
    })
}

/// The escalations of `scope` (with `status`, when given), newest first.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    scope: Scope,
    status: Option<EscalationStatus>,
    page: PageRequest,
) -> AppResult<Page<escalation::Model>> {
    if !may_list(db, actor, scope).await? {
        return Err(AppError::forbidden(
            "you may not see the escalations of this department, street, district or community",
        ));
    }
    let column = match scope {
        Scope::Department(id) => escalation::Column::DepartmentId.eq(id),
        Scope::Street(id) => escalation::Column::StreetId.eq(id),
        Scope::District(id) => escalation::Column::DistrictId.eq(id),
        Scope::Community(id) => escalation::Column::CommunityId.eq(id),
    };
    let mut select = escalation::Entity::find().filter(column);
    if let Some(status) = status {
        select = select.filter(escalation::Column::Status.eq(status));
    }
    fetch_page(db, select, escalation::Column::Id, page).await
}

/// May `actor` see this hop: those who may list any scope it is in.
pub async fn may_see(
    db: &impl ConnectionTrait,
    actor: &Actor,
    hop: &escalation::Model,
) -> AppResult<bool> {
    for scope in [
        Scope::Community(hop.community_id),
        Scope::Street(hop.street_id),
        Scope::District(hop.district_id),
        Scope::Department(hop.department_id),
    ] {
        if may_list(db, actor, scope).await? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The hops of these orders, oldest first, in one query.
pub async fn of_orders(
    db: &impl ConnectionTrait,
    order_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<escalation::Model>>> {
    let rows = escalation::Entity::find()
        .filter(escalation::Column::OrderId.is_in(order_ids.iter().copied()))
        .order_by_asc(escalation::Column::Id)
        .all(db)
        .await?;
    Ok(group_by_parent(rows, |hop| Some(hop.order_id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_level_has_its_deadline_and_urgent_orders_half_of_it() {
        assert_eq!(
            deadline(EscalationLevel::Street, Urgency::Normal),
            Duration::days(3)
        );
        assert_eq!(
            deadline(EscalationLevel::District, Urgency::Urgent),
            Duration::hours(84)
        );
    }

    #[test]
    fn streets_escalate_to_their_own_departments_or_their_districts() {
        let street = street::Model {
            id: Uuid::now_v7(),
            district_id: Uuid::now_v7(),
            name: "街道".into(),
        };
        let department = |street_id, district_id| department::Model {
            id: Uuid::now_v7(),
            district_id,
            street_id,
            name: "城管".into(),
            created_at: Utc::now(),
        };
        let own = department(Some(street.id), street.district_id);
        let district = department(None, street.district_id);
        let elsewhere = department(Some(Uuid::now_v7()), street.district_id);
        let other_district = department(None, Uuid::now_v7());
        assert!(department_fits(&own, EscalationLevel::Street, &street).is_ok());
        assert!(department_fits(&district, EscalationLevel::District, &street).is_ok());
        assert!(department_fits(&own, EscalationLevel::District, &street).is_err());
        assert!(department_fits(&district, EscalationLevel::Street, &street).is_err());
        assert!(department_fits(&elsewhere, EscalationLevel::Street, &street).is_err());
        assert!(department_fits(&other_district, EscalationLevel::District, &street).is_err());
    }
}

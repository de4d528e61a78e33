//! Escalation up and back (吹哨报到): departments, escalating an order, the department's
//! answers, and the lists departments and streets work from.
use async_graphql::{Context, Enum, ID, InputObject, Object, OneofObject, Result};
use chrono::{DateTime, Utc};
use entity::{department, enums, escalation};

use super::{
    actor, connection, identity::User, load, load_user, orders::Order, parse_id, settle, state,
    to_id,
};
use crate::{
    error::AppError,
    orders::{
        escalations::{self, Answer, Escalate, Scope},
        workflow::Response,
    },
    organisation::departments::{self, Seat},
    pagination::PageRequest,
};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::EscalationLevel")]
pub enum EscalationLevel {
    Street,
    District,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::EscalationStatus")]
pub enum EscalationStatus {
    /// Waiting for the department to accept it.
    Open,
    Accepted,
    /// Solved: the order is back with its community, completed.
    Resolved,
    /// Not the department's: the order is back with its community for dispatch.
    Returned,
    /// The street passed it on to a district department.
    PassedOn,
}

/// What the department does with an escalated order.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum EscalationAction {
    Accept,
    /// A progress note; counts as progress for alerts.
    Progress,
    /// Solved: the order returns to its community completed, for rating and callback.
    Resolve,
    /// Not ours: back to the community for dispatch.
    Return,
    /// Street level only: hand it to a district department (`departmentId`).
    PassOn,
}

impl From<EscalationAction> for Response {
    fn from(action: EscalationAction) -> Self {
        match action {
            EscalationAction::Accept => Response::Accept,
            EscalationAction::Progress => Response::Progress,
            EscalationAction::Resolve => Response::Resolve,
            EscalationAction::Return => Response::Return,
            EscalationAction::PassOn => Response::PassOn,
        }
    }
}

/// A street's or district's department (城管, 市场监管, 住建, 供电 …).
pub struct Department(department::Model);

#[Object]
impl Department {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// STREET when it belongs to a street, DISTRICT otherwise.
    async fn level(&self) -> EscalationLevel {
        match self.0.street_id {
            Some(_) => EscalationLevel::Street,
            None => EscalationLevel::District,
        }
    }
    async fn street_id(&self) -> Option<ID> {
        self.0.street_id.map(to_id)
    }
    async fn district_id(&self) -> ID {
        to_id(self.0.district_id)
    }
}

/// One hop of an order up to a department.
pub struct Escalation(pub escalation::Model);

#[Object]
impl Escalation {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// Shown to whoever sees the escalation; the contact phone only while the department
    /// has it (or to the order's own people).
    async fn order(&self, ctx: &Context<'_>) -> Result<Order> {
        let order = load(|r| &r.orders, ctx, self.0.order_id, "order").await?;
        Ok(Order::from(order))
    }
    async fn level(&self) -> EscalationLevel {
        self.0.level.into()
    }
    async fn department(&self, ctx: &Context<'_>) -> Result<Department> {
        let department = load(|r| &r.departments, ctx, self.0.department_id, "department").await?;
        Ok(Department(department))
    }
    async fn status(&self) -> EscalationStatus {
        self.0.status.into()
    }
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    async fn escalated_by(&self, ctx: &Context<'_>) -> Result<User> {
        Ok(User::from(load_user(ctx, self.0.escalated_by).await?))
    }
    async fn escalated_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// This level's deadline to resolve it.
    async fn due_at(&self) -> DateTime<Utc> {
        self.0.due_at
    }
    async fn is_overdue(&self) -> bool {
        self.0.closed_at.is_none() && Utc::now() > self.0.due_at
    }
    async fn accepted_at(&self) -> Option<DateTime<Utc>> {
        self.0.accepted_at
    }
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
    /// The result when RESOLVED; why, when RETURNED or PASSED_ON.
    async fn outcome(&self) -> Option<&str> {
        self.0.outcome.as_deref()
    }
}

/// Exactly one of them.
#[derive(OneofObject)]
#[allow(
    clippy::enum_variant_names,
    reason = "the API's field names: departmentId, …"
)]
pub enum EscalationScope {
    DepartmentId(ID),
    StreetId(ID),
    DistrictId(ID),
    CommunityId(ID),
}

impl TryFrom<EscalationScope> for Scope {
    type Error = AppError;

    fn try_from(scope: EscalationScope) -> Result<Self, AppError> {
        Ok(match scope {
            EscalationScope::DepartmentId(id) => Scope::Department(parse_id("departmentId", &id)?),
            EscalationScope::StreetId(id) => Scope::Street(parse_id("streetId", &id)?),
            EscalationScope::DistrictId(id) => Scope::District(parse_id("districtId", &id)?),
            EscalationScope::CommunityId(id) => Scope::Community(parse_id("communityId", &id)?),
        })
    }
}

/// Where a new department sits.
#[derive(OneofObject)]
pub enum DepartmentSeat {
    StreetId(ID),
    DistrictId(ID),
}

#[derive(InputObject)]
pub struct EscalateOrderInput {
    order_id: ID,
    to: EscalationLevel,
    /// One of `departments(streetId)` at that level.
    department_id: ID,
    reason: String,
}

#[derive(InputObject)]
pub struct RespondToEscalationInput {
    escalation_id: ID,
    action: EscalationAction,
    /// The progress, the result, or why it is returned or passed on.
    note: String,
    /// PASS_ON only: the district department that takes it.
    department_id: Option<ID>,
}

type EscalationConnection = async_graphql::connection::Connection<String, Escalation>;

#[derive(Default)]
pub struct EscalationQuery;

#[Object]
impl EscalationQuery {
    /// The departments an order of this street can be escalated to: the street's own and its
    /// district's, by name.
    #[graphql(complexity = "50 * child_complexity")]
    async fn departments(&self, ctx: &Context<'_>, street_id: ID) -> Result<Vec<Department>> {
        actor(ctx).await?;
        let street_id = parse_id("streetId", &street_id)?;
        let found = departments::reachable_from(&state(ctx)?.db, street_id).await?;
        Ok(found.into_iter().map(Department).collect())
    }

    /// A department's staff (or its street's staff) see the department's escalations; STREET_STAFF
    /// their street's, ADMIN a district's, STAFF their community's. Newest first.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn escalations(
        &self,
        ctx: &Context<'_>,
        scope: EscalationScope,
        status: Option<EscalationStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<EscalationConnection> {
        let actor = actor(ctx).await?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let page = escalations::list(
            &state(ctx)?.db,
            actor,
            scope.try_into()?,
            status.map(Into::into),
            request,
        )
        .await?;
        Ok(connection(page, request, |hop| hop.id, Escalation))
    }

    async fn escalation(&self, ctx: &Context<'_>, id: ID) -> Result<Escalation> {
        let actor = actor(ctx).await?;
        let db = &state(ctx)?.db;
        let hop = escalations::get(db, parse_id("id", &id)?).await?;
        if !escalations::may_see(db, actor, &hop).await? {
            return Err(AppError::forbidden("you may not see this escalation").into());
        }
        Ok(Escalation(hop))
    }
}

#[derive(Default)]
pub struct EscalationMutation;

#[Object]
impl EscalationMutation {
    /// ADMIN: a department of a street or of a district.
    async fn create_department(
        &self,
        ctx: &Context<'_>,
        name: String,
        seat: DepartmentSeat,
    ) -> Result<Department> {
        let actor = actor(ctx).await?;
        let seat = match seat {
            DepartmentSeat::StreetId(id) => Seat::Street(parse_id("streetId", &id)?),
            DepartmentSeat::DistrictId(id) => Seat::District(parse_id("districtId", &id)?),
        };
        let created = departments::create(&state(ctx)?.db, actor, seat, &name).await?;
        Ok(Department(created))
    }

    /// STAFF of the order's community send an order they cannot solve, not yet completed, to
    /// a department of their street or district (吹哨) → ESCALATED. Its deadline becomes that
    /// level's (3 days at street, 7 at district; urgent halves).
    async fn escalate_order(
        &self,
        ctx: &Context<'_>,
        input: EscalateOrderInput,
    ) -> Result<Escalation> {
        let actor = actor(ctx).await?;
        let escalate = Escalate {
            order_id: parse_id("orderId", &input.order_id)?,
            to: input.to.into(),
            department_id: parse_id("departmentId", &input.department_id)?,
            reason: input.reason,
        };
        let state = state(ctx)?;
        let hop = escalations::escalate(&state.db, &state.content, actor, escalate).await?;
        Ok(Escalation(settle(ctx, hop).await?))
    }

    /// The department the order is with (its DEPARTMENT_STAFF, or at street level the
    /// street's STREET_STAFF) answers (报到): accept, progress, resolve, return, or pass on.
    async fn respond_to_escalation(
        &self,
        ctx: &Context<'_>,
        input: RespondToEscalationInput,
    ) -> Result<Escalation> {
        let actor = actor(ctx).await?;
        let answer = Answer {
            escalation_id: parse_id("escalationId", &input.escalation_id)?,
            response: input.action.into(),
            note: input.note,
            pass_to: input
                .department_id
                .map(|id| parse_id("departmentId", &id))
                .transpose()?,
        };
        let state = state(ctx)?;
        let hop = escalations::respond(&state.db, &state.content, actor, answer).await?;
        Ok(Escalation(settle(ctx, hop).await?))
    }
}

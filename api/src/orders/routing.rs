//! Auto-routing: when STAFF enable it for a category, a new order of that category is
//! dispatched at once to the community's approved Party members with a skill, in turn
//! (round-robin by member), instead of waiting in the dispatch queue. The dispatch is an
//! ordinary DISPATCH step, in the placing transaction, on behalf of the STAFF member who set
//! the rule; the member can decline it as usual.
use chrono::Utc;
use entity::{
    auto_route, community,
    enums::{OrderStatus, Role},
    order, role_grant, user,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QueryResult, QuerySelect,
    sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement},
};
use std::sync::Arc;
use uuid::Uuid;

use super::{
    categories,
    workflow::{self, Relation, Step},
};
use crate::{
    error::{AppError, AppResult},
    identity::Actor,
    infra::{
        db::{begin_write, select_prefixed},
        memo::Memo,
    },
    organisation, validate,
    values::Skills,
};

fn staff_only(actor: &Actor, community_id: Uuid) -> AppResult<()> {
    if actor.roles.is_staff_of(community_id) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only STAFF of the community may see or change its auto-routing",
        ))
    }
}

/// The community's rules, by category.
pub async fn rules(
    db: &DatabaseConnection,
    actor: &Actor,
    community_id: Uuid,
) -> AppResult<Vec<auto_route::Model>> {
    staff_only(actor, community_id)?;
    Ok(auto_route::Entity::find()
        .filter(auto_route::Column::CommunityId.eq(community_id))
        .order_by_asc(auto_route::Column::Id)
        .all(db)
        .await?)
}

/// Routes the community's new orders of `category_id` to members with `skill`, or (`None`)
/// back to STAFF's dispatch queue.
pub async fn set(
    db: &DatabaseConnection,
    catalog: &categories::Catalog,
    actor: &Actor,
    community_id: Uuid,
    category_id: Uuid,
    skill: Option<&str>,
) -> AppResult<Vec<auto_route::Model>> {
    staff_only(actor, community_id)?;
    catalog.get_or_load(db, category_id).await?;
    let skill = skill
        .map(|skill| validate::text("skill", skill, 1, 20))
        .transpose()?;
    let txn = begin_write(db).await?;
    auto_route::Entity::delete_many()
        .filter(auto_route::Column::CommunityId.eq(community_id))
        .filter(auto_route::Column::CategoryId.eq(category_id))
        .exec(&txn)
        .await?;
    if let Some(skill) = skill {
        auto_route::ActiveModel {
            id: Set(Uuid::now_v7()),
            community_id: Set(community_id),
            category_id: Set(category_id),
            skill: Set(skill),
            enabled_by: Set(actor.id),
            last_assignee_id: Set(None),
            created_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    rules(db, actor, community_id).await
}

/// The member after `last` in id order, wrapping round; `None` when there is nobody.
pub fn next_in_turn(members: &[Uuid], last: Option<Uuid>) -> Option<Uuid> {
    last.and_then(|last| members.iter().find(|member| **member > last))
        .or(members.first())
        .copied()
}

/// Where a new order goes: its open community, and whether a rule routes its category there,
/// read in the statement that finds the community, so that the placing transaction looks the
/// rule up only when there is one. A rule enabled in between applies from the next order on.
#[derive(Clone)]
pub(super) struct Destination {
    pub community: community::Model,
    pub routed: bool,
}

/// Adds the community's columns (as `c_<column>`) and whether a rule routes `category_id`
/// there (`routed`) to a query that joins `communities`.
fn select_destination(query: &mut SelectStatement, category_id: Uuid) {
    select_prefixed(query, community::Entity, "c_");
    query.expr_as(Expr::exists(rule_for(category_id)), Alias::new("routed"));
}

/// A rule routing `category_id` to the community of the enclosing query.
fn rule_for(category_id: Uuid) -> SelectStatement {
    Query::select()
        .expr(Expr::val(1))
        .from(auto_route::Entity)
        .and_where(
            Expr::col((auto_route::Entity, auto_route::Column::CommunityId))
                .equals((community::Entity, community::Column::Id)),
        )
        .and_where(Expr::col((auto_route::Entity, auto_route::Column::CategoryId)).eq(category_id))
        .to_owned()
}

fn destination(row: &QueryResult) -> AppResult<Option<Destination>> {
    let Some(community) = community::Model::from_query_result_optional(row, "c_")? else {
        return Ok(None);
    };
    organisation::ensure_open(&community)?;
    Ok(Some(Destination {
        community,
        routed: row.try_get("", "routed")?,
    }))
}

/// The destination of a new order of `category_id` in the community `community_id`.
pub(super) async fn community_for(
    db: &impl ConnectionTrait,
    community_id: Uuid,
    category_id: Uuid,
) -> AppResult<Destination> {
    let mut query = Query::select();
    select_destination(&mut query, category_id);
    query
        .from(community::Entity)
        .and_where(Expr::col((community::Entity, community::Column::Id)).eq(community_id));
    let row = db
        .query_one_raw(db.get_database_backend().build(&query))
        .await?
        .ok_or(AppError::NotFound("community"))?;
    destination(&row)?.ok_or(AppError::NotFound("community"))
}

/// What a resident's new order of a category is built from: their own row, and the
/// destination in their own community (`None` when they have not set one).
pub(super) struct Placing {
    pub requester: user::Model,
    pub destination: Option<Destination>,
}

/// Most (resident, category) pairs an instance remembers.
const REMEMBERED_PLACINGS: usize = 10_000;

/// The `Placing` of each resident's last order of each category, kept by this instance so that
/// the next one is filed without reading it first. The statement that files such an order
/// holds it to `still_current`: when the resident's row, their community or its routing
/// changed since, that statement writes nothing and the order is filed from a fresh read. So a
/// stale entry costs one statement, never a wrong order, and each instance may keep its own.
#[derive(Clone)]
pub struct Placings(Arc<Memo<(Uuid, Uuid), Arc<Placing>>>);

impl Default for Placings {
    fn default() -> Self {
        Self(Arc::new(Memo::new(REMEMBERED_PLACINGS)))
    }
}

impl Placings {
    pub(super) fn remembered(&self, user_id: Uuid, category_id: Uuid) -> Option<Arc<Placing>> {
        self.0.get(&(user_id, category_id))
    }

    /// Reads the `Placing` afresh and remembers it.
    pub(super) async fn read(
        &self,
        db: &impl ConnectionTrait,
        user_id: Uuid,
        category_id: Uuid,
    ) -> AppResult<Arc<Placing>> {
        let (requester, destination) = requester_with_destination(db, user_id, category_id).await?;
        let placing = Arc::new(Placing {
            requester,
            destination,
        });
        self.0.put((user_id, category_id), Arc::clone(&placing));
        Ok(placing)
    }
}

/// The condition under which an order built from `placing` may be filed without reading it
/// again: the requester's community, grid and phone, and that community's response time, are
/// what the order took; the community is open; no rule routes `category_id` there. `None`
/// when the order must go through the transaction anyway (it is routed).
pub(super) fn still_current(placing: &Placing, category_id: Uuid) -> Option<Expr> {
    let destination = placing.destination.as_ref().filter(|d| !d.routed)?;
    let (requester, community) = (&placing.requester, &destination.community);
    let same = |column: Expr, value: Option<sea_orm::Value>| match value {
        Some(value) => column.eq(value),
        None => column.is_null(),
    };
    let user_column = |column: user::Column| Expr::col((user::Entity, column));
    let community_column = |column: community::Column| Expr::col((community::Entity, column));
    let held = Query::select()
        .expr(Expr::val(1))
        .from(user::Entity)
        .inner_join(
            community::Entity,
            community_column(community::Column::Id)
                .equals((user::Entity, user::Column::CommunityId)),
        )
        .and_where(user_column(user::Column::Id).eq(requester.id))
        .and_where(community_column(community::Column::Id).eq(community.id))
        .and_where(same(
            user_column(user::Column::GridId),
            requester.grid_id.map(Into::into),
        ))
        .and_where(same(
            user_column(user::Column::Phone),
            requester.phone.clone().map(Into::into),
        ))
        .and_where(community_column(community::Column::ArchivedAt).is_null())
        .and_where(same(
            community_column(community::Column::ResponseMinutes),
            community.response_minutes.map(Into::into),
        ))
        .and_where(Expr::not_exists(rule_for(category_id)))
        .to_owned();
    Some(Expr::exists(held))
}

/// A requester and the destination of their new order of `category_id` in their own community
/// (`None` when they have not set one), in one statement.
async fn requester_with_destination(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    category_id: Uuid,
) -> AppResult<(user::Model, Option<Destination>)> {
    let mut query = Query::select();
    select_prefixed(&mut query, user::Entity, "u_");
    select_destination(&mut query, category_id);
    query
        .from(user::Entity)
        .left_join(
            community::Entity,
            Expr::col((community::Entity, community::Column::Id))
                .equals((user::Entity, user::Column::CommunityId)),
        )
        .and_where(Expr::col((user::Entity, user::Column::Id)).eq(user_id));
    let row = db
        .query_one_raw(db.get_database_backend().build(&query))
        .await?
        .ok_or(AppError::NotFound("user"))?;
    Ok((
        user::Model::from_query_result(&row, "u_")?,
        destination(&row)?,
    ))
}

/// Whom a just-placed order goes to under its community's rule, and who set the rule;
/// `None` when no rule applies or no member has the skill. Moves the rule's turn on.
pub(super) async fn route(
    txn: &impl ConnectionTrait,
    order: &order::Model,
) -> AppResult<Option<(Uuid, Uuid)>> {
    let Some(rule) = auto_route::Entity::find()
        .filter(auto_route::Column::CommunityId.eq(order.community_id))
        .filter(auto_route::Column::CategoryId.eq(order.category_id))
        .one(txn)
        .await?
    else {
        return Ok(None);
    };
    let members = Query::select()
        .column(role_grant::Column::UserId)
        .from(role_grant::Entity)
        .and_where(role_grant::Column::Role.eq(Role::PartyMember))
        .and_where(role_grant::Column::CommunityId.eq(order.community_id))
        .to_owned();
    let skilled: Vec<Uuid> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Id.in_subquery(members))
        .filter(user::Column::Skills.like(Skills::pattern(&rule.skill)))
        // Nobody is sent their own order.
        .filter(user::Column::Id.ne(order.requester_id))
        .order_by_asc(user::Column::Id)
        .into_tuple()
        .all(txn)
        .await?;
    let Some(assignee) = next_in_turn(&skilled, rule.last_assignee_id) else {
        return Ok(None);
    };
    let enabled_by = rule.enabled_by;
    let mut turn: auto_route::ActiveModel = rule.into();
    turn.last_assignee_id = Set(Some(assignee));
    turn.update(txn).await?;
    Ok(Some((assignee, enabled_by)))
}

/// The order's columns once dispatched to `assignee` by a rule, through the state machine
/// like any dispatch.
pub(super) fn dispatched(order: &order::Model, assignee: Uuid) -> AppResult<order::ActiveModel> {
    let staff = Relation {
        staff: true,
        ..Relation::default()
    };
    let to = workflow::next_status(OrderStatus::PendingDispatch, Step::Dispatch, staff)
        .map_err(|_| AppError::conflict("the order cannot be dispatched"))?;
    Ok(order::ActiveModel {
        id: Set(order.id),
        status: Set(to),
        assignee_id: Set(Some(assignee)),
        version: Set(order.version + 1),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_take_turns_in_id_order_and_the_turn_wraps_round() {
        let mut members: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        members.sort();
        assert_eq!(next_in_turn(&members, None), Some(members[0]));
        assert_eq!(next_in_turn(&members, Some(members[0])), Some(members[1]));
        assert_eq!(next_in_turn(&members, Some(members[2])), Some(members[0]));
        // The last one left the skill: the turn goes on from where it was.
        let gone = Uuid::now_v7();
        assert_eq!(next_in_turn(&members, Some(gone)), Some(members[0]));
        assert_eq!(next_in_turn(&[], None), None);
    }
}

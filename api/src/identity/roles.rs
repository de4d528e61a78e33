//! Roles and what they allow: who holds which role where, the cached copy every request
//! reads, and granting and revoking. Every grant or revocation goes through `insert_grant` or
//! `delete_grant`, which record `RolesChanged`, so no role change can leave roles cached.
use std::time::Duration;

use chrono::Utc;
use entity::{enums::Role, role_grant, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::users::{find_or_create_user, get_user};
use crate::{
    error::{AppError, AppResult, causes},
    infra::{db::begin_write, shared_store::SharedStore},
    notify::{Committed, DomainEvent, Events},
    organisation,
};

/// The roles a user holds; RESIDENT is implicit for everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roles(Vec<(Role, Option<Uuid>)>);

impl Roles {
    fn has(&self, role: Role, community: Option<Uuid>) -> bool {
        self.0.iter().any(|(r, c)| *r == role && *c == community)
    }

    /// Holds `role` in some community (or everywhere).
    pub fn has_role(&self, role: Role) -> bool {
        self.0.iter().any(|(r, _)| *r == role)
    }

    /// A district-wide administrator.
    pub fn is_admin(&self) -> bool {
        self.has(Role::Admin, None)
    }

    /// Community staff (or an administrator, who may act as staff anywhere).
    pub fn is_staff_of(&self, community: Uuid) -> bool {
        self.is_admin()
            || self.has(Role::Staff, Some(community))
            || self.has(Role::Admin, Some(community))
    }

    /// Acts for a street (or an administrator).
    pub fn is_street_staff_of(&self, street: Uuid) -> bool {
        self.is_admin() || self.has(Role::StreetStaff, Some(street))
    }

    /// Works in a department (or an administrator).
    pub fn is_department_staff_of(&self, department: Uuid) -> bool {
        self.is_admin() || self.has(Role::DepartmentStaff, Some(department))
    }

    /// Works at a desk somewhere: community or grid, street, department, or district.
    pub fn works_at_a_desk(&self) -> bool {
        self.0.iter().any(|(role, _)| {
            matches!(
                role,
                Role::Staff
                    | Role::Admin
                    | Role::GridWorker
                    | Role::StreetStaff
                    | Role::DepartmentStaff
            )
        })
    }

    pub fn is_staff_anywhere(&self) -> bool {
        self.0
            .iter()
            .any(|(role, _)| matches!(role, Role::Staff | Role::Admin))
    }

    /// An approved Party member reporting to this community.
    /// Works for a merchant of this community (owner or cashier), as the community approved.
    pub fn is_merchant_in(&self, community: Uuid) -> bool {
        self.has(Role::Merchant, Some(community))
    }

    pub fn is_grid_worker_in(&self, community: Uuid) -> bool {
        self.has(Role::GridWorker, Some(community))
    }

    pub fn is_member_of(&self, community: Uuid) -> bool {
        self.has(Role::PartyMember, Some(community))
    }

    pub fn member_communities(&self) -> Vec<Uuid> {
        self.0
            .iter()
            .filter(|(role, _)| *role == Role::PartyMember)
            .filter_map(|(_, community)| *community)
            .collect()
    }

    pub fn grants(&self) -> &[(Role, Option<Uuid>)] {
        &self.0
    }

    /// The grants of user `holder` that `viewer` may see: all of them for the holder and
    /// ADMIN, those in communities they staff for STAFF, none for anyone else.
    pub fn visible_to<'r>(
        &'r self,
        viewer: &'r Actor,
        holder: Uuid,
    ) -> impl Iterator<Item = &'r (Role, Option<Uuid>)> + 'r {
        let all = viewer.id == holder || viewer.roles.is_admin();
        self.0.iter().filter(move |(_, community)| {
            all || community.is_some_and(|c| viewer.roles.is_staff_of(c))
        })
    }
}

/// An authenticated user together with their roles, loaded once per request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Uuid,
    pub roles: Roles,
}

pub async fn roles_of(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<Roles> {
    let grants = role_grant::Entity::find()
        .filter(role_grant::Column::UserId.eq(user_id))
        .order_by_asc(role_grant::Column::Id)
        .all(db)
        .await?;
    Ok(Roles(
        grants
            .into_iter()
            .map(|grant| {
                let scope = grant
                    .community_id
                    .or(grant.street_id)
                    .or(grant.department_id);
                (grant.role, scope)
            })
            .collect(),
    ))
}

/// Accounts are never deleted, so a valid token's user exists: only the roles are read.
pub async fn load_actor(db: &DatabaseConnection, user_id: Uuid) -> AppResult<Actor> {
    Ok(Actor {
        id: user_id,
        roles: roles_of(db, user_id).await?,
    })
}

/// A cached entry is trusted this long at most; a role change ends it at once anyway.
const CACHED_ROLES_TTL: Duration = Duration::from_secs(60);

/// Roles are read on every request, so they are cached in the shared store. An entry holds the
/// version of the roles namespace it was read at; every role-changing mutation bumps that
/// version (`RolesChanged`, see `events`), so a revoked role takes effect on the next request,
/// on every instance. The version is read before the database, so an entry read while a change
/// commits is stored under the old version and never trusted.
#[derive(Debug, Clone)]
pub enum KnownRoles {
    Cached(Roles),
    /// Not cached at this version of the roles namespace.
    Missing {
        version: u64,
    },
    /// The shared store could not be asked.
    Unknown,
}

pub fn cached_roles_key(user_id: Uuid) -> String {
    format!("roles:{user_id}")
}

impl KnownRoles {
    /// From the current namespace version and the user's entry ("version:json").
    pub fn from_cache(version: Option<&str>, entry: Option<&str>) -> Self {
        let version = version.and_then(|v| v.parse().ok()).unwrap_or(0);
        entry
            .and_then(|entry| entry.split_once(':'))
            .filter(|(at, _)| at.parse() == Ok(version))
            .and_then(|(_, roles)| serde_json::from_str(roles).ok())
            .map_or(Self::Missing { version }, Self::Cached)
    }
}

/// The caller with their roles, from the cache when it had them.
pub async fn actor_of(
    db: &DatabaseConnection,
    store: &SharedStore,
    user_id: Uuid,
    known: &KnownRoles,
) -> AppResult<Actor> {
    let version = match known {
        KnownRoles::Cached(roles) => {
            return Ok(Actor {
                id: user_id,
                roles: roles.clone(),
            });
        }
        KnownRoles::Missing { version } => Some(*version),
        KnownRoles::Unknown => None,
    };
    let actor = load_actor(db, user_id).await?;
    if let Some(version) = version
        && let Ok(roles) = serde_json::to_string(&actor.roles)
        && let Err(error) = store
            .set_text(
                &cached_roles_key(user_id),
                &format!("{version}:{roles}"),
                CACHED_ROLES_TTL,
            )
            .await
    {
        tracing::warn!(error = %causes(error.as_ref()), "shared store unavailable; roles not cached");
    }
    Ok(actor)
}

/// Where a grant is held, as the API names it: the one id its role is scoped by.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrantScope {
    pub community: Option<Uuid>,
    pub street: Option<Uuid>,
    pub department: Option<Uuid>,
}

/// What a role's scope id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScopeKind {
    Community,
    Street,
    Department,
}

fn scope_kind(role: Role) -> ScopeKind {
    match role {
        Role::StreetStaff => ScopeKind::Street,
        Role::DepartmentStaff => ScopeKind::Department,
        _ => ScopeKind::Community,
    }
}

impl GrantScope {
    /// A grant's scope id, named by what it is.
    pub fn of(role: Role, scope: Option<Uuid>) -> Self {
        let at = |kind| scope.filter(|_| scope_kind(role) == kind);
        Self {
            community: at(ScopeKind::Community),
            street: at(ScopeKind::Street),
            department: at(ScopeKind::Department),
        }
    }

    /// The scope id for `role`: a street for STREET_STAFF, a department for DEPARTMENT_STAFF,
    /// a community for the others (none for a district-wide ADMIN).
    pub fn for_role(self, role: Role) -> AppResult<Option<Uuid>> {
        let (wanted, name, others) = match scope_kind(role) {
            ScopeKind::Community => (
                self.community,
                "communityId",
                self.street.or(self.department),
            ),
            ScopeKind::Street => (self.street, "streetId", self.community.or(self.department)),
            ScopeKind::Department => (
                self.department,
                "departmentId",
                self.community.or(self.street),
            ),
        };
        if others.is_some() {
            return Err(AppError::bad_input(format!(
                "this role is held in a place named by {name} only"
            )));
        }
        // Everyone is a RESIDENT; granted in a community, it records that its STAFF
        // confirmed the person lives there.
        if wanted.is_none() && role != Role::Admin {
            return Err(AppError::bad_input(format!(
                "{name} is required for this role"
            )));
        }
        Ok(wanted)
    }
}

fn scope_is_valid(role: Role, scope: Option<Uuid>) -> AppResult<()> {
    if scope.is_none() && role != Role::Admin {
        return Err(AppError::bad_input(
            "this role is held in a community, street or department",
        ));
    }
    Ok(())
}

/// The place a scope id names exists.
async fn scope_exists(db: &impl ConnectionTrait, role: Role, scope: Option<Uuid>) -> AppResult<()> {
    let Some(id) = scope else { return Ok(()) };
    match scope_kind(role) {
        ScopeKind::Community => organisation::get_community(db, id).await.map(drop),
        ScopeKind::Street => organisation::get_street(db, id).await.map(drop),
        ScopeKind::Department => organisation::departments::get(db, id).await.map(drop),
    }
}

fn scope_column(role: Role) -> role_grant::Column {
    match scope_kind(role) {
        ScopeKind::Community => role_grant::Column::CommunityId,
        ScopeKind::Street => role_grant::Column::StreetId,
        ScopeKind::Department => role_grant::Column::DepartmentId,
    }
}

/// ADMIN may grant anything; STAFF may grant community roles in their own community.
fn may_manage_role(actor: &Actor, role: Role, community: Option<Uuid>) -> bool {
    actor.roles.is_admin()
        || (role != Role::Admin && community.is_some_and(|c| actor.roles.is_staff_of(c)))
}

/// The checks shared by granting and revoking: a valid scope, and a caller allowed to manage it.
fn authorize_role_change(actor: &Actor, role: Role, community: Option<Uuid>) -> AppResult<()> {
    scope_is_valid(role, community)?;
    if may_manage_role(actor, role, community) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only ADMIN, or STAFF of that community, may grant or revoke this role",
        ))
    }
}

/// Records a grant unless the user already holds it.
pub async fn insert_grant(
    db: &impl ConnectionTrait,
    events: &mut Events,
    user_id: Uuid,
    role: Role,
    community: Option<Uuid>,
    granted_by: Option<Uuid>,
) -> AppResult<()> {
    if roles_of(db, user_id).await?.has(role, community) {
        return Ok(());
    }
    let kind = scope_kind(role);
    let at = |wanted: ScopeKind| Set(community.filter(|_| kind == wanted));
    role_grant::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        role: Set(role),
        community_id: at(ScopeKind::Community),
        street_id: at(ScopeKind::Street),
        department_id: at(ScopeKind::Department),
        granted_by: Set(granted_by),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    events.push(DomainEvent::RolesChanged { user_id });
    Ok(())
}

pub async fn delete_grant(
    db: &impl ConnectionTrait,
    events: &mut Events,
    user_id: Uuid,
    role: Role,
    community: Option<Uuid>,
) -> AppResult<()> {
    let scope = match community {
        Some(community) => scope_column(role).eq(community),
        None => role_grant::Column::CommunityId.is_null(),
    };
    let deleted = role_grant::Entity::delete_many()
        .filter(role_grant::Column::UserId.eq(user_id))
        .filter(role_grant::Column::Role.eq(role))
        .filter(scope)
        .exec(db)
        .await?;
    if deleted.rows_affected > 0 {
        events.push(DomainEvent::RolesChanged { user_id });
    }
    Ok(())
}

pub async fn grant_role(
    db: &DatabaseConnection,
    actor: &Actor,
    user_id: Uuid,
    role: Role,
    community: Option<Uuid>,
) -> AppResult<Committed<user::Model>> {
    authorize_role_change(actor, role, community)?;
    scope_exists(db, role, community).await?;
    let user = get_user(db, user_id).await?;
    let mut events = Events::default();
    let txn = begin_write(db).await?;
    insert_grant(&txn, &mut events, user_id, role, community, Some(actor.id)).await?;
    txn.commit().await?;
    Ok(events.committed(user))
}

pub async fn revoke_role(
    db: &DatabaseConnection,
    actor: &Actor,
    user_id: Uuid,
    role: Role,
    community: Option<Uuid>,
) -> AppResult<Committed<user::Model>> {
    authorize_role_change(actor, role, community)?;
    let user = get_user(db, user_id).await?;
    let mut events = Events::default();
    delete_grant(db, &mut events, user_id, role, community).await?;
    Ok(events.committed(user))
}

/// Bootstrap for the first administrator (CLI `grant-role`): no actor to check.
pub async fn grant_role_by_openid(
    db: &DatabaseConnection,
    openid: &str,
    role: Role,
    community: Option<Uuid>,
) -> AppResult<Committed<user::Model>> {
    scope_is_valid(role, community)?;
    scope_exists(db, role, community).await?;
    let mut events = Events::default();
    let txn = begin_write(db).await?;
    let user = find_or_create_user(&txn, openid).await?;
    insert_grant(&txn, &mut events, user.id, role, community, None).await?;
    txn.commit().await?;
    Ok(events.committed(user))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(grants: Vec<(Role, Option<Uuid>)>) -> Actor {
        Actor {
            id: Uuid::now_v7(),
            roles: Roles(grants),
        }
    }

    #[test]
    fn cached_roles_are_trusted_only_at_the_current_version() {
        let community = Uuid::now_v7();
        let roles = Roles(vec![(Role::PartyMember, Some(community))]);
        let entry = format!("3:{}", serde_json::to_string(&roles).expect("json"));
        assert!(matches!(
            KnownRoles::from_cache(Some("3"), Some(&entry)),
            KnownRoles::Cached(cached) if cached.is_member_of(community)
        ));
        assert!(matches!(
            KnownRoles::from_cache(Some("4"), Some(&entry)),
            KnownRoles::Missing { version: 4 }
        ));
        assert!(matches!(
            KnownRoles::from_cache(None, None),
            KnownRoles::Missing { version: 0 }
        ));
        assert!(matches!(
            KnownRoles::from_cache(Some("0"), Some("0:not json")),
            KnownRoles::Missing { version: 0 }
        ));
    }

    #[test]
    fn staff_manage_community_roles_only_in_their_community() {
        let here = Uuid::now_v7();
        let there = Uuid::now_v7();
        let staff = actor(vec![(Role::Staff, Some(here))]);
        assert!(may_manage_role(&staff, Role::PartyMember, Some(here)));
        assert!(!may_manage_role(&staff, Role::PartyMember, Some(there)));
        assert!(!may_manage_role(&staff, Role::Admin, Some(here)));
        assert!(!may_manage_role(&staff, Role::Admin, None));
    }

    #[test]
    fn admins_act_as_staff_everywhere() {
        let admin = actor(vec![(Role::Admin, None)]);
        assert!(admin.roles.is_staff_of(Uuid::now_v7()));
        assert!(may_manage_role(&admin, Role::Admin, None));
        assert!(!admin.roles.is_member_of(Uuid::now_v7()));
    }

    #[test]
    fn each_role_is_held_where_its_kind_of_scope_names() {
        let place = Some(Uuid::now_v7());
        let community = GrantScope {
            community: place,
            ..GrantScope::default()
        };
        let street = GrantScope {
            street: place,
            ..GrantScope::default()
        };
        assert_eq!(community.for_role(Role::Staff).ok(), Some(place));
        assert_eq!(street.for_role(Role::StreetStaff).ok(), Some(place));
        assert!(street.for_role(Role::Staff).is_err());
        assert!(community.for_role(Role::StreetStaff).is_err());
        assert!(community.for_role(Role::DepartmentStaff).is_err());
        assert!(GrantScope::default().for_role(Role::Resident).is_err());
        assert_eq!(GrantScope::default().for_role(Role::Admin).ok(), Some(None));
    }

    #[test]
    fn street_and_department_roles_act_only_where_granted() {
        let street = Uuid::now_v7();
        let department = Uuid::now_v7();
        let officer = actor(vec![
            (Role::StreetStaff, Some(street)),
            (Role::DepartmentStaff, Some(department)),
        ]);
        assert!(officer.roles.is_street_staff_of(street));
        assert!(!officer.roles.is_street_staff_of(department));
        assert!(officer.roles.is_department_staff_of(department));
        assert!(!officer.roles.is_staff_of(street));
        let admin = actor(vec![(Role::Admin, None)]);
        assert!(admin.roles.is_department_staff_of(department));
    }
}

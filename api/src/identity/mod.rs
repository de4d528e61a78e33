//! Who people are and what they may do: users, roles, login sessions and Party-member
//! registration (在职党员到社区报到).
pub mod sessions;
pub mod tokens;
pub mod wechat;

use chrono::Utc;
use entity::{
    enums::{ApplicationStatus, Role},
    party_member_application, role_grant, user,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, sea_query::OnConflict,
};
use uuid::Uuid;

use crate::{
    cache::{self, Namespace},
    db::begin_write,
    error::{AppError, AppResult},
    organisation,
    shared_store::SharedStore,
    validate,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The roles a user holds; RESIDENT is implicit for everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roles(Vec<(Role, Option<Uuid>)>);

impl Roles {
    fn has(&self, role: Role, community: Option<Uuid>) -> bool {
        self.0.iter().any(|(r, c)| *r == role && *c == community)
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
            .map(|grant| (grant.role, grant.community_id))
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
/// version (see `graphql::invalidation`), so a revoked role takes effect on the next request,
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
        tracing::warn!(%error, "shared store unavailable; roles not cached");
    }
    Ok(actor)
}

pub async fn get_user(db: &impl ConnectionTrait, id: Uuid) -> AppResult<user::Model> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("user"))
}

/// Finds the user with this openid, creating a bare account on first login.
pub async fn find_or_create_user(
    db: &impl ConnectionTrait,
    openid: &str,
) -> AppResult<user::Model> {
    let now = Utc::now();
    // ON CONFLICT DO NOTHING: two first logins racing each other both end with one account.
    user::Entity::insert(user::ActiveModel {
        id: Set(Uuid::now_v7()),
        openid: Set(openid.to_owned()),
        name: Set(None),
        phone: Set(None),
        community_id: Set(None),
        address: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        show_on_leaderboard: Set(true),
    })
    .on_conflict(
        OnConflict::column(user::Column::Openid)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    user::Entity::find()
        .filter(user::Column::Openid.eq(openid))
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("user vanished after insert")))
}

/// The name shown on leaderboards and public notices: masked (张**) when the user opted out.
pub fn public_name(user: &user::Model) -> String {
    let name = user.name.as_deref().unwrap_or("志愿者");
    if user.show_on_leaderboard {
        name.to_owned()
    } else {
        let first: String = name.chars().take(1).collect();
        format!("{first}**")
    }
}

pub struct ProfileInput {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub community_id: Option<Uuid>,
    pub address: Option<String>,
    pub show_on_leaderboard: Option<bool>,
}

/// Absent fields are left as they are.
pub async fn update_profile(
    db: &DatabaseConnection,
    actor: &Actor,
    input: ProfileInput,
) -> AppResult<user::Model> {
    let mut changes = user::ActiveModel {
        id: sea_orm::ActiveValue::Unchanged(actor.id),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    if let Some(name) = input.name {
        changes.name = Set(Some(validate::text("name", &name, 1, 50)?));
    }
    if let Some(phone) = input.phone {
        changes.phone = Set(Some(validate::phone("phone", &phone)?));
    }
    if let Some(address) = input.address {
        changes.address = Set(Some(validate::text("address", &address, 1, 200)?));
    }
    if let Some(show) = input.show_on_leaderboard {
        changes.show_on_leaderboard = Set(show);
    }
    if let Some(community_id) = input.community_id {
        organisation::get_community(db, community_id).await?;
        changes.community_id = Set(Some(community_id));
    }
    Ok(changes.update(db).await?)
}

fn scope_is_valid(role: Role, community: Option<Uuid>) -> AppResult<()> {
    match (role, community) {
        // Everyone is a RESIDENT; granted in a community, it records that its STAFF
        // confirmed the person lives there.
        (Role::Resident | Role::PartyMember | Role::Staff | Role::Merchant, None) => {
            Err(AppError::bad_input("communityId is required for this role"))
        }
        _ => Ok(()),
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
    user_id: Uuid,
    role: Role,
    community: Option<Uuid>,
    granted_by: Option<Uuid>,
) -> AppResult<()> {
    if roles_of(db, user_id).await?.has(role, community) {
        return Ok(());
    }
    role_grant::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        role: Set(role),
        community_id: Set(community),
        granted_by: Set(granted_by),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn grant_role(
    db: &DatabaseConnection,
    actor: &Actor,
    user_id: Uuid,
    role: Role,
    community: Option<Uuid>,
) -> AppResult<user::Model> {
    authorize_role_change(actor, role, community)?;
    if let Some(community) = community {
        organisation::get_community(db, community).await?;
    }
    let user = get_user(db, user_id).await?;
    let txn = begin_write(db).await?;
    insert_grant(&txn, user_id, role, community, Some(actor.id)).await?;
    txn.commit().await?;
    Ok(user)
}

pub async fn revoke_role(
    db: &DatabaseConnection,
    actor: &Actor,
    user_id: Uuid,
    role: Role,
    community: Option<Uuid>,
) -> AppResult<user::Model> {
    authorize_role_change(actor, role, community)?;
    let user = get_user(db, user_id).await?;
    delete_grant(db, user_id, role, community).await?;
    Ok(user)
}

pub async fn delete_grant(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    role: Role,
    community: Option<Uuid>,
) -> AppResult<()> {
    let scope = match community {
        Some(community) => role_grant::Column::CommunityId.eq(community),
        None => role_grant::Column::CommunityId.is_null(),
    };
    role_grant::Entity::delete_many()
        .filter(role_grant::Column::UserId.eq(user_id))
        .filter(role_grant::Column::Role.eq(role))
        .filter(scope)
        .exec(db)
        .await?;
    Ok(())
}

/// Bootstrap for the first administrator (CLI `grant-role`): no actor to check.
pub async fn grant_role_by_openid(
    db: &DatabaseConnection,
    store: &SharedStore,
    openid: &str,
    role: Role,
    community: Option<Uuid>,
) -> AppResult<user::Model> {
    scope_is_valid(role, community)?;
    if let Some(community) = community {
        organisation::get_community(db, community).await?;
    }
    let txn = begin_write(db).await?;
    let user = find_or_create_user(&txn, openid).await?;
    insert_grant(&txn, user.id, role, community, None).await?;
    txn.commit().await?;
    cache::invalidate(store, Namespace::Roles).await;
    Ok(user)
}

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
    actor: &Actor,
    application_id: Uuid,
    approve: bool,
    note: Option<String>,
) -> AppResult<party_member_application::Model> {
    let note = validate::optional_text("note", note.as_deref(), 500)?;
    let txn = begin_write(db).await?;
    let application = party_member_application::Entity::find_by_id(application_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("registration"))?;
    if !actor.roles.is_staff_of(application.community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community may review its registrations",
        ));
    }
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
    if approve {
        insert_grant(
            &txn,
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
    txn.commit().await?;
    Ok(reviewed)
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
    fn community_roles_need_a_community() {
        assert!(scope_is_valid(Role::Staff, None).is_err());
        assert!(scope_is_valid(Role::Resident, None).is_err());
        assert!(scope_is_valid(Role::Admin, None).is_ok());
    }
}

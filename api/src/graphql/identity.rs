use async_graphql::{
    Context, Enum, ID, InputObject, Object, Result, SimpleObject, connection::Connection,
};
use chrono::{DateTime, Utc};
use entity::{enums, party_member_application, user};
use tokio::sync::OnceCell;

use super::{
    actor, caller, client_ip, connection, load_community, load_user,
    organisation::{Community, Grid},
    parse_id, settle, state, to_id,
};
use crate::{
    identity::{
        party_members::{self, PartyMemberApplicationInput},
        roles::{self, GrantScope},
        sessions::Session,
        users::{self, ProfileInput},
    },
    organisation,
    pagination::PageRequest,
    values::Skills,
};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::Role")]
pub enum Role {
    Resident,
    PartyMember,
    Staff,
    Merchant,
    Admin,
    GridWorker,
    StreetStaff,
    DepartmentStaff,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::ApplicationStatus")]
pub enum ApplicationStatus {
    Pending,
    Approved,
    Rejected,
}

/// A person as the API shows them. An order list whose requesters are read for `LISTED_FIELDS`
/// only carries their listed columns; a field reading more loads the whole row through the
/// request's loader (one query for the page's people).
pub struct User {
    listed: user::Listed,
    whole: OnceCell<user::Model>,
}

impl From<user::Model> for User {
    fn from(model: user::Model) -> Self {
        Self {
            listed: user::Listed::from(&model),
            whole: OnceCell::new_with(Some(model)),
        }
    }
}

impl From<user::Listed> for User {
    fn from(listed: user::Listed) -> Self {
        Self {
            listed,
            whole: OnceCell::new(),
        }
    }
}

/// The fields of `User` that read only `user::Listed`.
pub const LISTED_FIELDS: &[&str] = &["__typename", "id", "name"];

impl User {
    async fn whole(&self, ctx: &Context<'_>) -> Result<&user::Model> {
        self.whole
            .get_or_try_init(|| load_user(ctx, self.listed.id))
            .await
    }
}

#[Object]
impl User {
    async fn id(&self) -> ID {
        to_id(self.listed.id)
    }

    async fn name(&self) -> Option<&str> {
        self.listed.name.as_deref()
    }

    /// Masked (138****1234) unless you are this user or STAFF of their community.
    async fn phone(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let viewer = actor(ctx).await?;
        let user = self.whole(ctx).await?;
        let full = viewer.id == user.id
            || user
                .community_id
                .is_some_and(|c| viewer.roles.is_staff_of(c))
            || viewer.roles.is_admin();
        Ok(user.phone.as_deref().map(|phone| {
            if full {
                phone.to_owned()
            } else {
                crate::values::mask_phone(phone)
            }
        }))
    }

    async fn address(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        let viewer = actor(ctx).await?;
        let user = self.whole(ctx).await?;
        let visible = viewer.id == user.id
            || user
                .community_id
                .is_some_and(|c| viewer.roles.is_staff_of(c));
        Ok(user.address.as_deref().filter(|_| visible))
    }

    async fn community(&self, ctx: &Context<'_>) -> Result<Option<Community>> {
        let Some(id) = self.whole(ctx).await?.community_id else {
            return Ok(None);
        };
        Ok(Some(Community(load_community(ctx, id).await?)))
    }

    async fn grid(&self, ctx: &Context<'_>) -> Result<Option<Grid>> {
        let Some(id) = self.whole(ctx).await?.grid_id else {
            return Ok(None);
        };
        Ok(Some(Grid(
            Box::pin(organisation::get_grid(&state(ctx)?.db, id)).await?,
        )))
    }

    /// RESIDENT is implied for everyone and not listed. The user and ADMIN see every grant;
    /// STAFF see those in their communities; anyone else sees none.
    #[graphql(complexity = "10 * child_complexity")]
    async fn roles(&self, ctx: &Context<'_>) -> Result<Vec<RoleGrant>> {
        let viewer = actor(ctx).await?;
        let roles = Box::pin(roles::roles_of(&state(ctx)?.db, self.listed.id)).await?;
        Ok(roles
            .visible_to(viewer, self.listed.id)
            .map(|(role, scope)| {
                let at = GrantScope::of(*role, *scope);
                RoleGrant {
                    role: (*role).into(),
                    community_id: at.community.map(to_id),
                    street_id: at.street.map(to_id),
                    department_id: at.department.map(to_id),
                }
            })
            .collect())
    }

    async fn show_on_leaderboard(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(self.whole(ctx).await?.show_on_leaderboard)
    }

    /// My own yearly assessment (党建超市) in each community I report to as a Party member;
    /// empty on anyone else.
    #[graphql(complexity = "5 * child_complexity")]
    async fn assessment(
        &self,
        ctx: &Context<'_>,
        year: i32,
    ) -> Result<Vec<super::assessment::MyAssessment>> {
        if actor(ctx).await?.id != self.listed.id {
            return Ok(Vec::new());
        }
        Box::pin(super::assessment::mine(ctx, year)).await
    }

    /// What they can do as a volunteer.
    async fn skills(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        Ok(Skills::stored(&self.whole(ctx).await?.skills))
    }

    /// Unread messages in my inbox; null on anyone else.
    async fn unread_count(&self, ctx: &Context<'_>) -> Result<Option<u64>> {
        let viewer = actor(ctx).await?;
        if viewer.id != self.listed.id {
            return Ok(None);
        }
        Ok(Some(
            Box::pin(crate::notify::inbox::unread_count(
                &state(ctx)?.db,
                self.listed.id,
            ))
            .await?,
        ))
    }

    async fn created_at(&self, ctx: &Context<'_>) -> Result<DateTime<Utc>> {
        Ok(self.whole(ctx).await?.created_at)
    }
}

#[derive(SimpleObject)]
pub struct RoleGrant {
    role: Role,
    /// Where a community role is held; absent for district-wide grants.
    community_id: Option<ID>,
    /// Where STREET_STAFF act.
    street_id: Option<ID>,
    /// Where DEPARTMENT_STAFF work.
    department_id: Option<ID>,
}

/// The place a grant is named by: `communityId` for community roles, `streetId` for
/// STREET_STAFF, `departmentId` for DEPARTMENT_STAFF, none for a district-wide ADMIN.
fn grant_scope(
    role: Role,
    community_id: Option<ID>,
    street_id: Option<ID>,
    department_id: Option<ID>,
) -> Result<Option<uuid::Uuid>> {
    let parse = |name, id: Option<ID>| id.map(|id| parse_id(name, &id)).transpose();
    let scope = GrantScope {
        community: parse("communityId", community_id)?,
        street: parse("streetId", street_id)?,
        department: parse("departmentId", department_id)?,
    };
    Ok(scope.for_role(role.into())?)
}

#[derive(SimpleObject)]
pub struct AuthPayload {
    access_token: String,
    /// Single use: each refreshSession returns the next one.
    refresh_token: String,
    /// When the access token expires.
    expires_at: DateTime<Utc>,
    user: User,
}

impl From<Session> for AuthPayload {
    fn from(session: Session) -> Self {
        Self {
            access_token: session.access_token,
            refresh_token: session.refresh_token,
            expires_at: session.expires_at,
            user: User::from(session.user),
        }
    }
}

pub struct PartyMemberApplication(party_member_application::Model);

#[Object]
impl PartyMemberApplication {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn applicant(&self, ctx: &Context<'_>) -> Result<User> {
        Ok(User::from(load_user(ctx, self.0.user_id).await?))
    }
    async fn community(&self, ctx: &Context<'_>) -> Result<Community> {
        Ok(Community(load_community(ctx, self.0.community_id).await?))
    }
    /// The Party branch the member belongs to.
    async fn branch(&self) -> &str {
        &self.0.branch
    }
    async fn employer(&self) -> &str {
        &self.0.employer
    }
    async fn status(&self) -> ApplicationStatus {
        self.0.status.into()
    }
    async fn review_note(&self) -> Option<&str> {
        self.0.review_note.as_deref()
    }
    async fn reviewed_at(&self) -> Option<DateTime<Utc>> {
        self.0.reviewed_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(InputObject)]
pub struct UpdateProfileInput {
    name: Option<String>,
    phone: Option<String>,
    community_id: Option<ID>,
    /// Your grid (网格): one of your community's `grids`.
    grid_id: Option<ID>,
    address: Option<String>,
    /// Whether your name may appear on leaderboards and public notices (default yes).
    show_on_leaderboard: Option<bool>,
    /// What you can do as a volunteer (水电, 法律咨询, …): replaces the list; at most 10.
    #[graphql(validator(max_items = 10))]
    skills: Option<Vec<String>>,
}

/// A Party member as a dispatcher sees them.
#[derive(SimpleObject)]
pub struct CommunityMember {
    member: User,
    /// Dispatched to them awaiting an answer, or taken and not completed.
    open_tasks: i64,
    completed_last_30_days: i64,
}

#[derive(InputObject)]
pub struct ApplyPartyMemberInput {
    /// The Party branch (党支部) the member belongs to.
    branch: String,
    employer: String,
    /// The community the member reports to (报到社区).
    reported_community_id: ID,
}

#[derive(Default)]
pub struct IdentityQuery;

#[Object]
impl IdentityQuery {
    /// The logged-in user.
    async fn me(&self, ctx: &Context<'_>) -> Result<User> {
        let actor = actor(ctx).await?;
        Ok(User::from(load_user(ctx, actor.id).await?))
    }

    /// STAFF: Party-member registrations of a community, newest first.
    async fn party_member_applications(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        status: Option<ApplicationStatus>,
    ) -> Result<Vec<PartyMemberApplication>> {
        let actor = actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        let list = party_members::party_member_applications(
            &state(ctx)?.db,
            actor,
            community_id,
            status.map(Into::into),
        )
        .await?;
        Ok(list.into_iter().map(PartyMemberApplication).collect())
    }

    /// STAFF: the community's approved Party members (with `skill`, when given) and their
    /// current load, to choose whom to dispatch to.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn community_members(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        skill: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, CommunityMember>> {
        let actor = actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let page = party_members::community_members(
            &state(ctx)?.db,
            actor,
            community_id,
            skill.as_deref(),
            request,
        )
        .await?;
        Ok(connection(
            page,
            request,
            |m| m.user.id,
            |m| CommunityMember {
                open_tasks: m.open_tasks,
                completed_last_30_days: m.completed_last_30_days,
                member: User::from(m.user),
            },
        ))
    }

    async fn my_party_member_applications(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<PartyMemberApplication>> {
        let actor = actor(ctx).await?;
        let list = party_members::my_party_member_applications(&state(ctx)?.db, actor).await?;
        Ok(list.into_iter().map(PartyMemberApplication).collect())
    }
}

#[derive(Default)]
pub struct IdentityMutation;

#[Object]
impl IdentityMutation {
    /// Exchanges a mini-program `wx.login()` code for a session. In dev-login mode (no WeChat
    /// credentials configured) the code is taken as the openid.
    async fn login_with_wechat(&self, ctx: &Context<'_>, code: String) -> Result<AuthPayload> {
        let session = state(ctx)?
            .sessions
            .login_with_wechat(&code, client_ip(ctx))
            .await?;
        Ok(session.into())
    }

    /// Spends a refresh token for a new access and refresh token. Presenting a spent refresh
    /// token revokes the whole session.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        refresh_token: String,
    ) -> Result<AuthPayload> {
        Ok(state(ctx)?.sessions.refresh(&refresh_token).await?.into())
    }

    /// Ends this session on every device and instance: its tokens stop working at once.
    async fn logout(&self, ctx: &Context<'_>) -> Result<bool> {
        state(ctx)?.sessions.logout(caller(ctx)?).await?;
        Ok(true)
    }

    async fn update_my_profile(
        &self,
        ctx: &Context<'_>,
        input: UpdateProfileInput,
    ) -> Result<User> {
        let actor = actor(ctx).await?;
        let community_id = input
            .community_id
            .map(|id| parse_id("communityId", &id))
            .transpose()?;
        let grid_id = input
            .grid_id
            .map(|id| parse_id("gridId", &id))
            .transpose()?;
        let input = ProfileInput {
            name: input.name,
            phone: input.phone,
            community_id,
            grid_id,
            address: input.address,
            show_on_leaderboard: input.show_on_leaderboard,
            skills: input.skills,
        };
        let state = state(ctx)?;
        let user = users::update_profile(&state.db, &state.content, actor, input).await?;
        Ok(User::from(settle(ctx, user).await?))
    }

    /// Deletes my account (WeChat's privacy rules): refused while I have open orders or
    /// unspent redemptions; otherwise my name, phone, address and openid are erased and every
    /// session of mine ends. Orders, ledger entries and notices keep their history under an
    /// anonymous name.
    async fn delete_my_account(&self, ctx: &Context<'_>) -> Result<bool> {
        let state = state(ctx)?;
        let deleted = state.sessions.delete_account(caller(ctx)?).await?;
        settle(ctx, deleted).await?;
        Ok(true)
    }

    /// Exchanges a `getPhoneNumber` code for the number WeChat verified, which becomes your
    /// phone (and the default contact phone of your orders).
    async fn bind_phone_number(&self, ctx: &Context<'_>, code: String) -> Result<User> {
        let actor = actor(ctx).await?;
        let state = state(ctx)?;
        let user = users::bind_phone(&state.db, state.wechat.as_ref(), actor, &code).await?;
        Ok(User::from(settle(ctx, user).await?))
    }

    /// ADMIN: any role anywhere. STAFF: PARTY_MEMBER, STAFF or MERCHANT in their community.
    /// STREET_STAFF are granted at a `streetId`, DEPARTMENT_STAFF at a `departmentId`.
    async fn grant_role(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        role: Role,
        community_id: Option<ID>,
        street_id: Option<ID>,
        department_id: Option<ID>,
    ) -> Result<User> {
        let actor = actor(ctx).await?;
        let user_id = parse_id("userId", &user_id)?;
        let scope = grant_scope(role, community_id, street_id, department_id)?;
        let user = roles::grant_role(&state(ctx)?.db, actor, user_id, role.into(), scope).await?;
        Ok(User::from(settle(ctx, user).await?))
    }

    async fn revoke_role(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        role: Role,
        community_id: Option<ID>,
        street_id: Option<ID>,
        department_id: Option<ID>,
    ) -> Result<User> {
        let actor = actor(ctx).await?;
        let user_id = parse_id("userId", &user_id)?;
        let scope = grant_scope(role, community_id, street_id, department_id)?;
        let user = roles::revoke_role(&state(ctx)?.db, actor, user_id, role.into(), scope).await?;
        Ok(User::from(settle(ctx, user).await?))
    }

    /// An in-service Party member reports to a community (在职党员到社区报到); STAFF review it.
    async fn apply_party_member(
        &self,
        ctx: &Context<'_>,
        input: ApplyPartyMemberInput,
    ) -> Result<PartyMemberApplication> {
        let actor = actor(ctx).await?;
        let input = PartyMemberApplicationInput {
            branch: input.branch,
            employer: input.employer,
            community_id: parse_id("reportedCommunityId", &input.reported_community_id)?,
        };
        let application = party_members::apply_party_member(&state(ctx)?.db, actor, input).await?;
        Ok(PartyMemberApplication(application))
    }

    /// STAFF of the community: approve (grants PARTY_MEMBER there) or reject.
    async fn review_party_member_application(
        &self,
        ctx: &Context<'_>,
        application_id: ID,
        approve: bool,
        note: Option<String>,
    ) -> Result<PartyMemberApplication> {
        let actor = actor(ctx).await?;
        let id = parse_id("applicationId", &application_id)?;
        let state = state(ctx)?;
        let application =
            party_members::review_party_member(&state.db, &state.content, actor, id, approve, note)
                .await?;
        Ok(PartyMemberApplication(settle(ctx, application).await?))
    }
}

//! Units stationed in a community (驻区单位, 双报到): registration, review, members, the unit's
//! page.
use async_graphql::{
    Context, Enum, ID, InputObject, Object, Result, SimpleObject, connection::Connection,
};
use chrono::{DateTime, Utc};
use entity::{enums, unit};

use super::{
    RequestContext, actor, connection, identity::User, load_community, load_user,
    organisation::Community, parse_id, state, to_id,
};
use crate::{
    error::AppError,
    organisation::units::{self, UnitInput},
    pagination::PageRequest,
    points::rules,
    values::mask_phone,
};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::UnitStatus")]
pub enum UnitStatus {
    /// Registered; STAFF of the community review it.
    PendingReview,
    Approved,
    Rejected,
}

pub struct Unit(pub unit::Model);

/// What the unit's members gave the community.
#[derive(SimpleObject)]
pub struct UnitTotals {
    /// Party members who say they work at the unit.
    members: u64,
    /// Their confirmed service, in hours.
    confirmed_hours: f64,
    /// Wishes the unit claimed and the residents confirmed.
    wishes_fulfilled: u64,
}

#[Object]
impl Unit {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn community(&self, ctx: &Context<'_>) -> Result<Community> {
        Ok(Community(load_community(ctx, self.0.community_id).await?))
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Its Party organisation (党组织).
    async fn party_organisation(&self) -> &str {
        &self.0.party_organisation
    }
    async fn contact_name(&self) -> &str {
        &self.0.contact_name
    }
    /// In full for its representative and STAFF of its community; masked for others.
    async fn contact_phone(&self, ctx: &Context<'_>) -> Result<String> {
        let actor = actor(ctx).await?;
        Ok(if units::may_see_contact(actor, &self.0) {
            self.0.contact_phone.clone()
        } else {
            mask_phone(&self.0.contact_phone)
        })
    }
    /// What it can offer the community (venues, volunteers, skills).
    async fn resources(&self) -> &str {
        &self.0.resources
    }
    async fn status(&self) -> UnitStatus {
        self.0.status.into()
    }
    /// Why STAFF turned it down (or what they noted approving it).
    async fn review_note(&self) -> Option<&str> {
        self.0.review_note.as_deref()
    }
    /// Who registered it and acts in its name.
    async fn representative(&self, ctx: &Context<'_>) -> Result<User> {
        Ok(User::from(load_user(ctx, self.0.representative_id).await?))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn totals(&self, ctx: &Context<'_>) -> Result<UnitTotals> {
        let totals = ctx
            .data::<RequestContext>()?
            .unit_totals
            .load_one(self.0.id)
            .await
            .map_err(AppError::from)?
            .unwrap_or_default();
        Ok(UnitTotals {
            members: totals.members,
            confirmed_hours: rules::hours(totals.confirmed_minutes),
            wishes_fulfilled: totals.wishes_fulfilled,
        })
    }
}

#[derive(InputObject)]
pub struct RegisterUnitInput {
    /// The community the unit is stationed in and reports to.
    community_id: ID,
    /// 1–60 characters.
    name: String,
    /// Its Party organisation (党组织), 1–60 characters.
    party_organisation: String,
    contact_name: String,
    contact_phone: String,
    /// What it can offer, up to 1,000 characters.
    #[graphql(default)]
    resources: String,
}

#[derive(Default)]
pub struct UnitQuery;

#[Object]
impl UnitQuery {
    /// The community's units, newest first: APPROVED (the default) for anyone logged in,
    /// others for its STAFF.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn units(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        status: Option<UnitStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Unit>> {
        let actor = actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let page = units::list(
            &state(ctx)?.db,
            actor,
            community_id,
            status.unwrap_or(UnitStatus::Approved).into(),
            request,
        )
        .await?;
        Ok(connection(page, request, |unit| unit.id, Unit))
    }

    /// A unit's page; one not approved only for its representative and STAFF.
    async fn unit(&self, ctx: &Context<'_>, id: ID) -> Result<Unit> {
        let actor = actor(ctx).await?;
        let unit = units::get(&state(ctx)?.db, parse_id("id", &id)?).await?;
        if !units::can_view(actor, &unit) {
            return Err(AppError::NotFound("unit").into());
        }
        Ok(Unit(unit))
    }
}

#[derive(Default)]
pub struct UnitMutation;

#[Object]
impl UnitMutation {
    /// A unit stationed in a community registers with it (双报到); you become its
    /// representative. STAFF of the community review it.
    async fn register_unit(&self, ctx: &Context<'_>, input: RegisterUnitInput) -> Result<Unit> {
        let actor = actor(ctx).await?;
        let input = UnitInput {
            community_id: parse_id("communityId", &input.community_id)?,
            name: input.name,
            party_organisation: input.party_organisation,
            contact_name: input.contact_name,
            contact_phone: input.contact_phone,
            resources: input.resources,
        };
        let state = state(ctx)?;
        Ok(Unit(
            units::register(&state.db, &state.content, actor, input).await?,
        ))
    }

    /// STAFF of the unit's community: approve it, or turn it down with a note.
    async fn review_unit(
        &self,
        ctx: &Context<'_>,
        unit_id: ID,
        approve: bool,
        note: Option<String>,
    ) -> Result<Unit> {
        let actor = actor(ctx).await?;
        let unit_id = parse_id("unitId", &unit_id)?;
        let state = state(ctx)?;
        Ok(Unit(
            units::review(&state.db, &state.content, actor, unit_id, approve, note).await?,
        ))
    }

    /// Party members: the approved unit I work at (replacing any earlier one); my confirmed
    /// service then shows on its page.
    async fn join_unit(&self, ctx: &Context<'_>, unit_id: ID) -> Result<Unit> {
        let actor = actor(ctx).await?;
        let unit_id = parse_id("unitId", &unit_id)?;
        Ok(Unit(units::join(&state(ctx)?.db, actor, unit_id).await?))
    }

    /// I no longer work at a unit.
    async fn leave_unit(&self, ctx: &Context<'_>) -> Result<bool> {
        let actor = actor(ctx).await?;
        units::leave(&state(ctx)?.db, actor).await?;
        Ok(true)
    }
}

use async_graphql::{
    Context, Enum, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject,
    connection::Connection,
};
use chrono::{DateTime, Utc};
use entity::{enums, merchant, offer, redemption};

use super::{
    actor, connection, known, load_children, load_community, load_merchant, load_user,
    organisation::Community, parse_id, photos::Photo, settle, state, to_id,
};
use crate::{
    content::photos,
    error::AppError,
    identity,
    merchants::{
        self, MerchantApplication, MerchantFilter,
        offers::{self, OfferFilter, OfferInput},
        redemptions::{self, RedemptionFilter},
    },
    pagination::PageRequest,
    values::geo::Point,
};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::MerchantKind")]
pub enum MerchantKind {
    Merchant,
    /// A community-run store (红领超市); only STAFF of the community may open one.
    CommunityStore,
    /// A property company: its offers are fee offsets, points → yuan off the property fee.
    PropertyCompany,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::MerchantStatus")]
pub enum MerchantStatus {
    Pending,
    Active,
    Suspended,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::Badge")]
pub enum Badge {
    /// 党员经营示范户
    PartyMemberModel,
    /// 志愿爱心商家
    VolunteerFriendly,
    /// 文明诚信经营户
    HonestBusiness,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::RedemptionStatus")]
pub enum RedemptionStatus {
    Pending,
    Verified,
    Cancelled,
    Expired,
}

pub struct Merchant {
    model: merchant::Model,
    distance: Option<f64>,
}

impl From<merchant::Model> for Merchant {
    fn from(model: merchant::Model) -> Self {
        Self {
            model,
            distance: None,
        }
    }
}

#[Object]
impl Merchant {
    async fn id(&self) -> ID {
        to_id(self.model.id)
    }
    async fn kind(&self) -> MerchantKind {
        self.model.kind.into()
    }
    async fn name(&self) -> &str {
        &self.model.name
    }
    async fn description(&self) -> &str {
        &self.model.description
    }
    async fn category(&self) -> &str {
        &self.model.category
    }
    async fn address(&self) -> &str {
        &self.model.address
    }
    async fn latitude(&self) -> f64 {
        self.model.latitude
    }
    async fn longitude(&self) -> f64 {
        self.model.longitude
    }
    async fn phone(&self) -> &str {
        &self.model.phone
    }
    async fn opening_hours(&self) -> &str {
        &self.model.opening_hours
    }
    async fn status(&self) -> MerchantStatus {
        self.model.status.into()
    }
    /// Why it was suspended.
    async fn status_reason(&self) -> Option<&str> {
        self.model.status_reason.as_deref()
    }
    /// Distance from the `near` point of a search, in meters.
    async fn distance_meters(&self) -> Option<f64> {
        self.distance.map(|d| d.round())
    }
    async fn community(&self, ctx: &Context<'_>) -> Result<Community> {
        Ok(Community(
            load_community(ctx, self.model.community_id).await?,
        ))
    }
    /// At most one of each of the three badges.
    #[graphql(complexity = "3 * child_complexity")]
    async fn badges(&self, ctx: &Context<'_>) -> Result<Vec<Badge>> {
        let badges = load_children(|r| &r.badges, ctx, self.model.id).await?;
        Ok(badges.into_iter().map(Into::into).collect())
    }
    /// Storefront photos, oldest first.
    #[graphql(complexity = "photos::MAX_PHOTOS * child_complexity")]
    async fn photos(&self, ctx: &Context<'_>) -> Result<Vec<Photo>> {
        let rows = load_children(|r| &r.merchant_photos, ctx, self.model.id).await?;
        super::photos::visible(ctx, rows).await
    }
    /// The newest offers that can be redeemed now (at most 20; `offers(filter: { merchantId })`
    /// pages through all of them).
    #[graphql(complexity = "offers::MAX_LISTED_PER_MERCHANT as usize * child_complexity")]
    async fn offers(&self, ctx: &Context<'_>) -> Result<Vec<Offer>> {
        let offers = load_children(|r| &r.offers, ctx, self.model.id).await?;
        Ok(offers.into_iter().map(Offer).collect())
    }
}

pub struct Offer(offer::Model);

#[Object]
impl Offer {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// Null when the merchant is not ACTIVE and not yours to see.
    async fn merchant(&self, ctx: &Context<'_>) -> Result<Option<Merchant>> {
        let viewer = actor(ctx).await.ok();
        // Through the request's loader: a page of offers reads their merchants at once.
        let merchant = load_merchant(ctx, self.0.merchant_id).await?;
        let visible = merchants::may_see(&state(ctx)?.db, viewer, &merchant).await?;
        Ok(visible.then(|| merchant.into()))
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn points_cost(&self) -> i64 {
        self.0.points_cost
    }
    /// Left to redeem; null = unlimited.
    async fn stock(&self) -> Option<i32> {
        self.0.stock
    }
    async fn per_user_limit(&self) -> Option<i32> {
        self.0.per_user_limit
    }
    async fn valid_from(&self) -> DateTime<Utc> {
        self.0.valid_from
    }
    async fn valid_until(&self) -> DateTime<Utc> {
        self.0.valid_until
    }
    async fn active(&self) -> bool {
        self.0.active
    }
}

pub struct Redemption(redemption::Model);

impl Redemption {
    /// The code and QR are the resident's to show at the counter, and no one else's: a cashier
    /// who could list them could verify redemptions nobody came for.
    fn owned_by_viewer(&self, viewer: uuid::Uuid) -> bool {
        self.0.user_id == viewer
    }
}

#[Object]
impl Redemption {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn offer(&self, ctx: &Context<'_>) -> Result<Offer> {
        Ok(Offer(offers::get(&state(ctx)?.db, self.0.offer_id).await?))
    }
    async fn merchant_id(&self) -> ID {
        to_id(self.0.merchant_id)
    }
    async fn points_cost(&self) -> i64 {
        self.0.points_cost
    }
    /// Ten digits to read out at the counter; only for the resident who redeemed.
    async fn code(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        let viewer = actor(ctx).await?;
        Ok(self
            .owned_by_viewer(viewer.id)
            .then_some(self.0.code.as_str()))
    }
    /// A signed payload for the cashier's scanner; only for the resident who redeemed.
    async fn qr_payload(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let viewer = actor(ctx).await?;
        if !self.owned_by_viewer(viewer.id) || self.0.status != enums::RedemptionStatus::Pending {
            return Ok(None);
        }
        Ok(Some(
            state(ctx)?
                .sessions
                .keys
                .sign_redemption(&self.0.code, self.0.expires_at)?,
        ))
    }
    async fn status(&self) -> RedemptionStatus {
        self.0.status.into()
    }
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    async fn verified_at(&self) -> Option<DateTime<Utc>> {
        self.0.verified_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The resident, as a merchant may know them (name only, masked if they opted out).
    async fn customer_name(&self, ctx: &Context<'_>) -> Result<String> {
        let user = load_user(ctx, self.0.user_id).await?;
        Ok(identity::public_name(&user))
    }
}

#[derive(SimpleObject)]
pub struct Settlement {
    verified_count: i64,
    verified_points: i64,
}

#[derive(SimpleObject)]
pub struct MerchantRedemptions {
    /// Redemptions verified in the period: what the merchant settles with the community.
    settlement: Settlement,
    redemptions: Connection<String, Redemption>,
}

#[derive(InputObject)]
pub struct ApplyMerchantInput {
    community_id: ID,
    name: String,
    #[graphql(default)]
    description: String,
    /// e.g. 餐饮, 理发, 超市, 维修
    category: String,
    address: String,
    latitude: f64,
    longitude: f64,
    phone: String,
    opening_hours: String,
    #[graphql(default_with = "MerchantKind::Merchant")]
    kind: MerchantKind,
}

#[derive(InputObject)]
pub struct NearInput {
    latitude: f64,
    longitude: f64,
    radius_meters: f64,
}

#[derive(InputObject, Default)]
pub struct MerchantFilterInput {
    community_id: Option<ID>,
    category: Option<String>,
    badge: Option<Badge>,
    /// Sorts by distance and fills `distanceMeters`.
    near: Option<NearInput>,
    /// Part of the name or description.
    search: Option<String>,
}

#[derive(InputObject)]
pub struct CreateOfferInput {
    merchant_id: ID,
    title: String,
    #[graphql(default)]
    description: String,
    points_cost: i64,
    /// null = unlimited
    stock: Option<i32>,
    per_user_limit: Option<i32>,
    valid_from: DateTime<Utc>,
    valid_until: DateTime<Utc>,
}

/// Absent fields stay as they are; `stock: null` makes it unlimited.
#[derive(InputObject)]
pub struct UpdateOfferInput {
    title: Option<String>,
    description: Option<String>,
    points_cost: Option<i64>,
    stock: MaybeUndefined<i32>,
    per_user_limit: MaybeUndefined<i32>,
    valid_from: Option<DateTime<Utc>>,
    valid_until: Option<DateTime<Utc>>,
}

fn maybe<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

#[derive(InputObject, Default)]
pub struct OfferFilterInput {
    community_id: Option<ID>,
    merchant_id: Option<ID>,
    /// Only offers whose cost is within your balance.
    #[graphql(default)]
    affordable: bool,
}

fn optional_id(field: &str, id: Option<ID>) -> Result<Option<uuid::Uuid>, AppError> {
    id.map(|id| parse_id(field, &id)).transpose()
}

#[derive(Default)]
pub struct MerchantQuery;

#[Object]
impl MerchantQuery {
    /// ACTIVE merchants of the alliance: newest first, or nearest first with `near`.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn merchants(
        &self,
        ctx: &Context<'_>,
        filter: Option<MerchantFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Merchant>> {
        actor(ctx).await?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let filter = filter.unwrap_or_default();
        let filter = MerchantFilter {
            community_id: optional_id("communityId", filter.community_id)?,
            category: filter.category,
            badge: filter.badge.map(Into::into),
            near: filter.near.map(|n| {
                (
                    Point {
                        latitude: n.latitude,
                        longitude: n.longitude,
                    },
                    n.radius_meters,
                )
            }),
            search: filter.search,
        };
        let state = state(ctx)?;
        let page = merchants::list(&state.db, &state.store, filter, request).await?;
        Ok(connection(
            page,
            request,
            |(m, _)| m.id,
            |(model, distance)| Merchant { model, distance },
        ))
    }

    /// STAFF: the community's merchants in `status`, newest first; PENDING (the default)
    /// lists the applications to decide with `approveMerchant`.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn community_merchants(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        #[graphql(default_with = "MerchantStatus::Pending")] status: MerchantStatus,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Merchant>> {
        let actor = actor(ctx).await?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let community_id = parse_id("communityId", &community_id)?;
        let page =
            merchants::of_status(&state(ctx)?.db, actor, community_id, status.into(), request)
                .await?;
        Ok(connection(page, request, |m| m.id, Merchant::from))
    }

    async fn merchant(&self, ctx: &Context<'_>, id: ID) -> Result<Merchant> {
        let actor = actor(ctx).await?;
        let id = parse_id("id", &id)?;
        Ok(merchants::get_visible(&state(ctx)?.db, actor, id)
            .await?
            .into())
    }

    /// A link (valid 15 minutes) to the image of the 小程序码 for the merchant's counter,
    /// generated once; for the merchant's staff and their community's STAFF.
    async fn merchant_counter_code(&self, ctx: &Context<'_>, merchant_id: ID) -> Result<String> {
        let actor = actor(ctx).await?;
        let merchant_id = parse_id("merchantId", &merchant_id)?;
        let state = state(ctx)?;
        Ok(merchants::counter_code(&state.db, &state.codes, actor, merchant_id).await?)
    }

    /// Merchants I own or work for.
    async fn my_merchants(&self, ctx: &Context<'_>) -> Result<Vec<Merchant>> {
        let actor = actor(ctx).await?;
        Ok(merchants::mine(&state(ctx)?.db, actor)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Offers redeemable now, newest first.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn offers(
        &self,
        ctx: &Context<'_>,
        filter: Option<OfferFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Offer>> {
        let actor = actor(ctx).await?;
        let state = state(ctx)?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let filter = filter.unwrap_or_default();
        let filter = OfferFilter {
            community_id: optional_id("communityId", filter.community_id)?,
            merchant_id: optional_id("merchantId", filter.merchant_id)?,
            affordable: filter.affordable,
        };
        let listing = offers::list(&state.db, &state.store, actor, filter, request).await?;
        known(|r| &r.merchants, ctx, listing.merchants).await?;
        Ok(connection(listing.offers, request, |o| o.id, Offer))
    }

    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn my_redemptions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Redemption>> {
        let actor = actor(ctx).await?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let page = redemptions::mine(&state(ctx)?.db, actor, request).await?;
        Ok(connection(page, request, |r| r.id, Redemption))
    }

    /// The merchant's redemptions created in [from, to), with the settlement of those verified
    /// in the same period.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn merchant_redemptions(
        &self,
        ctx: &Context<'_>,
        merchant_id: ID,
        status: Option<RedemptionStatus>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<MerchantRedemptions> {
        let actor = actor(ctx).await?;
        let db = &state(ctx)?.db;
        let merchant_id = parse_id("merchantId", &merchant_id)?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let filter = RedemptionFilter {
            status: status.map(Into::into),
            from,
            to,
        };
        let page = redemptions::of_merchant(db, actor, merchant_id, filter, request).await?;
        let settlement = redemptions::settlement(db, actor, merchant_id, from, to).await?;
        Ok(MerchantRedemptions {
            settlement: Settlement {
                verified_count: settlement.verified_count,
                verified_points: settlement.verified_points,
            },
            redemptions: connection(page, request, |r| r.id, Redemption),
        })
    }
}

#[derive(Default)]
pub struct MerchantMutation;

#[Object]
impl MerchantMutation {
    /// Apply to join the alliance; STAFF of the community approve. You become its owner.
    async fn apply_merchant(
        &self,
        ctx: &Context<'_>,
        input: ApplyMerchantInput,
    ) -> Result<Merchant> {
        let actor = actor(ctx).await?;
        let application = MerchantApplication {
            community_id: parse_id("communityId", &input.community_id)?,
            kind: input.kind.into(),
            name: input.name,
            description: input.description,
            category: input.category,
            address: input.address,
            location: Point {
                latitude: input.latitude,
                longitude: input.longitude,
            },
            phone: input.phone,
            opening_hours: input.opening_hours,
        };
        let state = state(ctx)?;
        Ok(
            merchants::apply(&state.db, &state.content, actor, application)
                .await?
                .into(),
        )
    }

    /// STAFF: approve (or reinstate) a merchant; its people get the MERCHANT role.
    async fn approve_merchant(&self, ctx: &Context<'_>, merchant_id: ID) -> Result<Merchant> {
        let actor = actor(ctx).await?;
        let id = parse_id("merchantId", &merchant_id)?;
        let merchant = merchants::approve(&state(ctx)?.db, actor, id).await?;
        Ok(settle(ctx, merchant).await?.into())
    }

    /// STAFF: take a merchant out of listings; its codes cannot be verified meanwhile.
    async fn suspend_merchant(
        &self,
        ctx: &Context<'_>,
        merchant_id: ID,
        reason: String,
    ) -> Result<Merchant> {
        let actor = actor(ctx).await?;
        let id = parse_id("merchantId", &merchant_id)?;
        let state = state(ctx)?;
        let merchant = merchants::suspend(&state.db, &state.content, actor, id, reason).await?;
        Ok(settle(ctx, merchant).await?.into())
    }

    /// The owner sets the storefront photos, uploaded with
    /// `createUploadUrl(purpose: MERCHANT_PHOTO)`: listed photos already shown stay, new ones
    /// are attached, the others are removed. At most 9.
    async fn set_merchant_photos(
        &self,
        ctx: &Context<'_>,
        merchant_id: ID,
        #[graphql(validator(max_items = 9))] photo_keys: Vec<String>,
    ) -> Result<Merchant> {
        let actor = actor(ctx).await?;
        let id = parse_id("merchantId", &merchant_id)?;
        let state = state(ctx)?;
        let merchant =
            merchants::set_photos(&state.db, &state.photos, actor, id, photo_keys).await?;
        Ok(settle(ctx, merchant).await?.into())
    }

    /// The owner adds a cashier by openid (the account is created if new).
    async fn add_merchant_staff(
        &self,
        ctx: &Context<'_>,
        merchant_id: ID,
        openid: String,
    ) -> Result<Merchant> {
        let actor = actor(ctx).await?;
        let id = parse_id("merchantId", &merchant_id)?;
        let merchant = merchants::add_staff(&state(ctx)?.db, actor, id, &openid).await?;
        Ok(settle(ctx, merchant).await?.into())
    }

    /// The owner removes a cashier; they stop verifying codes at once.
    async fn remove_merchant_staff(
        &self,
        ctx: &Context<'_>,
        merchant_id: ID,
        user_id: ID,
    ) -> Result<Merchant> {
        let actor = actor(ctx).await?;
        let merchant_id = parse_id("merchantId", &merchant_id)?;
        let user_id = parse_id("userId", &user_id)?;
        let merchant =
            merchants::remove_staff(&state(ctx)?.db, actor, merchant_id, user_id).await?;
        Ok(settle(ctx, merchant).await?.into())
    }

    async fn award_badge(
        &self,
        ctx: &Context<'_>,
        merchant_id: ID,
        badge: Badge,
    ) -> Result<Merchant> {
        let actor = actor(ctx).await?;
        let id = parse_id("merchantId", &merchant_id)?;
        let merchant = merchants::award_badge(&state(ctx)?.db, actor, id, badge.into()).await?;
        Ok(settle(ctx, merchant).await?.into())
    }

    async fn revoke_badge(
        &self,
        ctx: &Context<'_>,
        merchant_id: ID,
        badge: Badge,
    ) -> Result<Merchant> {
        let actor = actor(ctx).await?;
        let id = parse_id("merchantId", &merchant_id)?;
        let merchant = merchants::revoke_badge(&state(ctx)?.db, actor, id, badge.into()).await?;
        Ok(settle(ctx, merchant).await?.into())
    }

    /// The merchant's owner.
    async fn create_offer(&self, ctx: &Context<'_>, input: CreateOfferInput) -> Result<Offer> {
        let actor = actor(ctx).await?;
        let merchant_id = parse_id("merchantId", &input.merchant_id)?;
        let input = OfferInput {
            title: Some(input.title),
            description: Some(input.description),
            points_cost: Some(input.points_cost),
            stock: Some(input.stock),
            per_user_limit: Some(input.per_user_limit),
            valid_from: Some(input.valid_from),
            valid_until: Some(input.valid_until),
        };
        let state = state(ctx)?;
        let offer = offers::create(&state.db, &state.content, actor, merchant_id, input).await?;
        Ok(Offer(settle(ctx, offer).await?))
    }

    async fn update_offer(
        &self,
        ctx: &Context<'_>,
        offer_id: ID,
        input: UpdateOfferInput,
    ) -> Result<Offer> {
        let actor = actor(ctx).await?;
        let offer_id = parse_id("offerId", &offer_id)?;
        let input = OfferInput {
            title: input.title,
            description: input.description,
            points_cost: input.points_cost,
            stock: maybe(input.stock),
            per_user_limit: maybe(input.per_user_limit),
            valid_from: input.valid_from,
            valid_until: input.valid_until,
        };
        let state = state(ctx)?;
        let offer = offers::update(&state.db, &state.content, actor, offer_id, input).await?;
        Ok(Offer(settle(ctx, offer).await?))
    }

    async fn deactivate_offer(&self, ctx: &Context<'_>, offer_id: ID) -> Result<Offer> {
        let actor = actor(ctx).await?;
        let offer_id = parse_id("offerId", &offer_id)?;
        let offer = offers::deactivate(&state(ctx)?.db, actor, offer_id).await?;
        Ok(Offer(settle(ctx, offer).await?))
    }

    /// Spends points on an offer. A retry with the same idempotencyKey returns the first
    /// redemption and spends nothing again.
    async fn redeem_offer(
        &self,
        ctx: &Context<'_>,
        offer_id: ID,
        idempotency_key: String,
    ) -> Result<Redemption> {
        let actor = actor(ctx).await?;
        let state = state(ctx)?;
        let offer_id = parse_id("offerId", &offer_id)?;
        let redemption = redemptions::redeem(
            &state.db,
            actor,
            offer_id,
            &idempotency_key,
            state.redemption_valid_for,
        )
        .await?;
        Ok(Redemption(settle(ctx, redemption).await?))
    }

    /// A cashier of the redemption's merchant verifies its 10-digit code or QR payload, once.
    /// Repeated wrong codes from one account are rate limited.
    async fn verify_redemption(&self, ctx: &Context<'_>, code: String) -> Result<Redemption> {
        let actor = actor(ctx).await?;
        let state = state(ctx)?;
        let redemption =
            redemptions::verify(&state.db, &state.store, &state.sessions.keys, actor, &code)
                .await?;
        Ok(Redemption(settle(ctx, redemption).await?))
    }

    /// The resident cancels a PENDING redemption: points refunded, stock restored.
    async fn cancel_redemption(&self, ctx: &Context<'_>, id: ID) -> Result<Redemption> {
        let actor = actor(ctx).await?;
        let id = parse_id("id", &id)?;
        let redemption = redemptions::cancel(&state(ctx)?.db, actor, id).await?;
        Ok(Redemption(settle(ctx, redemption).await?))
    }
}

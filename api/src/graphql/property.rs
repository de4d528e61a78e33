//! Property companies and the street's quarterly red/black list (物业红黑榜).
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{enums, property_rectification, property_result, property_round, property_service};

use super::{
    actor, connection, load_merchant, merchants::Merchant, parse_id, publication::ResultObjection,
    settle, state, to_id,
};
use crate::{
    pagination::PageRequest,
    property::{self, NewRound, notice, rules::Facts},
    values::Quarter,
};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::RoundStatus")]
pub enum PropertyRoundStatus {
    /// Households rate until `closesAt` (or STREET_STAFF close it).
    Open,
    /// Sealed: results, the lists and the published ratings show.
    Closed,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum PropertyListing {
    /// At or above the round's `redBar`.
    Red,
    /// Below the round's `blackBar`.
    Black,
    None,
}

pub struct PropertyService(property_service::Model);

#[Object]
impl PropertyService {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn community_id(&self) -> ID {
        to_id(self.0.community_id)
    }
    async fn company(&self, ctx: &Context<'_>) -> Result<Merchant> {
        Ok(Merchant::from(load_merchant(ctx, self.0.company_id).await?))
    }
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    async fn ends_at(&self) -> Option<DateTime<Utc>> {
        self.0.ends_at
    }
}

pub struct PropertyRound(property_round::Model);

#[Object]
impl PropertyRound {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn street_id(&self) -> ID {
        to_id(self.0.street_id)
    }
    /// `YYYY-Qn`.
    async fn quarter(&self) -> &str {
        &self.0.quarter
    }
    async fn status(&self) -> PropertyRoundStatus {
        self.0.status.into()
    }
    async fn closes_at(&self) -> DateTime<Utc> {
        self.0.closes_at
    }
    async fn red_bar(&self) -> i32 {
        self.0.red_bar
    }
    async fn black_bar(&self) -> i32 {
        self.0.black_bar
    }
    /// SHA-256 over the published ratings' lines (`receipt:companyId:s1,…,s5`, sorted, each
    /// ending in a newline); null until the close.
    async fn digest(&self) -> Option<&str> {
        self.0.digest.as_deref()
    }
    /// Every company's sealed result, best first: empty until the close, for everyone.
    async fn results(&self, ctx: &Context<'_>) -> Result<Vec<PropertyResult>> {
        let rows = property::results(&state(ctx)?.db, &self.0).await?;
        Ok(rows.into_iter().map(PropertyResult::from).collect())
    }
    /// The list is published at the close; the listed companies may object until then.
    async fn objections_close_at(&self) -> Option<DateTime<Utc>> {
        self.0.objections_close_at
    }
    /// Companies' objections to the published list, newest first: all of them (or
    /// `companyId`'s) for the street's staff; a company's people name their company.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn objections(
        &self,
        ctx: &Context<'_>,
        company_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<async_graphql::connection::Connection<String, ResultObjection>> {
        let actor = actor(ctx).await?;
        let company_id = company_id
            .map(|id| parse_id("companyId", &id))
            .transpose()?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let page = notice::objections(&state(ctx)?.db, actor, &self.0, company_id, request).await?;
        let me = actor.id;
        Ok(connection(
            page,
            request,
            |o| o.id,
            |objection| ResultObjection::new(objection, me),
        ))
    }
    /// Rectification tasks (整改) of the black-listed companies: all for the street's staff,
    /// their own companies' for a company's people.
    async fn rectifications(&self, ctx: &Context<'_>) -> Result<Vec<Rectification>> {
        let actor = actor(ctx).await?;
        let tasks = notice::rectifications(&state(ctx)?.db, actor, &self.0).await?;
        Ok(tasks.into_iter().map(Rectification::from).collect())
    }
    /// Whether my household has rated in this round.
    async fn my_household_rated(&self, ctx: &Context<'_>) -> Result<bool> {
        let actor = actor(ctx).await?;
        Ok(property::rated(&state(ctx)?.db, actor, self.0.id).await?)
    }
    /// The ratings by receipt once the round is closed (each household finds its own by the
    /// receipt it was given); empty before.
    async fn ratings(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] first: i32,
        after: Option<String>,
    ) -> Result<Vec<PublishedRating>> {
        let first = u64::try_from(first).unwrap_or(0);
        let rows = property::published(&state(ctx)?.db, &self.0, first, after).await?;
        Ok(rows
            .into_iter()
            .map(|r| PublishedRating {
                receipt: r.receipt,
                company_id: to_id(r.company_id),
                scores: r.scores.to_vec(),
            })
            .collect())
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::RectificationStatus")]
pub enum RectificationStatus {
    /// Waiting for the company's report (again, when the street sent it back).
    Open,
    /// The company reported; the street reviews it.
    Reported,
    /// The street accepted the report.
    Accepted,
}

/// A black-listed company's rectification task (整改) from a round.
#[derive(SimpleObject)]
pub struct Rectification {
    id: ID,
    round_id: ID,
    company_id: ID,
    status: RectificationStatus,
    due_at: DateTime<Utc>,
    report: Option<String>,
    reported_at: Option<DateTime<Utc>>,
    /// The street's note on its last review.
    review_note: Option<String>,
    reviewed_at: Option<DateTime<Utc>>,
}

impl From<property_rectification::Model> for Rectification {
    fn from(task: property_rectification::Model) -> Self {
        Self {
            id: to_id(task.id),
            round_id: to_id(task.round_id),
            company_id: to_id(task.company_id),
            status: task.status.into(),
            due_at: task.due_at,
            report: task.report,
            reported_at: task.reported_at,
            review_note: task.review_note,
            reviewed_at: task.reviewed_at,
        }
    }
}

/// One household's rating as published after the close; it names no one.
#[derive(SimpleObject)]
pub struct PublishedRating {
    receipt: String,
    company_id: ID,
    /// Cleanliness, security, repairs, attitude, fee transparency: 1–5 each.
    scores: Vec<i32>,
}

/// A company's sealed result, with its order facts read once.
pub struct PropertyResult(property_result::Model, Facts);

impl From<property_result::Model> for PropertyResult {
    fn from(row: property_result::Model) -> Self {
        let facts = serde_json::from_value(row.facts.clone()).unwrap_or_default();
        Self(row, facts)
    }
}

#[Object]
impl PropertyResult {
    async fn company(&self, ctx: &Context<'_>) -> Result<Merchant> {
        Ok(Merchant::from(load_merchant(ctx, self.0.company_id).await?))
    }
    /// Households that rated it.
    async fn households(&self) -> i32 {
        self.0.households
    }
    /// Cleanliness, security, repairs, attitude, fee transparency: each dimension's average
    /// (1–5); empty when nobody rated it.
    async fn averages(&self) -> Vec<f64> {
        let hundredths: Vec<i32> =
            serde_json::from_value(self.0.averages.clone()).unwrap_or_default();
        hundredths
            .into_iter()
            .map(|h| f64::from(h) / 100.0)
            .collect()
    }
    /// Orders placed in its communities while it served them in the quarter.
    async fn orders(&self) -> i64 {
        self.1.orders
    }
    async fn response_rate(&self) -> f64 {
        self.1.response_rate
    }
    async fn resolution_rate(&self) -> f64 {
        self.1.resolution_rate
    }
    /// Share of rated orders with 4 or 5 stars; null when none was rated.
    async fn satisfaction(&self) -> Option<f64> {
        self.1.satisfaction
    }
    async fn reopen_rate(&self) -> f64 {
        self.1.reopen_rate
    }
    async fn red_alerts(&self) -> i64 {
        self.1.red_alerts
    }
    /// Out of 100: half the residents' opinion, half the facts (docs/property.md).
    async fn score(&self) -> f64 {
        f64::from(self.0.score_tenths) / 10.0
    }
    async fn listing(&self) -> PropertyListing {
        match self.0.listing.as_str() {
            "RED" => PropertyListing::Red,
            "BLACK" => PropertyListing::Black,
            _ => PropertyListing::None,
        }
    }
}

#[derive(InputObject)]
pub struct OpenPropertyRatingInput {
    street_id: ID,
    /// `YYYY-Qn`: the quarter whose service is rated.
    quarter: String,
    closes_at: DateTime<Utc>,
    #[graphql(default = 85)]
    red_bar: i32,
    #[graphql(default = 60)]
    black_bar: i32,
}

/// 1–5 each.
#[derive(InputObject)]
pub struct PropertyScoresInput {
    cleanliness: i32,
    security: i32,
    repairs: i32,
    attitude: i32,
    fees: i32,
}

/// What a household keeps to find its rating in the published list.
#[derive(SimpleObject)]
pub struct PropertyRatingReceipt {
    receipt: String,
    company_id: ID,
}

#[derive(Default)]
pub struct PropertyQuery;

#[Object]
impl PropertyQuery {
    /// A street's rating rounds, newest first.
    async fn property_rounds(
        &self,
        ctx: &Context<'_>,
        street_id: ID,
    ) -> Result<Vec<PropertyRound>> {
        actor(ctx).await?;
        let street_id = parse_id("streetId", &street_id)?;
        let rounds = property::rounds(&state(ctx)?.db, street_id).await?;
        Ok(rounds.into_iter().map(PropertyRound).collect())
    }

    async fn property_round(&self, ctx: &Context<'_>, id: ID) -> Result<PropertyRound> {
        actor(ctx).await?;
        let id = parse_id("id", &id)?;
        Ok(PropertyRound(
            property::get_round(&state(ctx)?.db, id).await?,
        ))
    }
}

#[derive(Default)]
pub struct PropertyMutation;

#[Object]
impl PropertyMutation {
    /// STAFF of the community (or its street): the PROPERTY_COMPANY merchant serving it from
    /// `startsAt`; the one before stops then.
    async fn assign_property_company(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        company_id: ID,
        starts_at: DateTime<Utc>,
    ) -> Result<PropertyService> {
        let actor = actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        let company_id = parse_id("companyId", &company_id)?;
        let service =
            property::assign(&state(ctx)?.db, actor, community_id, company_id, starts_at).await?;
        Ok(PropertyService(service))
    }

    /// STREET_STAFF: open the street's rating of a quarter (once per quarter).
    async fn open_property_rating(
        &self,
        ctx: &Context<'_>,
        input: OpenPropertyRatingInput,
    ) -> Result<PropertyRound> {
        let actor = actor(ctx).await?;
        let new = NewRound {
            street_id: parse_id("streetId", &input.street_id)?,
            quarter: Quarter::parse("quarter", &input.quarter)?,
            closes_at: input.closes_at,
            red_bar: input.red_bar,
            black_bar: input.black_bar,
        };
        Ok(PropertyRound(
            property::open_round(&state(ctx)?.db, actor, new).await?,
        ))
    }

    /// A confirmed household rates the company serving its community; rating again while the
    /// round is open replaces it (with a new receipt).
    async fn rate_property(
        &self,
        ctx: &Context<'_>,
        round_id: ID,
        scores: PropertyScoresInput,
    ) -> Result<PropertyRatingReceipt> {
        let actor = actor(ctx).await?;
        let round_id = parse_id("roundId", &round_id)?;
        let scores = [
            scores.cleanliness,
            scores.security,
            scores.repairs,
            scores.attitude,
            scores.fees,
        ];
        let state = state(ctx)?;
        let rated = property::rate(&state.db, &state.ballots, actor, round_id, scores).await?;
        Ok(PropertyRatingReceipt {
            receipt: rated.receipt,
            company_id: to_id(rated.company_id),
        })
    }

    /// STREET_STAFF close the round now and seal it (the job `property-rating-close` closes it
    /// at `closesAt`).
    async fn close_property_rating(
        &self,
        ctx: &Context<'_>,
        round_id: ID,
    ) -> Result<PropertyRound> {
        let actor = actor(ctx).await?;
        let round_id = parse_id("roundId", &round_id)?;
        let closed = property::close(&state(ctx)?.db, actor, round_id).await?;
        Ok(PropertyRound(settle(ctx, closed).await?))
    }

    /// A listed company's owner or staff object to the published list for it: once per
    /// company, within the objection window; the reason passes content security.
    async fn object_to_property_result(
        &self,
        ctx: &Context<'_>,
        round_id: ID,
        company_id: ID,
        reason: String,
    ) -> Result<ResultObjection> {
        let actor = actor(ctx).await?;
        let round_id = parse_id("roundId", &round_id)?;
        let company_id = parse_id("companyId", &company_id)?;
        let state = state(ctx)?;
        let objection = notice::object(
            &state.db,
            &state.content,
            actor,
            round_id,
            company_id,
            reason,
            Utc::now(),
        )
        .await?;
        Ok(ResultObjection::new(objection, actor.id))
    }

    /// STREET_STAFF of the street answer a company's objection, once.
    async fn answer_property_objection(
        &self,
        ctx: &Context<'_>,
        objection_id: ID,
        answer: String,
    ) -> Result<ResultObjection> {
        let actor = actor(ctx).await?;
        let objection_id = parse_id("objectionId", &objection_id)?;
        let state = state(ctx)?;
        let objection =
            notice::answer(&state.db, &state.content, actor, objection_id, answer).await?;
        Ok(ResultObjection::new(objection, actor.id))
    }

    /// A black-listed company's people report what they did about its rectification task.
    async fn report_rectification(
        &self,
        ctx: &Context<'_>,
        rectification_id: ID,
        report: String,
    ) -> Result<Rectification> {
        let actor = actor(ctx).await?;
        let task_id = parse_id("rectificationId", &rectification_id)?;
        let state = state(ctx)?;
        let task = notice::report(&state.db, &state.content, actor, task_id, report).await?;
        Ok(Rectification::from(task))
    }

    /// STREET_STAFF accept a reported rectification, or send it back with a note.
    async fn review_rectification(
        &self,
        ctx: &Context<'_>,
        rectification_id: ID,
        accept: bool,
        note: String,
    ) -> Result<Rectification> {
        let actor = actor(ctx).await?;
        let task_id = parse_id("rectificationId", &rectification_id)?;
        let state = state(ctx)?;
        let task = notice::review(&state.db, &state.content, actor, task_id, accept, note).await?;
        Ok(Rectification::from(task))
    }
}

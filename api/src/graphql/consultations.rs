//! Consultations and votes (议事): topics, ballots, sealed results.
use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{enums, topic, topic_comment, topic_result};

use super::{
    actor, connection, load_community, organisation::Community, parse_id,
    publication::ResultObjection, settle, state, to_id,
};
use crate::{
    consultations::{self, Filed, Mine, NewTopic, comments, objections},
    pagination::PageRequest,
};
use uuid::Uuid;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::TopicStatus")]
pub enum TopicStatus {
    /// Raised; STAFF and its raiser see it.
    Draft,
    /// Residents discuss it.
    Discussion,
    /// The electoral roll is written down; voters cast ballots between the set times.
    Voting,
    /// Sealed: the result and the ballot list are shown.
    Closed,
    /// The result is published (公示).
    Published,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::BallotKind")]
pub enum BallotKind {
    /// 赞成 / 反对 / 弃权 (options 0, 1, 2).
    YesNoAbstain,
    OneOf,
    /// Up to `maxChoices` of the options.
    UpTo,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::VotingUnit")]
pub enum VotingUnit {
    /// One ballot per household (户): residents registered at one address share it.
    Household,
    Person,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::Electorate")]
pub enum Electorate {
    /// Residents the community confirmed (RESIDENT), registered in it (or the topic's grids) at an address.
    Residents,
    /// The community's confirmed Party members, for Party matters.
    PartyMembers,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::BallotSource")]
pub enum BallotSource {
    App,
    /// Entered by STAFF from a paper ballot cast at the community office.
    Paper,
}

pub struct Topic {
    model: topic::Model,
    /// Where the caller stands on its roll, when the list read that for its whole page.
    mine: Option<Option<Arc<Mine>>>,
}

impl From<topic::Model> for Topic {
    fn from(model: topic::Model) -> Self {
        Self { model, mine: None }
    }
}

impl Topic {
    async fn mine(&self, ctx: &Context<'_>) -> Result<Option<Arc<Mine>>> {
        if let Some(mine) = &self.mine {
            return Ok(mine.clone());
        }
        let actor = actor(ctx).await?;
        let state = state(ctx)?;
        let mut mine =
            consultations::mine(&state.db, &state.ballots, actor, &[self.model.id]).await?;
        Ok(mine.remove(&self.model.id).map(Arc::new))
    }
}

#[Object]
impl Topic {
    async fn id(&self) -> ID {
        to_id(self.model.id)
    }
    async fn community(&self, ctx: &Context<'_>) -> Result<Community> {
        Ok(Community(
            load_community(ctx, self.model.community_id).await?,
        ))
    }
    async fn title(&self) -> &str {
        &self.model.title
    }
    async fn body(&self) -> &str {
        &self.model.body
    }
    async fn status(&self) -> TopicStatus {
        self.model.status.into()
    }
    async fn ballot_kind(&self) -> BallotKind {
        self.model.ballot_kind.into()
    }
    /// The options, by index: a ballot chooses indexes.
    async fn options(&self) -> Vec<String> {
        consultations::options_of(&self.model)
    }
    async fn max_choices(&self) -> i32 {
        self.model.max_choices
    }
    async fn voting_unit(&self) -> VotingUnit {
        self.model.voting_unit.into()
    }
    async fn electorate(&self) -> Electorate {
        self.model.electorate.into()
    }
    async fn grid_ids(&self) -> Vec<ID> {
        serde_json::from_value::<Vec<uuid::Uuid>>(self.model.grid_ids.clone())
            .unwrap_or_default()
            .into_iter()
            .map(to_id)
            .collect()
    }
    /// The share of eligible voters that must vote for the result to be valid.
    async fn quorum_percent(&self) -> i32 {
        self.model.quorum_percent
    }
    async fn voting_starts_at(&self) -> DateTime<Utc> {
        self.model.voting_starts_at
    }
    async fn voting_ends_at(&self) -> DateTime<Utc> {
        self.model.voting_ends_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }
    /// When the result was published (公示); null before.
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.model.published_at
    }
    /// Until when those on the roll may object to the published result.
    async fn objections_close_at(&self) -> Option<DateTime<Utc>> {
        self.model.objections_close_at
    }
    /// Objections to the published result, newest first: all of them for the community's
    /// STAFF, my own for anyone else. Who objected is not shown.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn objections(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<async_graphql::connection::Connection<String, ResultObjection>> {
        let actor = actor(ctx).await?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let page = objections::of_topic(&state(ctx)?.db, actor, &self.model, request).await?;
        let me = actor.id;
        Ok(connection(
            page,
            request,
            |o| o.id,
            |objection| ResultObjection::new(objection, me),
        ))
    }
    /// Whether I am on the electoral roll (written when voting opens).
    async fn can_vote(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(self.mine(ctx).await?.is_some())
    }
    /// My (household's) ballot as it stands, for me alone.
    async fn my_ballot(&self, ctx: &Context<'_>) -> Result<Option<MyBallot>> {
        let mine = self.mine(ctx).await?;
        Ok(mine
            .as_ref()
            .and_then(|mine| mine.ballot.as_ref())
            .map(|(vote, filed)| MyBallot {
                source: vote.source.into(),
                cast_at: vote.cast_at,
                receipt: filed.as_ref().map(|f| f.receipt.clone()),
                choices: filed
                    .as_ref()
                    .map(|f| f.choices.clone())
                    .unwrap_or_default(),
            }))
    }
    /// The discussion, newest first. A comment STAFF hid shows without its text (but with
    /// the reason) to all but STAFF.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn comments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<async_graphql::connection::Connection<String, TopicComment>> {
        let actor = actor(ctx).await?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let page = comments::list(&state(ctx)?.db, actor, self.model.id, request).await?;
        let staff = actor.roles.is_staff_of(self.model.community_id);
        let me = actor.id;
        Ok(connection(
            page,
            request,
            |c| c.id,
            |comment| TopicComment { comment, staff, me },
        ))
    }
    /// The proposals (方案) STAFF put to it before the vote, oldest first (at most 10); a
    /// hidden one shows without its text to all but STAFF, as comments do.
    async fn proposals(&self, ctx: &Context<'_>) -> Result<Vec<TopicComment>> {
        let actor = actor(ctx).await?;
        let proposals = comments::proposals(&state(ctx)?.db, actor, self.model.id).await?;
        let staff = actor.roles.is_staff_of(self.model.community_id);
        let me = actor.id;
        Ok(proposals
            .into_iter()
            .map(|comment| TopicComment { comment, staff, me })
            .collect())
    }
    /// The sealed result, then any corrections: empty until the close, for everyone.
    async fn results(&self, ctx: &Context<'_>) -> Result<Vec<TopicResult>> {
        let rows = consultations::results(&state(ctx)?.db, &self.model).await?;
        let options = consultations::options_of(&self.model);
        Ok(rows
            .into_iter()
            .map(|row| TopicResult::new(row, &options))
            .collect())
    }
    /// The counted ballots by receipt, after the close: the list the result's digest is
    /// computed over (lines `receipt:choice,choice`, sorted, each ending in a newline,
    /// SHA-256). `after` is the last receipt of the previous page.
    #[graphql(complexity = "first.unwrap_or(100).max(0) as usize * child_complexity")]
    async fn ballots(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Vec<PublishedBallot>> {
        let first = first.unwrap_or(100).max(0) as u64;
        let filed =
            consultations::published_ballots(&state(ctx)?.db, &self.model, first, after).await?;
        Ok(filed.into_iter().map(PublishedBallot::from).collect())
    }
}

#[derive(SimpleObject)]
pub struct MyBallot {
    source: BallotSource,
    cast_at: DateTime<Utc>,
    /// The code to find my ballot in the published list.
    receipt: Option<String>,
    choices: Vec<i32>,
}

#[derive(SimpleObject)]
pub struct PublishedBallot {
    receipt: String,
    choices: Vec<i32>,
}

impl From<Filed> for PublishedBallot {
    fn from(filed: Filed) -> Self {
        Self {
            receipt: filed.receipt,
            choices: filed.choices,
        }
    }
}

#[derive(SimpleObject)]
pub struct OptionCount {
    option: String,
    ballots: i64,
}

/// A comment in a topic's discussion, or a proposal STAFF put to it.
pub struct TopicComment {
    comment: topic_comment::Model,
    /// Whether the reader is STAFF of the topic's community.
    staff: bool,
    me: Uuid,
}

#[Object]
impl TopicComment {
    async fn id(&self) -> ID {
        to_id(self.comment.id)
    }
    /// As on public notices (masked when the author opted out).
    async fn author_name(&self, ctx: &Context<'_>) -> Result<String> {
        let author = super::load_user(ctx, self.comment.author_id).await?;
        Ok(crate::identity::users::public_name(&author))
    }
    /// Whether I wrote it.
    async fn mine(&self) -> bool {
        self.comment.author_id == self.me
    }
    /// Null when STAFF hid it, except for STAFF and its author.
    async fn body(&self) -> Option<&str> {
        let shown =
            self.comment.hidden_at.is_none() || self.staff || self.comment.author_id == self.me;
        shown.then_some(self.comment.body.as_str())
    }
    /// A proposal's title (shown even when hidden); null on an ordinary comment.
    async fn proposal_title(&self) -> Option<&str> {
        self.comment.proposal_title.as_deref()
    }
    async fn hidden(&self) -> bool {
        self.comment.hidden_at.is_some()
    }
    /// Why STAFF hid it.
    async fn hidden_reason(&self) -> Option<&str> {
        self.comment.hidden_reason.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.comment.created_at
    }
}

#[derive(SimpleObject)]
pub struct TopicResult {
    /// 1 is the result sealed at the close; higher ones correct it.
    sequence: i32,
    counts: Vec<OptionCount>,
    /// Voters (households or persons) on the roll.
    eligible: i32,
    /// Voters who voted.
    turnout: i32,
    /// Whether the turnout reached the quorum.
    valid: bool,
    /// SHA-256 (hex) over the published ballot list.
    digest: String,
    /// Why a correction was made; null on the sealed result.
    reason: Option<String>,
    /// Who entered a correction; null on the sealed result.
    corrected_by_id: Option<ID>,
    created_at: DateTime<Utc>,
}

impl TopicResult {
    fn new(row: topic_result::Model, options: &[String]) -> Self {
        let counts: Vec<i64> = serde_json::from_value(row.counts).unwrap_or_default();
        Self {
            sequence: row.sequence,
            counts: options
                .iter()
                .zip(counts)
                .map(|(option, ballots)| OptionCount {
                    option: option.clone(),
                    ballots,
                })
                .collect(),
            eligible: row.eligible,
            turnout: row.turnout,
            valid: row.valid,
            digest: row.digest,
            reason: row.reason,
            corrected_by_id: row.created_by.map(to_id),
            created_at: row.created_at,
        }
    }
}

#[derive(InputObject)]
pub struct RaiseTopicInput {
    community_id: ID,
    /// Put to these grids' residents only; none: the whole community. At most 20.
    #[graphql(default, validator(max_items = 20))]
    grid_ids: Vec<ID>,
    /// 1–100 characters.
    title: String,
    body: String,
    ballot_kind: BallotKind,
    /// The options of ONE_OF and UP_TO ballots: 2–20 labels of one line.
    #[graphql(default, validator(max_items = 20))]
    options: Vec<String>,
    /// UP_TO: how many options a ballot may choose.
    max_choices: Option<i32>,
    #[graphql(default_with = "VotingUnit::Household")]
    voting_unit: VotingUnit,
    #[graphql(default_with = "Electorate::Residents")]
    electorate: Electorate,
    /// Default 50.
    #[graphql(default = 50)]
    quorum_percent: i32,
    voting_starts_at: DateTime<Utc>,
    voting_ends_at: DateTime<Utc>,
}

#[derive(SimpleObject)]
pub struct Receipt {
    /// Keep it: the published list shows each ballot under its receipt.
    receipt: String,
    choices: Vec<i32>,
}

impl From<Filed> for Receipt {
    fn from(filed: Filed) -> Self {
        Self {
            receipt: filed.receipt,
            choices: filed.choices,
        }
    }
}

#[derive(Default)]
pub struct ConsultationQuery;

#[Object]
impl ConsultationQuery {
    /// A community's topics, newest first: for its residents (drafts aside) and STAFF.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn topics(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<async_graphql::connection::Connection<String, Topic>> {
        let actor = actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        let request = PageRequest::parse(first, after.as_deref())?;
        let state = state(ctx)?;
        let page = consultations::list(&state.db, actor, community_id, request).await?;
        // The caller's standing on every listed topic in one go, when the list asks for it.
        let node = ctx.look_ahead().field("edges").field("node");
        let mut mine = if node.field("canVote").exists() || node.field("myBallot").exists() {
            let ids: Vec<Uuid> = page.items.iter().map(|t| t.id).collect();
            Some(consultations::mine(&state.db, &state.ballots, actor, &ids).await?)
        } else {
            None
        };
        Ok(connection(
            page,
            request,
            |t| t.id,
            |model| {
                let read = mine
                    .as_mut()
                    .map(|mine| mine.remove(&model.id).map(Arc::new));
                Topic { model, mine: read }
            },
        ))
    }

    async fn topic(&self, ctx: &Context<'_>, id: ID) -> Result<Topic> {
        let actor = actor(ctx).await?;
        let id = parse_id("id", &id)?;
        Ok(Topic::from(
            consultations::visible(&state(ctx)?.db, actor, id).await?,
        ))
    }
}

#[derive(Default)]
pub struct ConsultationMutation;

#[Object]
impl ConsultationMutation {
    /// A resident or STAFF of the community raises a topic (DRAFT); its texts pass content
    /// security.
    async fn raise_topic(&self, ctx: &Context<'_>, input: RaiseTopicInput) -> Result<Topic> {
        let actor = actor(ctx).await?;
        let grid_ids = input
            .grid_ids
            .iter()
            .map(|id| parse_id("gridIds", id))
            .collect::<Result<Vec<_>, _>>()?;
        let input = NewTopic {
            community_id: parse_id("communityId", &input.community_id)?,
            grid_ids,
            title: input.title,
            body: input.body,
            ballot_kind: input.ballot_kind.into(),
            options: input.options,
            max_choices: input.max_choices,
            voting_unit: input.voting_unit.into(),
            electorate: input.electorate.into(),
            quorum_percent: input.quorum_percent,
            voting_starts_at: input.voting_starts_at,
            voting_ends_at: input.voting_ends_at,
        };
        let state = state(ctx)?;
        Ok(Topic::from(
            consultations::raise(&state.db, &state.content, actor, input).await?,
        ))
    }

    /// A resident who may see the topic comments on it while it is under DISCUSSION (at
    /// most 20 comments a topic); the text passes content security.
    async fn post_topic_comment(
        &self,
        ctx: &Context<'_>,
        topic_id: ID,
        body: String,
    ) -> Result<TopicComment> {
        let actor = actor(ctx).await?;
        let topic_id = parse_id("topicId", &topic_id)?;
        let state = state(ctx)?;
        let comment = comments::post(&state.db, &state.content, actor, topic_id, body).await?;
        Ok(TopicComment {
            comment,
            staff: false,
            me: actor.id,
        })
    }

    /// STAFF of the community put a proposal (方案) to a topic before its vote (DRAFT or
    /// DISCUSSION; at most 10 a topic); title and body pass content security. STAFF hide one
    /// as they hide a comment.
    async fn post_topic_proposal(
        &self,
        ctx: &Context<'_>,
        topic_id: ID,
        title: String,
        body: String,
    ) -> Result<TopicComment> {
        let actor = actor(ctx).await?;
        let topic_id = parse_id("topicId", &topic_id)?;
        let state = state(ctx)?;
        let proposal =
            comments::propose(&state.db, &state.content, actor, topic_id, title, body).await?;
        Ok(TopicComment {
            comment: proposal,
            staff: true,
            me: actor.id,
        })
    }

    /// STAFF of the community hide a comment, with a reason shown in its place.
    async fn hide_topic_comment(
        &self,
        ctx: &Context<'_>,
        comment_id: ID,
        reason: String,
    ) -> Result<TopicComment> {
        let actor = actor(ctx).await?;
        let comment_id = parse_id("commentId", &comment_id)?;
        let state = state(ctx)?;
        let comment = comments::hide(&state.db, &state.content, actor, comment_id, reason).await?;
        Ok(TopicComment {
            comment,
            staff: true,
            me: actor.id,
        })
    }

    /// Someone on a topic's roll objects to its published result: once, within the
    /// objection window; the reason passes content security.
    async fn object_to_topic_result(
        &self,
        ctx: &Context<'_>,
        topic_id: ID,
        reason: String,
    ) -> Result<ResultObjection> {
        let actor = actor(ctx).await?;
        let topic_id = parse_id("topicId", &topic_id)?;
        let state = state(ctx)?;
        let objection = objections::object(
            &state.db,
            &state.content,
            actor,
            topic_id,
            reason,
            Utc::now(),
        )
        .await?;
        Ok(ResultObjection::new(objection, actor.id))
    }

    /// STAFF of the community (not the objector) answer an objection, once. A result found
    /// wrong is then corrected with correctTopicResult.
    async fn answer_topic_objection(
        &self,
        ctx: &Context<'_>,
        objection_id: ID,
        answer: String,
    ) -> Result<ResultObjection> {
        let actor = actor(ctx).await?;
        let objection_id = parse_id("objectionId", &objection_id)?;
        let state = state(ctx)?;
        let objection =
            objections::answer(&state.db, &state.content, actor, objection_id, answer).await?;
        Ok(ResultObjection::new(objection, actor.id))
    }

    /// STAFF of the community correct a closed topic's result (a recount of paper ballots,
    /// …): a further result, shown beside the sealed one with the reason and who entered it.
    async fn correct_topic_result(
        &self,
        ctx: &Context<'_>,
        topic_id: ID,
        #[graphql(validator(max_items = 20))] counts: Vec<i64>,
        turnout: i32,
        reason: String,
    ) -> Result<TopicResult> {
        let actor = actor(ctx).await?;
        let correction = consultations::Correction {
            topic_id: parse_id("topicId", &topic_id)?,
            counts,
            turnout,
            reason,
        };
        let state = state(ctx)?;
        let (topic, row) =
            consultations::correct(&state.db, &state.content, actor, correction).await?;
        Ok(TopicResult::new(row, &consultations::options_of(&topic)))
    }

    /// STAFF move a topic on: DISCUSSION, VOTING (writes the electoral roll), CLOSED (seals
    /// the result; the job `topic-close` also closes topics at their end), PUBLISHED.
    async fn advance_topic(
        &self,
        ctx: &Context<'_>,
        topic_id: ID,
        to: TopicStatus,
    ) -> Result<Topic> {
        let actor = actor(ctx).await?;
        let topic_id = parse_id("topicId", &topic_id)?;
        let topic = consultations::advance(&state(ctx)?.db, actor, topic_id, to.into()).await?;
        Ok(Topic::from(settle(ctx, topic).await?))
    }

    /// A voter on the roll casts their (household's) ballot, or changes it while voting is
    /// open: the last one counts. `choices` are option indexes.
    async fn cast_ballot(
        &self,
        ctx: &Context<'_>,
        topic_id: ID,
        #[graphql(validator(max_items = 20))] choices: Vec<i32>,
    ) -> Result<Receipt> {
        let actor = actor(ctx).await?;
        let topic_id = parse_id("topicId", &topic_id)?;
        let state = state(ctx)?;
        let filed =
            consultations::cast(&state.db, &state.ballots, actor, topic_id, &choices).await?;
        Ok(filed.into())
    }

    /// STAFF enter a paper ballot cast at the office by `userId` (on the roll); that
    /// household or person cannot then vote in the app, nor the other way round.
    async fn record_paper_ballot(
        &self,
        ctx: &Context<'_>,
        topic_id: ID,
        user_id: ID,
        #[graphql(validator(max_items = 20))] choices: Vec<i32>,
    ) -> Result<Receipt> {
        let actor = actor(ctx).await?;
        let topic_id = parse_id("topicId", &topic_id)?;
        let user_id = parse_id("userId", &user_id)?;
        let state = state(ctx)?;
        let filed = consultations::record_paper(
            &state.db,
            &state.ballots,
            actor,
            topic_id,
            user_id,
            &choices,
        )
        .await?;
        Ok(filed.into())
    }
}

//! Consultations and votes (议事, 有事好商量): a topic is raised by a resident or STAFF and
//! follows `DRAFT → DISCUSSION → VOTING → CLOSED → PUBLISHED`, moved on by the community's
//! STAFF. When voting opens the electoral roll is written down; each household (or person)
//! on it casts one ballot, in the app or on paper at the office, and may change it while
//! voting is open. Who voted is kept apart from what was chosen; nothing of the result, the
//! turnout included, is shown before the close, when it is sealed once with a digest anyone
//! can recompute from the published (receipt, choices) list.
pub mod comments;
pub mod objections;
pub mod rules;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    enums::{BallotKind, BallotSource, Electorate, Role, TopicStatus, VotingUnit},
    grid, role_grant, topic, topic_ballot, topic_elector, topic_result, topic_vote, user,
};
use hmac::{Hmac, Mac};
use rand::Rng;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, Func, OnConflict, Query},
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    content::{ContentGuard, Scene},
    error::{AppError, AppResult},
    identity::{Actor, get_user},
    infra::db::begin_write,
    notify::{Committed, Events},
    pagination::{Page, PageRequest, fetch_page},
    validate,
};

/// Most grids one topic is put to.
pub const MAX_GRIDS: usize = 20;
/// Most published ballots one page lists.
pub const MAX_BALLOTS_PAGE: u64 = 500;
/// Rows of the electoral roll written per statement.
const ROLL_CHUNK: usize = 500;

/// The key that files each voter's ballot in a slot only the servers can find again, so that a
/// changed ballot replaces the last one while the ballot row names no one. Derived from the
/// servers' shared secret: every instance files ballots alike.
#[derive(Clone)]
pub struct BallotBox {
    key: [u8; 32],
}

impl BallotBox {
    pub fn new(secret: &[u8]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"hongfan ballot slots\0");
        hasher.update(secret);
        Self {
            key: hasher.finalize().into(),
        }
    }

    pub(crate) fn slot(&self, topic: Uuid, voter_key: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(topic.as_bytes());
        mac.update(voter_key.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Names the key without revealing it: a ballot filed under another key (a server that
    /// restarted with a new random secret) cannot be found to be replaced.
    fn epoch(&self) -> String {
        hex::encode(&Sha256::digest(self.key)[..8])
    }
}

pub struct NewTopic {
    pub community_id: Uuid,
    pub grid_ids: Vec<Uuid>,
    pub title: String,
    pub body: String,
    pub ballot_kind: BallotKind,
    pub options: Vec<String>,
    pub max_choices: Option<i32>,
    pub voting_unit: VotingUnit,
    pub electorate: Electorate,
    pub quorum_percent: i32,
    pub voting_starts_at: DateTime<Utc>,
    pub voting_ends_at: DateTime<Utc>,
}

/// Residents raise topics for their own community; STAFF for theirs.
pub async fn raise(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    input: NewTopic,
) -> AppResult<topic::Model> {
    let me = get_user(db, actor.id).await?;
    if me.community_id != Some(input.community_id) && !actor.roles.is_staff_of(input.community_id) {
        return Err(AppError::forbidden(
            "topics are raised by residents and STAFF of the community",
        ));
    }
    let title = validate::text("title", &input.title, 1, 100)?;
    let body = validate::text("body", &input.body, 1, validate::LONGEST_TEXT)?;
    let options = rules::options(input.ballot_kind, input.options)?;
    let max_choices = rules::max_choices(input.ballot_kind, options.len(), input.max_choices)?;
    if !(0..=100).contains(&input.quorum_percent) {
        return Err(AppError::bad_input("quorumPercent is between 0 and 100"));
    }
    if input.voting_ends_at <= input.voting_starts_at {
        return Err(AppError::bad_input("voting ends after it starts"));
    }
    if input.voting_ends_at <= Utc::now() {
        return Err(AppError::bad_input("voting must end in the future"));
    }
    if input.grid_ids.len() > MAX_GRIDS {
        return Err(AppError::bad_input(format!(
            "a topic is put to at most {MAX_GRIDS} grids"
        )));
    }
    let mut grid_ids = input.grid_ids.clone();
    grid_ids.sort();
    grid_ids.dedup();
    if !grid_ids.is_empty() {
        let found = grid::Entity::find()
            .filter(grid::Column::Id.is_in(grid_ids.iter().copied()))
            .filter(grid::Column::CommunityId.eq(input.community_id))
            .count(db)
            .await?;
        if found != grid_ids.len() as u64 {
            return Err(AppError::bad_input("the grids are the community's own"));
        }
    }
    let [title, body, options_text] = content
        .clear_all(
            db,
            actor,
            Scene::Forum,
            [
                ("title", title),
                ("body", body),
                ("options", options.join("\n")),
            ],
        )
        .await?;
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let topic = topic::ActiveModel {
        id: Set(Uuid::now_v7()),
        community_id: Set(input.community_id),
        grid_ids: Set(serde_json::json!(input.grid_ids)),
        title: Set(title.record(&txn).await?),
        body: Set(body.record(&txn).await?),
        raised_by: Set(actor.id),
        status: Set(TopicStatus::Draft),
        ballot_kind: Set(input.ballot_kind),
        options: Set(serde_json::json!(
            options_text
                .record(&txn)
                .await?
                .split('\n')
                .collect::<Vec<_>>()
        )),
        max_choices: Set(max_choices),
        voting_unit: Set(input.voting_unit),
        electorate: Set(input.electorate),
        quorum_percent: Set(input.quorum_percent),
        voting_starts_at: Set(input.voting_starts_at),
        voting_ends_at: Set(input.voting_ends_at),
        created_at: Set(now),
        updated_at: Set(now),
        published_at: Set(None),
        objections_close_at: Set(None),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(topic)
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> AppResult<topic::Model> {
    topic::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("topic"))
}

/// Residents of the community and its STAFF see its topics; drafts only their raiser and
/// STAFF.
pub async fn visible(db: &DatabaseConnection, actor: &Actor, id: Uuid) -> AppResult<topic::Model> {
    let topic = get(db, id).await?;
    if may_see(db, actor, &topic).await? {
        Ok(topic)
    } else {
        Err(AppError::NotFound("topic"))
    }
}

async fn may_see(db: &DatabaseConnection, actor: &Actor, topic: &topic::Model) -> AppResult<bool> {
    if actor.roles.is_staff_of(topic.community_id) || topic.raised_by == actor.id {
        return Ok(true);
    }
    let resident = get_user(db, actor.id).await?.community_id == Some(topic.community_id);
    Ok(resident && topic.status != TopicStatus::Draft)
}

/// A community's topics, newest first.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    community_id: Uuid,
    page: PageRequest,
) -> AppResult<Page<topic::Model>> {
    let staff = actor.roles.is_staff_of(community_id);
    if !staff && get_user(db, actor.id).await?.community_id != Some(community_id) {
        return Err(AppError::forbidden(
            "a community's topics are for its residents and STAFF",
        ));
    }
    let mut select = topic::Entity::find().filter(topic::Column::CommunityId.eq(community_id));
    if !staff {
        select = select.filter(
            Condition::any()
                .add(topic::Column::Status.ne(TopicStatus::Draft))
                .add(topic::Column::RaisedBy.eq(actor.id)),
        );
    }
    fetch_page(db, select, topic::Column::Id, page).await
}

/// STAFF move a topic on one phase: opening the vote writes down the electoral roll, closing
/// it seals the result, publishing it opens the objection window and tells those on the roll;
/// each in the transaction that changes the phase.
pub async fn advance(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    to: TopicStatus,
) -> AppResult<Committed<topic::Model>> {
    let topic = get(db, id).await?;
    if !actor.roles.is_staff_of(topic.community_id) {
        return Err(AppError::forbidden(
            "STAFF of the community move its topics on",
        ));
    }
    let from: &[TopicStatus] = match to {
        TopicStatus::Discussion => &[TopicStatus::Draft],
        TopicStatus::Voting => &[TopicStatus::Draft, TopicStatus::Discussion],
        TopicStatus::Closed => &[TopicStatus::Voting],
        TopicStatus::Published => &[TopicStatus::Closed],
        TopicStatus::Draft => &[],
    };
    let now = Utc::now();
    if to == TopicStatus::Voting && now >= topic.voting_ends_at {
        return Err(AppError::conflict("its voting time has passed"));
    }
    let txn = begin_write(db).await?;
    if !step(&txn, id, from, to, now).await? {
        return Err(AppError::conflict(format!(
            "a {:?} topic cannot move to {to:?}",
            topic.status
        )));
    }
    let mut events = Events::default();
    match to {
        TopicStatus::Voting => write_roll(&txn, &topic).await?,
        TopicStatus::Closed => seal(&txn, &topic, now).await?,
        TopicStatus::Published => {
            events.push(objections::publish(&txn, &topic, now).await?);
        }
        _ => {}
    }
    let topic = get(&txn, id).await?;
    events.commit(txn, topic).await
}

/// The compare-and-set on a topic's phase. Casting a ballot locks the same row, so a close
/// waits for ballots in flight and the seal counts them all.
async fn step(
    txn: &DatabaseTransaction,
    id: Uuid,
    from: &[TopicStatus],
    to: TopicStatus,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let changed = topic::Entity::update_many()
        .col_expr(topic::Column::Status, Expr::value(to))
        .col_expr(topic::Column::UpdatedAt, Expr::value(now))
        .filter(topic::Column::Id.eq(id))
        .filter(topic::Column::Status.is_in(from.iter().copied()))
        .exec(txn)
        .await?;
    Ok(changed.rows_affected == 1)
}

/// The electoral roll: the community's confirmed residents (RESIDENT) or Party members,
/// registered in it (or its chosen grids) at an address.
async fn write_roll(txn: &DatabaseTransaction, topic: &topic::Model) -> AppResult<()> {
    let grids: Vec<Uuid> = serde_json::from_value(topic.grid_ids.clone()).unwrap_or_default();
    let mut people = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::Address)
        .filter(user::Column::CommunityId.eq(topic.community_id));
    if !grids.is_empty() {
        people = people.filter(user::Column::GridId.is_in(grids));
    }
    // Confirmed by the community, not only registered in a profile.
    let role = match topic.electorate {
        Electorate::Residents => Role::Resident,
        Electorate::PartyMembers => Role::PartyMember,
    };
    let confirmed = Query::select()
        .column(role_grant::Column::UserId)
        .from(role_grant::Entity)
        .and_where(role_grant::Column::Role.eq(role))
        .and_where(role_grant::Column::CommunityId.eq(topic.community_id))
        .to_owned();
    people = people.filter(user::Column::Id.in_subquery(confirmed));
    let people: Vec<(Uuid, Option<String>)> = people.into_tuple().all(txn).await?;
    let roll: Vec<topic_elector::ActiveModel> = people
        .into_iter()
        .filter_map(|(user_id, address)| {
            let address = address.filter(|address| !address.trim().is_empty())?;
            let voter_key = match topic.voting_unit {
                VotingUnit::Household => rules::household_key(topic.community_id, &address),
                VotingUnit::Person => rules::person_key(user_id),
            };
            Some(topic_elector::ActiveModel {
                topic_id: Set(topic.id),
                user_id: Set(user_id),
                voter_key: Set(voter_key),
            })
        })
        .collect();
    for chunk in roll.chunks(ROLL_CHUNK) {
        topic_elector::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// Counts the ballots once, at the close, into the result's first row.
async fn seal(
    txn: &DatabaseTransaction,
    topic: &topic::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let ballots = topic_ballot::Entity::find()
        .filter(topic_ballot::Column::TopicId.eq(topic.id))
        .all(txn)
        .await?;
    let chosen: Vec<Filed> = ballots.into_iter().map(Filed::from).collect();
    let options = options_of(topic).len();
    let counts = rules::tally(options, chosen.iter().map(|b| b.choices.as_slice()));
    let digest = rules::digest(
        chosen
            .iter()
            .map(|b| (b.receipt.as_str(), b.choices.as_slice())),
    );
    let eligible: i64 = topic_elector::Entity::find()
        .select_only()
        .column_as(
            Expr::from(Func::count_distinct(Expr::col(
                topic_elector::Column::VoterKey,
            ))),
            "eligible",
        )
        .filter(topic_elector::Column::TopicId.eq(topic.id))
        .into_tuple()
        .one(txn)
        .await?
        .unwrap_or(0);
    let turnout = topic_vote::Entity::find()
        .filter(topic_vote::Column::TopicId.eq(topic.id))
        .count(txn)
        .await? as i64;
    topic_result::ActiveModel {
        id: Set(Uuid::now_v7()),
        topic_id: Set(topic.id),
        sequence: Set(1),
        counts: Set(serde_json::json!(counts)),
        eligible: Set(eligible as i32),
        turnout: Set(turnout as i32),
        valid: Set(rules::quorum_met(turnout, eligible, topic.quorum_percent)),
        digest: Set(digest),
        reason: Set(None),
        created_by: Set(None),
        created_at: Set(now),
    }
    .insert(txn)
    .await?;
    Ok(())
}

pub fn options_of(topic: &topic::Model) -> Vec<String> {
    serde_json::from_value(topic.options.clone()).unwrap_or_default()
}

/// A ballot as it was filed: the receipt its voter holds and what it chose.
pub struct Filed {
    pub receipt: String,
    pub choices: Vec<i32>,
}

impl From<topic_ballot::Model> for Filed {
    fn from(ballot: topic_ballot::Model) -> Self {
        Self {
            receipt: ballot.receipt,
            choices: serde_json::from_value(ballot.choices).unwrap_or_default(),
        }
    }
}

/// The caller casts (or changes) their ballot; the last one counts.
pub async fn cast(
    db: &DatabaseConnection,
    ballots: &BallotBox,
    actor: &Actor,
    topic_id: Uuid,
    choices: &[i32],
) -> AppResult<Filed> {
    visible(db, actor, topic_id).await?;
    file(
        db,
        ballots,
        topic_id,
        actor.id,
        actor.id,
        BallotSource::App,
        choices,
    )
    .await
}

/// STAFF enter a ballot cast on paper at the community office, for a voter on the roll.
pub async fn record_paper(
    db: &DatabaseConnection,
    ballots: &BallotBox,
    actor: &Actor,
    topic_id: Uuid,
    voter_id: Uuid,
    choices: &[i32],
) -> AppResult<Filed> {
    let topic = get(db, topic_id).await?;
    if !actor.roles.is_staff_of(topic.community_id) {
        return Err(AppError::forbidden(
            "STAFF of the community enter paper ballots",
        ));
    }
    file(
        db,
        ballots,
        topic_id,
        voter_id,
        actor.id,
        BallotSource::Paper,
        choices,
    )
    .await
}

async fn file(
    db: &DatabaseConnection,
    ballots: &BallotBox,
    topic_id: Uuid,
    voter_id: Uuid,
    cast_by: Uuid,
    source: BallotSource,
    chosen: &[i32],
) -> AppResult<Filed> {
    let now = Utc::now();
    let txn = begin_write(db).await?;
    // Locks the topic's row while this ballot is filed: a close waits for it (see `step`).
    if !step(
        &txn,
        topic_id,
        &[TopicStatus::Voting],
        TopicStatus::Voting,
        now,
    )
    .await?
    {
        // Not found and not open read alike to outsiders: both say nothing of the topic.
        return Err(AppError::conflict("this topic is not open for voting"));
    }
    let topic = get(&txn, topic_id).await?;
    if now < topic.voting_starts_at || now >= topic.voting_ends_at {
        return Err(AppError::conflict("this topic is not open for voting"));
    }
    let choices = rules::choices(options_of(&topic).len(), topic.max_choices, chosen)?;
    let elector = topic_elector::Entity::find_by_id((topic_id, voter_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::forbidden("not on this topic's electoral roll"))?;
    let epoch = ballots.epoch();
    let voted = topic_vote::Entity::find_by_id((topic_id, elector.voter_key.clone()))
        .one(&txn)
        .await?;
    if let Some(voted) = &voted {
        if voted.source != source {
            return Err(AppError::conflict(match voted.source {
                BallotSource::Paper => "this ballot was cast on paper at the community office",
                BallotSource::App => "this ballot was cast in the app",
            }));
        }
        if voted.key_epoch != epoch {
            return Err(AppError::conflict(
                "this ballot was filed before the servers' secret changed and cannot be changed",
            ));
        }
    }
    topic_vote::Entity::insert(topic_vote::ActiveModel {
        topic_id: Set(topic_id),
        voter_key: Set(elector.voter_key.clone()),
        user_id: Set(cast_by),
        source: Set(source),
        key_epoch: Set(epoch),
        cast_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([topic_vote::Column::TopicId, topic_vote::Column::VoterKey])
            .update_columns([topic_vote::Column::UserId, topic_vote::Column::CastAt])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let receipt = receipt();
    topic_ballot::Entity::insert(topic_ballot::ActiveModel {
        topic_id: Set(topic_id),
        slot: Set(ballots.slot(topic_id, &elector.voter_key)),
        receipt: Set(receipt.clone()),
        choices: Set(serde_json::json!(choices)),
        cast_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([topic_ballot::Column::TopicId, topic_ballot::Column::Slot])
            .update_columns([
                topic_ballot::Column::Receipt,
                topic_ballot::Column::Choices,
                topic_ballot::Column::CastAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(Filed { receipt, choices })
}

/// 10 characters of an alphabet without look-alikes: 50 bits, unguessable among a ballot list.
pub(crate) fn receipt() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut rng = rand::rng();
    (0..10)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// The caller on a topic's roll: their (household's) ballot as it stands, if they cast one.
pub struct Mine {
    pub ballot: Option<(topic_vote::Model, Option<Filed>)>,
}

/// Where the caller stands on each of these topics' rolls (written when voting opens), in
/// three queries however many topics: a topic they are not on is not in the map.
pub async fn mine(
    db: &DatabaseConnection,
    ballots: &BallotBox,
    actor: &Actor,
    topic_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Mine>> {
    if topic_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let electors = topic_elector::Entity::find()
        .filter(topic_elector::Column::TopicId.is_in(topic_ids.iter().copied()))
        .filter(topic_elector::Column::UserId.eq(actor.id))
        .all(db)
        .await?;
    let keys: Vec<String> = electors.iter().map(|e| e.voter_key.clone()).collect();
    let mut votes: HashMap<(Uuid, String), topic_vote::Model> = HashMap::new();
    if !keys.is_empty() {
        for vote in topic_vote::Entity::find()
            .filter(topic_vote::Column::TopicId.is_in(electors.iter().map(|e| e.topic_id)))
            .filter(topic_vote::Column::VoterKey.is_in(keys))
            .all(db)
            .await?
        {
            votes.insert((vote.topic_id, vote.voter_key.clone()), vote);
        }
    }
    let slots: HashMap<Uuid, String> = electors
        .iter()
        .filter(|e| votes.contains_key(&(e.topic_id, e.voter_key.clone())))
        .map(|e| (e.topic_id, ballots.slot(e.topic_id, &e.voter_key)))
        .collect();
    let mut filed: HashMap<(Uuid, String), Filed> = HashMap::new();
    if !slots.is_empty() {
        for ballot in topic_ballot::Entity::find()
            .filter(topic_ballot::Column::TopicId.is_in(slots.keys().copied()))
            .filter(topic_ballot::Column::Slot.is_in(slots.values().cloned()))
            .all(db)
            .await?
        {
            filed.insert((ballot.topic_id, ballot.slot.clone()), Filed::from(ballot));
        }
    }
    Ok(electors
        .into_iter()
        .map(|elector| {
            let vote = votes.remove(&(elector.topic_id, elector.voter_key));
            let ballot = vote.map(|vote| {
                let mine = slots
                    .get(&elector.topic_id)
                    .and_then(|slot| filed.remove(&(elector.topic_id, slot.clone())));
                (vote, mine)
            });
            (elector.topic_id, Mine { ballot })
        })
        .collect())
}

/// A correction of a closed topic's result, as STAFF enter it.
pub struct Correction {
    pub topic_id: Uuid,
    /// Ballots per option, in the options' order.
    pub counts: Vec<i64>,
    pub turnout: i32,
    pub reason: String,
}

/// STAFF of the community correct a closed topic's result (a recount of paper ballots, …): a
/// further row beside the sealed one, with its reason and who entered it; nothing is changed.
pub async fn correct(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    correction: Correction,
) -> AppResult<(topic::Model, topic_result::Model)> {
    let topic = get(db, correction.topic_id).await?;
    if !actor.roles.is_staff_of(topic.community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community correct its results",
        ));
    }
    if correction.counts.len() != options_of(&topic).len()
        || correction.counts.iter().any(|count| *count < 0)
    {
        return Err(AppError::bad_input(
            "counts gives a number of ballots, 0 or more, for each option in order",
        ));
    }
    let reason = validate::text("reason", &correction.reason, 1, 500)?;
    let reason = content
        .clear(db, actor, Scene::Comment, "reason", reason)
        .await?;
    let txn = begin_write(db).await?;
    let topic = get(&txn, topic.id).await?;
    if !closed(&topic) {
        return Err(AppError::conflict(
            "a result is corrected after the close, once it is sealed",
        ));
    }
    let last = topic_result::Entity::find()
        .filter(topic_result::Column::TopicId.eq(topic.id))
        .order_by_desc(topic_result::Column::Sequence)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::conflict("this topic has no sealed result"))?;
    if !(0..=last.eligible).contains(&correction.turnout) {
        return Err(AppError::bad_input(format!(
            "turnout is between 0 and the {} on the roll",
            last.eligible
        )));
    }
    // Two corrections entered at once get the same sequence: the unique index refuses one.
    let corrected = topic_result::ActiveModel {
        id: Set(Uuid::now_v7()),
        topic_id: Set(topic.id),
        sequence: Set(last.sequence + 1),
        counts: Set(serde_json::json!(correction.counts)),
        eligible: Set(last.eligible),
        turnout: Set(correction.turnout),
        valid: Set(rules::quorum_met(
            i64::from(correction.turnout),
            i64::from(last.eligible),
            topic.quorum_percent,
        )),
        // The published ballots are what they were; the reason says what the list does not.
        digest: Set(last.digest),
        reason: Set(Some(reason.record(&txn).await?)),
        created_by: Set(Some(actor.id)),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok((topic, corrected))
}

fn closed(topic: &topic::Model) -> bool {
    matches!(topic.status, TopicStatus::Closed | TopicStatus::Published)
}

/// The sealed result and any corrections, oldest first: nothing before the close.
pub async fn results(
    db: &DatabaseConnection,
    topic: &topic::Model,
) -> AppResult<Vec<topic_result::Model>> {
    if !closed(topic) {
        return Ok(Vec::new());
    }
    Ok(topic_result::Entity::find()
        .filter(topic_result::Column::TopicId.eq(topic.id))
        .order_by_asc(topic_result::Column::Sequence)
        .all(db)
        .await?)
}

/// The published ballots, by receipt, after the close: what the digest is computed over.
pub async fn published_ballots(
    db: &DatabaseConnection,
    topic: &topic::Model,
    first: u64,
    after: Option<String>,
) -> AppResult<Vec<Filed>> {
    if !closed(topic) {
        return Ok(Vec::new());
    }
    if !(1..=MAX_BALLOTS_PAGE).contains(&first) {
        return Err(AppError::bad_input(format!(
            "first must be between 1 and {MAX_BALLOTS_PAGE}"
        )));
    }
    let mut select = topic_ballot::Entity::find()
        .filter(topic_ballot::Column::TopicId.eq(topic.id))
        .order_by_asc(topic_ballot::Column::Receipt)
        .limit(first);
    if let Some(after) = after {
        select = select.filter(topic_ballot::Column::Receipt.gt(after));
    }
    Ok(select.all(db).await?.into_iter().map(Filed::from).collect())
}

/// Closes the topics whose voting time is over, each sealed in its own transaction: the job
/// `topic-close`.
pub async fn close_due(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<u64> {
    let due = topic::Entity::find()
        .filter(topic::Column::Status.eq(TopicStatus::Voting))
        .filter(topic::Column::VotingEndsAt.lte(now))
        .limit(100)
        .all(db)
        .await?;
    let mut closed = 0;
    for topic in due {
        let txn = begin_write(db).await?;
        if step(
            &txn,
            topic.id,
            &[TopicStatus::Voting],
            TopicStatus::Closed,
            now,
        )
        .await?
        {
            seal(&txn, &topic, now).await?;
            closed += 1;
        }
        txn.commit().await?;
    }
    Ok(closed)
}

/// What an area's consultations came to: topics raised in the period, how many reached a
/// sealed result, their average turnout (share of the roll) and time from raising to the
/// sealed result. For `governanceStats`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Figures {
    pub topics: i64,
    pub decided: i64,
    pub average_turnout: Option<f64>,
    pub average_days_to_decision: Option<f64>,
}

pub async fn figures(
    db: &DatabaseConnection,
    span: &crate::pagination::Span,
) -> AppResult<Figures> {
    let topics: Vec<(Uuid, DateTime<Utc>)> = topic::Entity::find()
        .select_only()
        .column(topic::Column::Id)
        .column(topic::Column::CreatedAt)
        .filter(topic::Column::CommunityId.is_in(span.communities.iter().copied()))
        .filter(topic::Column::CreatedAt.gte(span.from))
        .filter(topic::Column::CreatedAt.lt(span.to))
        .into_tuple()
        .all(db)
        .await?;
    let raised: HashMap<Uuid, DateTime<Utc>> = topics.iter().copied().collect();
    let sealed = if raised.is_empty() {
        Vec::new()
    } else {
        topic_result::Entity::find()
            .filter(topic_result::Column::TopicId.is_in(raised.keys().copied()))
            .filter(topic_result::Column::Sequence.eq(1))
            .all(db)
            .await?
    };
    let decided = sealed.len();
    let turnouts: Vec<f64> = sealed
        .iter()
        .filter(|r| r.eligible > 0)
        .map(|r| f64::from(r.turnout) / f64::from(r.eligible))
        .collect();
    let days: Vec<f64> = sealed
        .iter()
        .filter_map(|r| {
            let raised_at = raised.get(&r.topic_id)?;
            Some((r.created_at - *raised_at).num_seconds() as f64 / 86_400.0)
        })
        .collect();
    let mean = |values: &[f64]| {
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    };
    Ok(Figures {
        topics: topics.len() as i64,
        decided: decided as i64,
        average_turnout: mean(&turnouts),
        average_days_to_decision: mean(&days),
    })
}

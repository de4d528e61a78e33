//! Property companies and the street's quarterly red/black list (物业红黑榜). A community's
//! STAFF record which PROPERTY_COMPANY merchant serves it, from when. Each quarter the street
//! opens a rating round: confirmed households of its served communities score their company on
//! five dimensions, one rating per household (changeable while the round is open), kept apart
//! from who rated as ballots are. At the close the round is sealed once: per company the
//! households, the averages, the facts its communities' orders tell and the combined score
//! that lists it red, black or neither; nothing of it shows before.
pub mod notice;
pub mod rules;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{
    enums::{AlertLevel, MerchantKind, MerchantStatus, Role, RoundStatus},
    order, order_event, property_rater, property_result, property_round, property_score,
    property_service, role_grant, user,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    sea_query::OnConflict,
};
use uuid::Uuid;

use crate::{
    consultations::{
        BallotBox, receipt,
        rules::{household_key, sealed_digest},
    },
    error::{AppError, AppResult},
    identity::{Actor, get_user},
    infra::db::begin_write,
    merchants,
    notify::{Committed, Dispatcher, Events},
    organisation, publication,
    values::Quarter,
};
use rules::{DIMENSIONS, Facts, Listing};

/// Most published ratings one page lists.
pub const MAX_RATINGS_PAGE: u64 = 500;

/// A community's STAFF (or its street's) record the company that serves it from `starts_at`;
/// the one serving before stops then.
pub async fn assign(
    db: &DatabaseConnection,
    actor: &Actor,
    community_id: Uuid,
    company_id: Uuid,
    starts_at: DateTime<Utc>,
) -> AppResult<property_service::Model> {
    let community = organisation::get_community(db, community_id).await?;
    if !actor.roles.is_staff_of(community_id)
        && !actor.roles.is_street_staff_of(community.street_id)
    {
        return Err(AppError::forbidden(
            "only STAFF of the community or of its street record its property company",
        ));
    }
    let company = merchants::get(db, company_id).await?;
    if company.kind != MerchantKind::PropertyCompany || company.status != MerchantStatus::Active {
        return Err(AppError::bad_input(
            "choose an approved merchant of kind PROPERTY_COMPANY",
        ));
    }
    let txn = begin_write(db).await?;
    property_service::Entity::update_many()
        .col_expr(
            property_service::Column::EndsAt,
            sea_orm::sea_query::Expr::value(starts_at),
        )
        .filter(property_service::Column::CommunityId.eq(community_id))
        .filter(property_service::Column::EndsAt.is_null())
        .exec(&txn)
        .await?;
    let service = property_service::ActiveModel {
        id: Set(Uuid::now_v7()),
        community_id: Set(community_id),
        company_id: Set(company_id),
        starts_at: Set(starts_at),
        ends_at: Set(None),
        created_by: Set(actor.id),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(service)
}

/// The company serving a community at `at`.
pub async fn serving(
    db: &impl ConnectionTrait,
    community_id: Uuid,
    at: DateTime<Utc>,
) -> AppResult<Option<property_service::Model>> {
    Ok(property_service::Entity::find()
        .filter(property_service::Column::CommunityId.eq(community_id))
        .filter(property_service::Column::StartsAt.lte(at))
        .filter(
            property_service::Column::EndsAt
                .is_null()
                .or(property_service::Column::EndsAt.gt(at)),
        )
        .order_by_desc(property_service::Column::StartsAt)
        .one(db)
        .await?)
}

pub struct NewRound {
    pub street_id: Uuid,
    pub quarter: Quarter,
    pub closes_at: DateTime<Utc>,
    pub red_bar: i32,
    pub black_bar: i32,
}

/// STREET_STAFF open their street's rating for a quarter (once per quarter).
pub async fn open_round(
    db: &DatabaseConnection,
    actor: &Actor,
    new: NewRound,
) -> AppResult<property_round::Model> {
    organisation::get_street(db, new.street_id).await?;
    if !actor.roles.is_street_staff_of(new.street_id) {
        return Err(AppError::forbidden(
            "only STREET_STAFF of the street open its property rating",
        ));
    }
    if !(0..=100).contains(&new.black_bar)
        || !(0..=100).contains(&new.red_bar)
        || new.black_bar >= new.red_bar
    {
        return Err(AppError::bad_input(
            "blackBar and redBar are 0–100, blackBar below redBar",
        ));
    }
    let now = Utc::now();
    if new.closes_at <= now {
        return Err(AppError::bad_input("closesAt must be in the future"));
    }
    Ok(property_round::ActiveModel {
        id: Set(Uuid::now_v7()),
        street_id: Set(new.street_id),
        quarter: Set(new.quarter.to_string()),
        status: Set(RoundStatus::Open),
        closes_at: Set(new.closes_at),
        red_bar: Set(new.red_bar),
        black_bar: Set(new.black_bar),
        digest: Set(None),
        created_by: Set(actor.id),
        created_at: Set(now),
        closed_at: Set(None),
        objections_close_at: Set(None),
    }
    .insert(db)
    .await?)
}

pub async fn get_round(db: &impl ConnectionTrait, id: Uuid) -> AppResult<property_round::Model> {
    property_round::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("property rating"))
}

/// A street's rounds, newest first (four a year).
pub async fn rounds(
    db: &DatabaseConnection,
    street_id: Uuid,
) -> AppResult<Vec<property_round::Model>> {
    Ok(property_round::Entity::find()
        .filter(property_round::Column::StreetId.eq(street_id))
        .order_by_desc(property_round::Column::Id)
        .limit(40)
        .all(db)
        .await?)
}

/// A household's rating as filed: its receipt and the company it scored.
pub struct Rated {
    pub receipt: String,
    pub company_id: Uuid,
}

/// A confirmed resident rates the company serving their community, for their household; a
/// later rating while the round is open replaces it.
pub async fn rate(
    db: &DatabaseConnection,
    ballots: &BallotBox,
    actor: &Actor,
    round_id: Uuid,
    scores: [i32; 5],
) -> AppResult<Rated> {
    if scores.iter().any(|score| !(1..=5).contains(score)) {
        return Err(AppError::bad_input(format!(
            "each of {} is scored 1 to 5",
            DIMENSIONS.join(", ")
        )));
    }
    let txn = begin_write(db).await?;
    // Shared on the round row: its close (which updates it first) waits for ratings in flight
    // and ratings after it see it closed, so the sealed list is the published one.
    let round = property_round::Entity::find_by_id(round_id)
        .lock_shared()
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("property rating"))?;
    let now = Utc::now();
    if round.status != RoundStatus::Open || round.closes_at <= now {
        return Err(AppError::conflict("this rating is closed"));
    }
    let me = get_user(&txn, actor.id).await?;
    let (Some(community_id), Some(address)) = (
        me.community_id,
        me.address.filter(|address| !address.trim().is_empty()),
    ) else {
        return Err(AppError::forbidden(
            "rate with your community and address in your profile",
        ));
    };
    let confirmed = role_grant::Entity::find()
        .filter(role_grant::Column::UserId.eq(actor.id))
        .filter(role_grant::Column::Role.eq(Role::Resident))
        .filter(role_grant::Column::CommunityId.eq(community_id))
        .one(&txn)
        .await?
        .is_some();
    let community = organisation::get_community(&txn, community_id).await?;
    if !confirmed || community.street_id != round.street_id {
        return Err(AppError::forbidden(
            "households the street's communities confirmed rate their property company",
        ));
    }
    let service = serving(&txn, community_id, now)
        .await?
        .ok_or_else(|| AppError::conflict("no property company serves your community"))?;
    let voter_key = household_key(community_id, &address);
    property_rater::Entity::insert(property_rater::ActiveModel {
        round_id: Set(round_id),
        voter_key: Set(voter_key.clone()),
        user_id: Set(actor.id),
        rated_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            property_rater::Column::RoundId,
            property_rater::Column::VoterKey,
        ])
        .update_columns([
            property_rater::Column::UserId,
            property_rater::Column::RatedAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let receipt = receipt();
    property_score::Entity::insert(property_score::ActiveModel {
        round_id: Set(round_id),
        slot: Set(ballots.slot(round_id, &voter_key)),
        receipt: Set(receipt.clone()),
        company_id: Set(service.company_id),
        scores: Set(serde_json::json!(scores)),
        rated_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            property_score::Column::RoundId,
            property_score::Column::Slot,
        ])
        .update_columns([
            property_score::Column::Receipt,
            property_score::Column::CompanyId,
            property_score::Column::Scores,
            property_score::Column::RatedAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(Rated {
        receipt,
        company_id: service.company_id,
    })
}

/// STREET_STAFF close their street's round now and seal it.
pub async fn close(
    db: &DatabaseConnection,
    actor: &Actor,
    round_id: Uuid,
) -> AppResult<Committed<property_round::Model>> {
    let round = get_round(db, round_id).await?;
    if !actor.roles.is_street_staff_of(round.street_id) {
        return Err(AppError::forbidden(
            "only STREET_STAFF of the street close its property rating",
        ));
    }
    let sealed = seal(db, round_id, Utc::now()).await?;
    let round = get_round(db, round_id).await?;
    Ok(match sealed {
        Some(sealed) => sealed.map(|()| round),
        // Closed a moment ago by someone else, who published it.
        None => Events::default().committed(round),
    })
}

/// The job `property-rating-close`: seals every open round whose time is over.
pub async fn close_due(
    db: &DatabaseConnection,
    dispatcher: &Dispatcher,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let due: Vec<Uuid> = property_round::Entity::find()
        .select_only()
        .column(property_round::Column::Id)
        .filter(property_round::Column::Status.eq(RoundStatus::Open))
        .filter(property_round::Column::ClosesAt.lte(now))
        .into_tuple()
        .all(db)
        .await?;
    let mut sealed = 0;
    for id in due {
        if let Some(published) = seal(db, id, now).await? {
            dispatcher.settle(published).await;
            sealed += 1;
        }
    }
    Ok(sealed)
}

/// Closes the round (compare-and-set on its status), writes each company's result once and
/// publishes the list (`notice`), in one transaction; `None` when it was closed already.
async fn seal(
    db: &DatabaseConnection,
    round_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Option<Committed<()>>> {
    let txn = begin_write(db).await?;
    let closed = property_round::Entity::update_many()
        .col_expr(
            property_round::Column::Status,
            sea_orm::sea_query::Expr::value(RoundStatus::Closed),
        )
        .col_expr(
            property_round::Column::ClosedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .col_expr(
            property_round::Column::ObjectionsCloseAt,
            sea_orm::sea_query::Expr::value(publication::objections_close(now)),
        )
        .filter(property_round::Column::Id.eq(round_id))
        .filter(property_round::Column::Status.eq(RoundStatus::Open))
        .exec(&txn)
        .await?;
    if closed.rows_affected != 1 {
        return Ok(None);
    }
    let round = get_round(&txn, round_id).await?;
    let scores = property_score::Entity::find()
        .filter(property_score::Column::RoundId.eq(round_id))
        .all(&txn)
        .await?;
    let digest = digest(scores.iter().map(Published::from));
    let mut by_company: HashMap<Uuid, Vec<[i32; 5]>> = HashMap::new();
    for score in &scores {
        by_company
            .entry(score.company_id)
            .or_default()
            .push(scores_of(score));
    }
    let quarter = Quarter::parse("quarter", &round.quarter)?;
    let facts = facts_of(&txn, round.street_id, quarter).await?;
    let companies: HashSet<Uuid> = by_company.keys().chain(facts.keys()).copied().collect();
    let mut listed = Vec::with_capacity(companies.len());
    for company_id in companies {
        let rated = by_company.get(&company_id).map_or(&[][..], Vec::as_slice);
        let averages = rules::averages(rated);
        let company_facts = facts.get(&company_id).copied().unwrap_or_default();
        let score = rules::combined(
            averages.as_ref().map(rules::opinion_score),
            company_facts.score(),
        );
        let listing = Listing::of(score, round.red_bar, round.black_bar);
        listed.push((company_id, listing));
        property_result::ActiveModel {
            round_id: Set(round_id),
            company_id: Set(company_id),
            households: Set(rated.len() as i32),
            averages: Set(serde_json::json!(averages.map_or(Vec::new(), |a| {
                a.map(|v| (v * 100.0).round() as i32).to_vec()
            }))),
            facts: Set(serde_json::to_value(company_facts).unwrap_or_default()),
            score_tenths: Set((score * 10.0).round() as i32),
            listing: Set(listing.as_str().to_owned()),
        }
        .insert(&txn)
        .await?;
    }
    property_round::Entity::update_many()
        .col_expr(
            property_round::Column::Digest,
            sea_orm::sea_query::Expr::value(digest),
        )
        .filter(property_round::Column::Id.eq(round_id))
        .exec(&txn)
        .await?;
    let mut news = Events::default();
    news.push(notice::publish(&txn, &round, &listed, now).await?);
    Ok(Some(news.commit(txn, ()).await?))
}

/// What the orders of each company's communities, placed while it served them in the
/// quarter, tell.
async fn facts_of(
    db: &impl ConnectionTrait,
    street_id: Uuid,
    quarter: Quarter,
) -> AppResult<HashMap<Uuid, Facts>> {
    let (start, end) = quarter.bounds();
    let communities =
        organisation::communities_in(db, organisation::Area::Street(street_id)).await?;
    let services = property_service::Entity::find()
        .filter(property_service::Column::CommunityId.is_in(communities))
        .filter(property_service::Column::StartsAt.lt(end))
        .filter(
            property_service::Column::EndsAt
                .is_null()
                .or(property_service::Column::EndsAt.gt(start)),
        )
        .all(db)
        .await?;
    if services.is_empty() {
        return Ok(HashMap::new());
    }
    // The quarter's orders of the served communities and which of them were reopened, in two
    // statements however many services; each order counts for the company serving when it
    // was placed.
    let served = || {
        order::Entity::find()
            .filter(order::Column::CommunityId.is_in(services.iter().map(|s| s.community_id)))
            .filter(order::Column::CreatedAt.gte(start))
            .filter(order::Column::CreatedAt.lt(end))
    };
    let orders = served().all(db).await?;
    let reopened: HashSet<Uuid> = order_event::Entity::find()
        .select_only()
        .column(order_event::Column::OrderId)
        .filter(
            order_event::Column::OrderId.in_subquery(
                served()
                    .select_only()
                    .column(order::Column::Id)
                    .into_query(),
            ),
        )
        .filter(order_event::Column::Action.eq("REOPEN"))
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut facts: HashMap<Uuid, Tally> = HashMap::new();
    for order in &orders {
        let company = services.iter().find(|service| {
            service.community_id == order.community_id
                && service.starts_at <= order.created_at
                && service.ends_at.is_none_or(|ends| order.created_at < ends)
        });
        if let Some(service) = company {
            facts
                .entry(service.company_id)
                .or_default()
                .add(order, reopened.contains(&order.id));
        }
    }
    Ok(facts
        .into_iter()
        .map(|(company, tally)| (company, tally.facts()))
        .collect())
}

#[derive(Default)]
struct Tally {
    orders: i64,
    responded: i64,
    completed: i64,
    rated: i64,
    satisfied: i64,
    reopened: i64,
    red: i64,
}

impl Tally {
    fn add(&mut self, order: &order::Model, reopened: bool) {
        self.orders += 1;
        self.responded += i64::from(
            order
                .accepted_at
                .is_some_and(|accepted| accepted <= order.response_due_at),
        );
        self.completed += i64::from(order.completed_at.is_some());
        if let Some(stars) = order.rating_stars {
            self.rated += 1;
            self.satisfied += i64::from(stars >= 4);
        }
        self.reopened += i64::from(reopened);
        self.red += i64::from(order.alert_level == AlertLevel::Red);
    }

    fn facts(&self) -> Facts {
        let share = |part: i64, whole: i64| {
            if whole == 0 {
                0.0
            } else {
                part as f64 / whole as f64
            }
        };
        Facts {
            orders: self.orders,
            response_rate: share(self.responded, self.orders),
            resolution_rate: share(self.completed, self.orders),
            satisfaction: (self.rated > 0).then(|| share(self.satisfied, self.rated)),
            reopen_rate: share(self.reopened, self.completed),
            red_alerts: self.red,
        }
    }
}

fn scores_of(score: &property_score::Model) -> [i32; 5] {
    serde_json::from_value(score.scores.clone()).unwrap_or([0; 5])
}

/// A rating as published after the close: its receipt, the company and the five scores.
pub struct Published {
    pub receipt: String,
    pub company_id: Uuid,
    pub scores: [i32; 5],
}

impl From<&property_score::Model> for Published {
    fn from(score: &property_score::Model) -> Self {
        Self {
            receipt: score.receipt.clone(),
            company_id: score.company_id,
            scores: scores_of(score),
        }
    }
}

/// SHA-256, in hex, over the published ratings' lines (`rules::line`) sorted, each ending in
/// "\n": anyone can recompute it from the published list.
pub fn digest(ratings: impl Iterator<Item = Published>) -> String {
    sealed_digest(ratings.map(|r| rules::line(&r.receipt, r.company_id, &r.scores)))
}

/// The sealed results, best score first: nothing before the close, for everyone.
pub async fn results(
    db: &DatabaseConnection,
    round: &property_round::Model,
) -> AppResult<Vec<property_result::Model>> {
    if round.status != RoundStatus::Closed {
        return Ok(Vec::new());
    }
    Ok(property_result::Entity::find()
        .filter(property_result::Column::RoundId.eq(round.id))
        .order_by_desc(property_result::Column::ScoreTenths)
        .all(db)
        .await?)
}

/// The published ratings by receipt after the close, what the digest is computed over.
pub async fn published(
    db: &DatabaseConnection,
    round: &property_round::Model,
    first: u64,
    after: Option<String>,
) -> AppResult<Vec<Published>> {
    if round.status != RoundStatus::Closed {
        return Ok(Vec::new());
    }
    if !(1..=MAX_RATINGS_PAGE).contains(&first) {
        return Err(AppError::bad_input(format!(
            "first must be between 1 and {MAX_RATINGS_PAGE}"
        )));
    }
    let mut select = property_score::Entity::find()
        .filter(property_score::Column::RoundId.eq(round.id))
        .order_by_asc(property_score::Column::Receipt)
        .limit(first);
    if let Some(after) = after {
        select = select.filter(property_score::Column::Receipt.gt(after));
    }
    Ok(select.all(db).await?.iter().map(Published::from).collect())
}

/// Whether the caller's household rated in the round (never what it scored: the receipt the
/// rating returned is how a resident finds their line).
pub async fn rated(db: &DatabaseConnection, actor: &Actor, round_id: Uuid) -> AppResult<bool> {
    let me: user::Model = get_user(db, actor.id).await?;
    let (Some(community), Some(address)) = (me.community_id, me.address) else {
        return Ok(false);
    };
    Ok(
        property_rater::Entity::find_by_id((round_id, household_key(community, &address)))
            .one(db)
            .await?
            .is_some(),
    )
}

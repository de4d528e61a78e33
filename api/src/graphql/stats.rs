//! Numbers for street and district offices.
use async_graphql::{ComplexObject, Context, ID, Object, OneofObject, Result, SimpleObject};
use chrono::{DateTime, Utc};
use futures::future::try_join_all;

use super::{
    actor, load_category, load_community,
    orders::ServiceCategory,
    organisation::{Community, Grid},
    parse_id, state,
};
use crate::{
    consultations,
    orders::stats::{self, Counts},
    organisation::Area,
    pagination::Span,
    patrols::figures,
};

/// Exactly one of them.
#[derive(OneofObject)]
#[allow(
    clippy::enum_variant_names,
    reason = "the API's field names: communityId, …"
)]
pub enum StatsScope {
    CommunityId(ID),
    StreetId(ID),
    DistrictId(ID),
}

/// Counts and rates of the orders placed in the period. A rate is null when nothing counts
/// towards it yet.
#[derive(SimpleObject)]
pub struct GovernanceCounts {
    placed: i64,
    cancelled: i64,
    /// Placed by STAFF or a hotline operator for a resident.
    placed_on_behalf: i64,
    rated: i64,
    /// Accepted by the response deadline, among orders accepted or past that deadline.
    response_rate: Option<f64>,
    /// Completed by the completion deadline, among orders completed or past that deadline.
    resolution_rate: Option<f64>,
    /// 4–5 stars among rated orders.
    satisfaction_rate: Option<f64>,
    /// Rated orders with a callback visit, among rated orders.
    callback_rate: Option<f64>,
    /// From placing to acceptance.
    average_response_minutes: Option<f64>,
    /// From placing to completion.
    average_completion_minutes: Option<f64>,
    /// Orders showing YELLOW or RED now.
    yellow: i64,
    red: i64,
}

impl From<&Counts> for GovernanceCounts {
    fn from(counts: &Counts) -> Self {
        Self {
            placed: counts.placed,
            cancelled: counts.cancelled,
            placed_on_behalf: counts.phone_or_staff,
            rated: counts.rated,
            response_rate: counts.response_rate(),
            resolution_rate: counts.resolution_rate(),
            satisfaction_rate: counts.satisfaction_rate(),
            callback_rate: counts.callback_rate(),
            average_response_minutes: counts.average_response_minutes(),
            average_completion_minutes: counts.average_completion_minutes(),
            yellow: counts.yellow,
            red: counts.red,
        }
    }
}

#[derive(SimpleObject)]
pub struct CountByKey {
    key: String,
    orders: i64,
}

#[derive(SimpleObject)]
pub struct MonthStats {
    /// YYYY-MM, China time.
    month: String,
    counts: GovernanceCounts,
}

#[derive(SimpleObject)]
pub struct CommunityStats {
    community: Community,
    counts: GovernanceCounts,
}

#[derive(SimpleObject)]
pub struct CategoryStats {
    category: ServiceCategory,
    counts: GovernanceCounts,
}

#[derive(SimpleObject)]
#[graphql(complex)]
pub struct GovernanceStats {
    total: GovernanceCounts,
    /// Orders by their status now.
    by_status: Vec<CountByKey>,
    /// Orders by how they came in (APP, STAFF, HOTLINE, PATROL).
    by_channel: Vec<CountByKey>,
    by_community: Vec<CommunityStats>,
    by_category: Vec<CategoryStats>,
    /// Month by month, oldest first.
    by_month: Vec<MonthStats>,
    /// Escalations to departments begun in the period, by level (STREET, DISTRICT); an order
    /// a street passed on counts at both.
    escalations_by_level: Vec<CountByKey>,
    #[graphql(skip)]
    span: Span,
}

/// A grid's patrols whose window started in one month.
#[derive(SimpleObject)]
pub struct PatrolStats {
    grid: Grid,
    /// YYYY-MM, China time, of the patrols' windows.
    month: String,
    patrols: i64,
    points_due: i64,
    points_signed_off: i64,
    /// Due on a patrol whose window is over, never signed off.
    points_missed: i64,
    /// Signed-off points among those due; null with none due.
    coverage: Option<f64>,
    /// Sign-offs outside the point's radius, with the worker's reason.
    off_site: i64,
    /// Findings turned into work orders.
    findings: i64,
}

/// Consultations (议事) raised in the period.
#[derive(SimpleObject)]
pub struct ConsultationStats {
    topics: i64,
    /// With a sealed result.
    decided: i64,
    /// Ballots cast as a share of the roll, averaged over decided topics.
    average_turnout: Option<f64>,
    /// From raising to the sealed result.
    average_days_to_decision: Option<f64>,
}

#[ComplexObject]
impl GovernanceStats {
    /// Consultation topics raised in the period, and what came of them.
    async fn consultations(&self, ctx: &Context<'_>) -> Result<ConsultationStats> {
        let found = consultations::figures(&state(ctx)?.db, &self.span).await?;
        Ok(ConsultationStats {
            topics: found.topics,
            decided: found.decided,
            average_turnout: found.average_turnout,
            average_days_to_decision: found.average_days_to_decision,
        })
    }

    /// Grid patrols whose window started in the period, per grid and month.
    async fn patrols(&self, ctx: &Context<'_>) -> Result<Vec<PatrolStats>> {
        let rows = figures::by_grid_and_month(&state(ctx)?.db, &self.span, Utc::now()).await?;
        Ok(rows
            .into_iter()
            .map(|row| PatrolStats {
                grid: Grid(row.grid),
                month: row.month.to_string(),
                patrols: row.figures.patrols,
                points_due: row.figures.points_due,
                points_signed_off: row.figures.points_signed_off,
                points_missed: row.figures.points_missed,
                coverage: row.figures.coverage(),
                off_site: row.figures.off_site,
                findings: row.figures.findings,
            })
            .collect())
    }
}

#[derive(Default)]
pub struct StatsQuery;

#[Object]
impl StatsQuery {
    /// ADMIN (any scope), STREET_STAFF (their street) or STAFF (their community): the four-list loop's numbers for orders
    /// placed from `from` (inclusive) to `to` (exclusive), at most three years.
    #[graphql(complexity = 500)]
    async fn governance_stats(
        &self,
        ctx: &Context<'_>,
        scope: StatsScope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<GovernanceStats> {
        let actor = actor(ctx).await?;
        let area = match scope {
            StatsScope::CommunityId(id) => Area::Community(parse_id("communityId", &id)?),
            StatsScope::StreetId(id) => Area::Street(parse_id("streetId", &id)?),
            StatsScope::DistrictId(id) => Area::District(parse_id("districtId", &id)?),
        };
        let found = stats::governance_stats(&state(ctx)?.db, actor, area, from, to).await?;
        let by_key = |map: std::collections::BTreeMap<String, i64>| {
            map.into_iter()
                .map(|(key, orders)| CountByKey { key, orders })
                .collect()
        };
        // Asked for at once, so that the loader fetches a street's communities in one query.
        let by_community = try_join_all(found.by_community.iter().map(|(id, counts)| async {
            Ok::<_, async_graphql::Error>(CommunityStats {
                community: Community(load_community(ctx, *id).await?),
                counts: counts.into(),
            })
        }));
        let by_category = try_join_all(found.by_category.iter().map(|(id, counts)| async {
            Ok::<_, async_graphql::Error>(CategoryStats {
                category: ServiceCategory(load_category(ctx, *id).await?),
                counts: counts.into(),
            })
        }));
        let (by_community, by_category) = futures::try_join!(by_community, by_category)?;
        Ok(GovernanceStats {
            total: (&found.total).into(),
            by_month: found
                .by_month
                .iter()
                .map(|(month, counts)| MonthStats {
                    month: month.clone(),
                    counts: counts.into(),
                })
                .collect(),
            by_status: by_key(found.by_status),
            escalations_by_level: by_key(found.escalations_by_level),
            by_channel: by_key(found.by_channel),
            by_community,
            by_category,
            span: found.span,
        })
    }
}

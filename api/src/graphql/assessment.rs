//! The Party members' yearly assessment (党建超市): each community's bar and required items,
//! and how its members stand.
use async_graphql::{Context, ID, Object, Result, SimpleObject};

use super::{actor, identity::User, load_community, organisation::Community, parse_id, state};
use crate::points::{
    assessment::{self, Record, Rules},
    rules,
};

#[derive(SimpleObject)]
pub struct AssessmentRules {
    /// Confirmed service points a member needs in the year (80 unless the community set
    /// another).
    bar_points: i64,
    min_orders: i64,
    min_activities: i64,
    min_wishes: i64,
}

impl From<Rules> for AssessmentRules {
    fn from(rules: Rules) -> Self {
        Self {
            bar_points: rules.bar_points,
            min_orders: rules.min_orders,
            min_activities: rules.min_activities,
            min_wishes: rules.min_wishes,
        }
    }
}

/// What a member did for the community in the year.
#[derive(SimpleObject)]
pub struct AssessedRecord {
    /// Points of service records confirmed in the year.
    points: i64,
    hours: f64,
    orders_completed: i64,
    activities_attended: i64,
    wishes_fulfilled: i64,
    /// At the bar, with every required item.
    passed: bool,
}

impl AssessedRecord {
    pub fn new(record: Record, rules: &Rules) -> Self {
        Self {
            points: record.points,
            hours: rules::hours(record.minutes),
            orders_completed: record.orders_completed,
            activities_attended: record.activities_attended,
            wishes_fulfilled: record.wishes_fulfilled,
            passed: rules.passed(&record),
        }
    }
}

#[derive(SimpleObject)]
pub struct MemberAssessment {
    member: User,
    record: AssessedRecord,
}

#[derive(SimpleObject)]
pub struct PartyMemberAssessment {
    year: i32,
    rules: AssessmentRules,
    /// Every approved Party member reporting to the community, by name.
    members: Vec<MemberAssessment>,
}

/// A member's own standing in one community they report to.
#[derive(SimpleObject)]
pub struct MyAssessment {
    community: Community,
    rules: AssessmentRules,
    record: AssessedRecord,
}

/// `User.assessment`: the viewer's own progress, in each community they report to.
pub async fn mine(ctx: &Context<'_>, year: i32) -> Result<Vec<MyAssessment>> {
    let actor = actor(ctx).await?;
    let progress = assessment::mine(&state(ctx)?.db, actor, year).await?;
    let mut mine = Vec::new();
    for (community_id, rules, record) in progress {
        mine.push(MyAssessment {
            community: Community(load_community(ctx, community_id).await?),
            record: AssessedRecord::new(record, &rules),
            rules: rules.into(),
        });
    }
    Ok(mine)
}

#[derive(Default)]
pub struct AssessmentQuery;

#[Object]
impl AssessmentQuery {
    /// STAFF: how each of the community's Party members stands in `year` (China time).
    /// Also `GET /exports/party-member-assessment.csv`.
    #[graphql(complexity = 1000)]
    async fn party_member_assessment(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        year: i32,
    ) -> Result<PartyMemberAssessment> {
        let actor = actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        let (rules, members) =
            assessment::for_staff(&state(ctx)?.db, actor, community_id, year).await?;
        Ok(PartyMemberAssessment {
            year,
            members: members
                .into_iter()
                .map(|member| MemberAssessment {
                    record: AssessedRecord::new(member.record, &rules),
                    member: User::from(member.user),
                })
                .collect(),
            rules: rules.into(),
        })
    }
}

#[derive(Default)]
pub struct AssessmentMutation;

#[Object]
impl AssessmentMutation {
    /// STAFF: the community's yearly bar of confirmed service points and the least number of
    /// orders completed, activities attended and wishes fulfilled (0: not required).
    async fn set_assessment_rules(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        bar_points: i64,
        #[graphql(default)] min_orders: i64,
        #[graphql(default)] min_activities: i64,
        #[graphql(default)] min_wishes: i64,
    ) -> Result<AssessmentRules> {
        let actor = actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        let rules = Rules {
            bar_points,
            min_orders,
            min_activities,
            min_wishes,
        };
        let set = assessment::set_rules(&state(ctx)?.db, actor, community_id, rules).await?;
        Ok(set.into())
    }
}

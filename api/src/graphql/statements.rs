//! Merchant settlement: monthly statements of verified redemptions in yuan at the community's
//! rate, marked paid by STAFF (the property company's fee offsets included).
use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::{actor, merchants::Merchant, parse_id, state, to_id};
use crate::{
    merchants::statements::{self, Statement},
    values::Month,
};

#[derive(SimpleObject)]
pub struct StatementLine {
    redemption_id: ID,
    offer_title: String,
    points: i64,
    verified_at: Option<DateTime<Utc>>,
}

pub struct MerchantStatement(Statement);

#[Object]
impl MerchantStatement {
    async fn merchant(&self) -> Merchant {
        Merchant::from(self.0.merchant.clone())
    }
    /// `YYYY-MM`, China time.
    async fn month(&self) -> &str {
        &self.0.month
    }
    /// The redemptions verified at the counter that month, oldest first.
    #[graphql(complexity = "200 * child_complexity")]
    async fn lines(&self) -> Vec<StatementLine> {
        self.0
            .lines
            .iter()
            .map(|(redemption, title)| StatementLine {
                redemption_id: to_id(redemption.id),
                offer_title: title.clone(),
                points: redemption.points_cost,
                verified_at: redemption.verified_at,
            })
            .collect()
    }
    async fn redemptions(&self) -> usize {
        self.0.lines.len()
    }
    async fn points(&self) -> i64 {
        self.0.points
    }
    /// The community's rate now (10 unless STAFF set another).
    async fn points_per_yuan(&self) -> i64 {
        self.0.points_per_yuan
    }
    /// What it is worth in fen (分), rounded down; once paid, what was paid.
    async fn yuan_cents(&self) -> i64 {
        self.0.yuan_cents()
    }
    async fn paid(&self) -> bool {
        self.0.paid.is_some()
    }
    async fn paid_at(&self) -> Option<DateTime<Utc>> {
        self.0.paid.as_ref().map(|paid| paid.paid_at)
    }
}

#[derive(Default)]
pub struct StatementQuery;

#[Object]
impl StatementQuery {
    /// The merchant's people and STAFF of its community: a month's statement.
    #[graphql(complexity = 500)]
    async fn merchant_statement(
        &self,
        ctx: &Context<'_>,
        merchant_id: ID,
        month: String,
    ) -> Result<MerchantStatement> {
        let actor = actor(ctx).await?;
        let merchant_id = parse_id("merchantId", &merchant_id)?;
        let found = statements::statement(
            &state(ctx)?.db,
            actor,
            merchant_id,
            Month::parse("month", &month)?,
        )
        .await?;
        Ok(MerchantStatement(found))
    }
}

#[derive(Default)]
pub struct StatementMutation;

#[Object]
impl StatementMutation {
    /// STAFF of the merchant's community: the month (over) is settled; once.
    #[graphql(complexity = 500)]
    async fn mark_statement_paid(
        &self,
        ctx: &Context<'_>,
        merchant_id: ID,
        month: String,
    ) -> Result<MerchantStatement> {
        let actor = actor(ctx).await?;
        let merchant_id = parse_id("merchantId", &merchant_id)?;
        let paid = statements::mark_paid(
            &state(ctx)?.db,
            actor,
            merchant_id,
            Month::parse("month", &month)?,
        )
        .await?;
        Ok(MerchantStatement(paid))
    }

    /// STAFF: how many points their community settles as one yuan (1–10,000; 10 unless set).
    async fn set_settlement_rate(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        points_per_yuan: i64,
    ) -> Result<i64> {
        let actor = actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        Ok(statements::set_rate(&state(ctx)?.db, actor, community_id, points_per_yuan).await?)
    }
}

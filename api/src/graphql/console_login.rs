//! The staff console's scan-to-log-in (扫码登录); see `identity::console_login`.
use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::{actor, caller, client_ip, identity::AuthPayload, parse_id, state, to_id};
use crate::identity::console_login::Claim;

/// A login ticket for one browser.
#[derive(SimpleObject)]
pub struct ConsoleLoginTicket {
    ticket: ID,
    expires_at: DateTime<Utc>,
    /// The 小程序码 to scan, as a `data:` URL; null without WeChat credentials
    /// (development), where the console logs in by openid.
    qr_code: Option<String>,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ConsoleLoginStatus {
    /// Not confirmed yet: ask again in a moment.
    Pending,
    /// Not confirmed in time: start again.
    Expired,
    /// Confirmed: `session` is this browser's.
    Confirmed,
}

#[derive(SimpleObject)]
pub struct ConsoleLoginClaim {
    status: ConsoleLoginStatus,
    session: Option<AuthPayload>,
}

#[derive(Default)]
pub struct ConsoleLoginMutation;

#[Object]
impl ConsoleLoginMutation {
    /// The console asks for a ticket with `challenge`, the SHA-256 (64 hex digits) of a
    /// secret it keeps; the ticket lasts two minutes.
    async fn start_console_login(
        &self,
        ctx: &Context<'_>,
        challenge: String,
    ) -> Result<ConsoleLoginTicket> {
        let state = state(ctx)?;
        let ticket = state
            .sessions
            .start_console_login(&challenge, client_ip(ctx))
            .await?;
        Ok(ConsoleLoginTicket {
            ticket: to_id(ticket.id),
            expires_at: ticket.expires_at,
            qr_code: state.codes.console_login(ticket.id).await?,
        })
    }

    /// Staff who scanned a console's code (scene = `ticket`) let that browser in as
    /// themselves. Community, grid, street and department staff and ADMIN only.
    async fn confirm_console_login(&self, ctx: &Context<'_>, ticket: ID) -> Result<bool> {
        let actor = actor(ctx).await?;
        state(ctx)?
            .sessions
            .confirm_console_login(caller(ctx)?, &actor.roles, parse_id("ticket", &ticket)?)
            .await?;
        Ok(true)
    }

    /// The console's poll with its secret: PENDING until confirmed, then once CONFIRMED with
    /// the browser's own session; a ticket is spent by its first CONFIRMED answer.
    async fn claim_console_login(
        &self,
        ctx: &Context<'_>,
        ticket: ID,
        secret: String,
    ) -> Result<ConsoleLoginClaim> {
        let claim = state(ctx)?
            .sessions
            .claim_console_login(parse_id("ticket", &ticket)?, &secret)
            .await?;
        Ok(match claim {
            Claim::Pending => ConsoleLoginClaim {
                status: ConsoleLoginStatus::Pending,
                session: None,
            },
            Claim::Expired => ConsoleLoginClaim {
                status: ConsoleLoginStatus::Expired,
                session: None,
            },
            Claim::Confirmed(session) => ConsoleLoginClaim {
                status: ConsoleLoginStatus::Confirmed,
                session: Some((*session).into()),
            },
        })
    }
}

//! Scan-to-log-in (扫码登录) for the staff console. The browser makes a secret, keeps it, and
//! asks for a ticket with the secret's SHA-256; the ticket is shown as a 小程序码. A staff
//! member, logged in to the mini-program, scans and confirms it. The browser, polling with
//! its secret, then spends the ticket once for a session of its own (the usual refresh
//! rotation). Whoever copies the code or the ticket id without the secret logs nobody in.
use std::time::Duration;

use chrono::Utc;
use entity::console_login_ticket as ticket;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    Roles, get_user,
    sessions::{Session, SessionService},
    tokens::Caller,
};
use crate::{
    error::{AppError, AppResult},
    infra::{db::begin_write, rate_limit},
};
use std::net::IpAddr;

/// Long enough to find the phone and scan, short enough that a photographed code is stale.
pub const TICKET_TTL: Duration = Duration::from_secs(120);

/// The console's secret is 32 random bytes in some text encoding; nothing longer is hashed.
const MAX_SECRET_BYTES: usize = 256;

/// Where a browser's ticket stands.
pub enum Claim {
    /// Not confirmed yet: ask again.
    Pending,
    /// Not confirmed in time: start again.
    Expired,
    /// Spent: the browser's own session.
    Confirmed(Box<Session>),
}

fn challenge_of(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The same answer for an unknown ticket and a wrong secret, so a stolen ticket id tells its
/// holder nothing.
fn not_yours() -> AppError {
    AppError::Unauthenticated("unknown login ticket, or not this browser's".into())
}

impl SessionService {
    /// A ticket for a browser holding the secret behind `challenge` (64 hex digits).
    pub async fn start_console_login(
        &self,
        challenge: &str,
        client_ip: Option<IpAddr>,
    ) -> AppResult<ticket::Model> {
        if challenge.len() != 64 || !challenge.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AppError::bad_input(
                "challenge must be the SHA-256 of the browser's secret, in 64 hex digits",
            ));
        }
        if let Some(ip) = client_ip {
            rate_limit::check(&self.store, self.login_per_ip, &ip.to_string()).await?;
        }
        let now = Utc::now();
        Ok(ticket::ActiveModel {
            // Random, not time-ordered: the id is printed in a code others may see.
            id: Set(Uuid::new_v4()),
            challenge: Set(challenge.to_ascii_lowercase()),
            expires_at: Set(
                now + chrono::Duration::from_std(TICKET_TTL).map_err(AppError::internal)?
            ),
            confirmed_by: Set(None),
            confirmed_at: Set(None),
            claimed_at: Set(None),
            created_at: Set(now),
        }
        .insert(&self.db)
        .await?)
    }

    /// The scanning staff member lets the ticket's browser in as themselves. Only people
    /// who work at a desk (STAFF, grid workers, street, department, ADMIN) may.
    pub async fn confirm_console_login(
        &self,
        caller: Caller,
        roles: &Roles,
        ticket_id: Uuid,
    ) -> AppResult<()> {
        if !roles.works_at_a_desk() {
            return Err(AppError::forbidden(
                "the staff console is for community, grid, street and department staff",
            ));
        }
        let now = Utc::now();
        // Compare-and-set: of two confirmations only one lands, and never after expiry.
        let confirmed = ticket::Entity::update_many()
            .set(ticket::ActiveModel {
                confirmed_by: Set(Some(caller.user_id)),
                confirmed_at: Set(Some(now)),
                ..Default::default()
            })
            .filter(ticket::Column::Id.eq(ticket_id))
            .filter(ticket::Column::ConfirmedBy.is_null())
            .filter(ticket::Column::ExpiresAt.gt(now))
            .exec(&self.db)
            .await?;
        if confirmed.rows_affected == 1 {
            Ok(())
        } else {
            Err(AppError::conflict(
                "this login code has expired or was already used; refresh it in the browser",
            ))
        }
    }

    /// The browser's poll: its ticket, proven by the secret, spent once when confirmed.
    pub async fn claim_console_login(&self, ticket_id: Uuid, secret: &str) -> AppResult<Claim> {
        if secret.len() > MAX_SECRET_BYTES {
            return Err(not_yours());
        }
        let now = Utc::now();
        let txn = begin_write(&self.db).await?;
        let found = ticket::Entity::find_by_id(ticket_id)
            .one(&txn)
            .await?
            .filter(|found| found.challenge == challenge_of(secret))
            .ok_or_else(not_yours)?;
        let Some(user_id) = found.confirmed_by else {
            return Ok(if found.expires_at <= now {
                Claim::Expired
            } else {
                Claim::Pending
            });
        };
        let spent = ticket::Entity::update_many()
            .set(ticket::ActiveModel {
                claimed_at: Set(Some(now)),
                ..Default::default()
            })
            .filter(ticket::Column::Id.eq(ticket_id))
            .filter(ticket::Column::ClaimedAt.is_null())
            .exec(&txn)
            .await?;
        if spent.rows_affected != 1 {
            return Err(AppError::Unauthenticated(
                "this login ticket was already used; log in again".into(),
            ));
        }
        let user = get_user(&txn, user_id).await?;
        let session = self.start_link(&txn, user, Uuid::now_v7()).await?;
        txn.commit().await?;
        Ok(Claim::Confirmed(Box::new(session)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_the_secrets_sha256_in_hex() {
        assert_eq!(
            challenge_of("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

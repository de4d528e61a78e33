//! Login sessions: WeChat login, refresh-token rotation with reuse detection, logout.
//!
//! A session is a family of refresh tokens. Each refresh spends its token and issues the next;
//! presenting a spent token again means it was copied, so the whole family is revoked.
use chrono::{DateTime, Utc};
use entity::{refresh_token, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use super::{
    KnownRoles, Roles, actor_of, find_or_create_user, get_user,
    roles::cached_roles_key,
    tokens::{Caller, TokenKeys, hash_refresh_token, new_refresh_token},
    users,
    wechat::WechatLogin,
};
use crate::{
    error::{AppError, AppResult, causes},
    infra::cache::{self, Namespace},
    infra::db::begin_write,
    infra::rate_limit,
    infra::shared_store::SharedStore,
    notify::{Committed, DomainEvent},
};
use std::net::IpAddr;

/// What the session service needs, cloned cheaply from the app state.
#[derive(Clone)]
pub struct SessionService {
    pub db: DatabaseConnection,
    pub keys: TokenKeys,
    pub wechat: WechatLogin,
    pub store: SharedStore,
    pub refresh_ttl: std::time::Duration,
    pub login_per_ip: rate_limit::Limit,
    /// Requests one user may make per window, across all instances.
    pub request_budget: rate_limit::Limit,
}

/// An admitted request's caller, and what the shared store knew of their roles.
pub struct Admission {
    pub caller: Caller,
    pub roles: KnownRoles,
}

pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_at: DateTime<Utc>,
    pub user: user::Model,
}

fn revoked_session_key(session_id: Uuid) -> String {
    format!("revoked-session:{session_id}")
}

/// What admitting a request reads: the session's revocation flag, the roles namespace
/// version and the user's cached roles.
fn admission_keys(caller: Caller) -> [String; 3] {
    [
        revoked_session_key(caller.session_id),
        cache::version_key(Namespace::Roles),
        cached_roles_key(caller.user_id),
    ]
}

impl SessionService {
    /// Logins are rate limited per client address and per account.
    pub async fn login_with_wechat(
        &self,
        code: &str,
        client_ip: Option<IpAddr>,
    ) -> AppResult<Session> {
        if let Some(ip) = client_ip {
            rate_limit::check(&self.store, self.login_per_ip, &ip.to_string()).await?;
        }
        let openid = self.wechat.openid_for_code(code).await?;
        rate_limit::check(&self.store, rate_limit::LOGIN_PER_OPENID, &openid).await?;
        let txn = begin_write(&self.db).await?;
        let user = find_or_create_user(&txn, &openid).await?;
        let session = self.start_link(&txn, user, Uuid::now_v7()).await?;
        txn.commit().await?;
        Ok(session)
    }

    pub async fn refresh(&self, presented: &str) -> AppResult<Session> {
        let invalid = || AppError::Unauthenticated("invalid refresh token; log in again".into());
        let now = Utc::now();
        let txn = begin_write(&self.db).await?;
        let token = refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(hash_refresh_token(presented)))
            .one(&txn)
            .await?
            .ok_or_else(invalid)?;
        if token.revoked_at.is_some() || token.expires_at <= now {
            return Err(invalid());
        }
        // Spend the token exactly once; a second spender is a replay.
        let spent = refresh_token::Entity::update_many()
            .set(refresh_token::ActiveModel {
                used_at: Set(Some(now)),
                ..Default::default()
            })
            .filter(refresh_token::Column::Id.eq(token.id))
            .filter(refresh_token::Column::UsedAt.is_null())
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        if spent.rows_affected != 1 {
            revoke_family(&txn, token.family_id, now).await?;
            txn.commit().await?;
            self.revoke_access(token.family_id).await?;
            tracing::warn!(family = %token.family_id, "refresh token reused; session revoked");
            return Err(AppError::Unauthenticated(
                "this refresh token was already used; the session is revoked, log in again".into(),
            ));
        }
        let user = get_user(&txn, token.user_id).await?;
        let session = self.start_link(&txn, user, token.family_id).await?;
        txn.commit().await?;
        Ok(session)
    }

    pub async fn logout(&self, caller: Caller) -> AppResult<()> {
        let txn = begin_write(&self.db).await?;
        revoke_family(&txn, caller.session_id, Utc::now()).await?;
        txn.commit().await?;
        self.revoke_access(caller.session_id).await
    }

    /// Deletes the caller's account as WeChat's privacy rules require: refused while they
    /// have open orders or unspent redemptions; otherwise their personal data is erased
    /// (`users::erase`) and every session of theirs ends at once. Their orders, ledger and
    /// notices keep their history under an anonymous name.
    pub async fn delete_account(&self, caller: Caller) -> AppResult<Committed<user::Model>> {
        let now = Utc::now();
        let txn = begin_write(&self.db).await?;
        let user = users::erase(&txn, caller.user_id).await?;
        let families: Vec<Uuid> = refresh_token::Entity::find()
            .select_only()
            .column(refresh_token::Column::FamilyId)
            .filter(refresh_token::Column::UserId.eq(caller.user_id))
            .filter(refresh_token::Column::RevokedAt.is_null())
            .distinct()
            .into_tuple()
            .all(&txn)
            .await?;
        for family in &families {
            revoke_family(&txn, *family, now).await?;
        }
        txn.commit().await?;
        for family in families.into_iter().chain([caller.session_id]) {
            self.revoke_access(family).await?;
        }
        Ok(Committed::new(
            user,
            DomainEvent::ProfileChanged {
                user_id: caller.user_id,
            },
        ))
    }

    /// Admits a request: verifies its access token, that the session was not logged out or
    /// revoked, and counts it against the user's request budget. One round trip to the shared
    /// store answers all that and brings the user's cached roles. While the store is down the
    /// database, where revocations are also recorded, answers instead, and the budget waits.
    pub async fn authenticate(&self, access_token: &str) -> AppResult<Admission> {
        let caller = self.keys.verify_access(access_token)?;
        let budget = self.request_budget;
        let counter = rate_limit::counter_key(budget, &caller.user_id.to_string());
        let read = self
            .store
            .read_and_hit(&admission_keys(caller), (&counter, budget.window))
            .await
            .map(|(values, count)| {
                rate_limit::enforce(budget, count)?;
                Ok(values)
            });
        let roles = self.admit(caller, read).await?;
        Ok(Admission { caller, roles })
    }

    /// Whether a session admitted earlier (a WebSocket's) still stands — token unexpired,
    /// session not revoked — and the user's roles now, without spending the request budget.
    pub async fn recheck(&self, access_token: &str) -> AppResult<Roles> {
        let caller = self.keys.verify_access(access_token)?;
        let read = self.store.read(&admission_keys(caller)).await.map(Ok);
        let known = self.admit(caller, read).await?;
        Ok(actor_of(&self.db, &self.store, caller.user_id, &known)
            .await?
            .roles)
    }

    /// The session's revocation flag and the roles the store had, from a read of
    /// `admission_keys`; the database answers for the revocation when the store could not.
    async fn admit(
        &self,
        caller: Caller,
        read: anyhow::Result<AppResult<Vec<Option<String>>>>,
    ) -> AppResult<KnownRoles> {
        let (revoked, roles) = match read {
            Ok(values) => {
                let values = values?;
                let roles = KnownRoles::from_cache(values[1].as_deref(), values[2].as_deref());
                (values[0].is_some(), roles)
            }
            Err(error) => {
                tracing::warn!(error = %causes(error.as_ref()), "shared store unavailable; checking the session in the database");
                let revoked = refresh_token::Entity::find()
                    .filter(refresh_token::Column::FamilyId.eq(caller.session_id))
                    .filter(refresh_token::Column::RevokedAt.is_not_null())
                    .one(&self.db)
                    .await?
                    .is_some();
                (revoked, KnownRoles::Unknown)
            }
        };
        if revoked {
            return Err(AppError::Unauthenticated(
                "this session has ended; log in again".into(),
            ));
        }
        Ok(roles)
    }

    /// Access tokens are not stored; a revoked session is remembered for as long as one of its
    /// access tokens could still be accepted, leeway included.
    async fn revoke_access(&self, session_id: Uuid) -> AppResult<()> {
        // The database already records the revocation; the flag only makes checks fast.
        if let Err(error) = self
            .store
            .set_flag(
                &revoked_session_key(session_id),
                self.keys.longest_acceptance(),
            )
            .await
        {
            tracing::warn!(error = %causes(error.as_ref()), "shared store unavailable; the revocation is in the database only");
        }
        Ok(())
    }

    pub(super) async fn start_link(
        &self,
        db: &impl ConnectionTrait,
        user: user::Model,
        family_id: Uuid,
    ) -> AppResult<Session> {
        let now = Utc::now();
        let (refresh_token, hash) = new_refresh_token();
        refresh_token::ActiveModel {
            id: Set(Uuid::now_v7()),
            family_id: Set(family_id),
            user_id: Set(user.id),
            token_hash: Set(hash),
            expires_at: Set(
                now + chrono::Duration::from_std(self.refresh_ttl).map_err(AppError::internal)?
            ),
            created_at: Set(now),
            used_at: Set(None),
            revoked_at: Set(None),
        }
        .insert(db)
        .await?;
        let caller = Caller {
            user_id: user.id,
            session_id: family_id,
        };
        let (access_token, expires_at) = self.keys.issue_access(caller, now)?;
        Ok(Session {
            access_token,
            refresh_token,
            expires_at,
            user,
        })
    }
}

async fn revoke_family(
    db: &impl ConnectionTrait,
    family_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    refresh_token::Entity::update_many()
        .set(refresh_token::ActiveModel {
            revoked_at: Set(Some(now)),
            ..Default::default()
        })
        .filter(refresh_token::Column::FamilyId.eq(family_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

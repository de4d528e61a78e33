//! Access tokens (short-lived JWTs) and refresh tokens (opaque, random, stored hashed).
use std::{sync::Arc, time::Duration};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    infra::memo::Memo,
};

const ISSUER: &str = "hongfan";
const AUDIENCE: &str = "hongfan-api";
/// QR payloads are signed with the same key but for another audience, so neither kind of
/// token is accepted where the other is expected.
const REDEMPTION_AUDIENCE: &str = "hongfan-redemption";
/// Clock skew tolerated past a token's `exp`.
const LEEWAY_SECONDS: u64 = 30;
/// Access tokens whose signature was checked, at most this many (then forgotten at once).
const VERIFIED_KEPT: usize = 4_096;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    /// The login session (refresh-token family) this token belongs to, so logout can revoke it.
    sid: Uuid,
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
}

/// Who made a request, as proven by a valid access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub user_id: Uuid,
    pub session_id: Uuid,
}

#[derive(Debug, Serialize, Deserialize)]
struct RedemptionClaims {
    /// The redemption code.
    code: String,
    iss: String,
    aud: String,
    exp: i64,
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    redemption_validation: Validation,
    access_ttl: Duration,
    /// Each app sends the same token with every request until it refreshes, and checking
    /// its HMAC and claims was 4 % of a page request's instructions (bench/RESULTS.md): a token
    /// verified once is taken at its word until its `exp` (plus leeway). Revocation is the
    /// session's business (`sessions::Admission`) and is checked on every request regardless.
    verified: Arc<Memo<String, (Caller, i64)>>,
}

impl TokenKeys {
    pub fn new(secret: &[u8], access_ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        let mut redemption_validation = validation.clone();
        redemption_validation.set_audience(&[REDEMPTION_AUDIENCE]);
        redemption_validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            redemption_validation,
            access_ttl,
            verified: Arc::new(Memo::new(VERIFIED_KEPT)),
        }
    }

    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    /// How long after it was issued an access token may still be accepted: its lifetime plus
    /// the validation leeway. A revocation must be remembered at least this long.
    pub fn longest_acceptance(&self) -> Duration {
        self.access_ttl + Duration::from_secs(LEEWAY_SECONDS)
    }

    pub fn issue_access(
        &self,
        caller: Caller,
        now: DateTime<Utc>,
    ) -> AppResult<(String, DateTime<Utc>)> {
        let expires_at =
            now + chrono::Duration::from_std(self.access_ttl).map_err(AppError::internal)?;
        let claims = Claims {
            sub: caller.user_id,
            sid: caller.session_id,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)?;
        Ok((token, expires_at))
    }

    pub fn verify_access(&self, token: &str) -> AppResult<Caller> {
        let now = Utc::now().timestamp();
        let cached = self.verified.get(token);
        // An expired entry falls through to decoding, which refuses it with the usual error.
        if let Some((caller, exp)) = cached
            && now <= exp + LEEWAY_SECONDS as i64
        {
            return Ok(caller);
        }
        let (caller, exp) = self.decode_access(token)?;
        self.verified.put(token.to_owned(), (caller, exp));
        Ok(caller)
    }

    fn decode_access(&self, token: &str) -> AppResult<(Caller, i64)> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|error| match error.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    AppError::Unauthenticated("access token expired; refresh the session".into())
                }
                _ => AppError::Unauthenticated("invalid access token".into()),
            })?;
        let caller = Caller {
            user_id: data.claims.sub,
            session_id: data.claims.sid,
        };
        Ok((caller, data.claims.exp))
    }
}

impl TokenKeys {
    /// The signed payload of a redemption's QR code, valid until the redemption expires.
    pub fn sign_redemption(&self, code: &str, expires_at: DateTime<Utc>) -> AppResult<String> {
        let claims = RedemptionClaims {
            code: code.to_owned(),
            iss: ISSUER.to_owned(),
            aud: REDEMPTION_AUDIENCE.to_owned(),
            exp: expires_at.timestamp(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)
    }

    /// The code inside a QR payload this server signed.
    pub fn redemption_code(&self, payload: &str) -> AppResult<String> {
        jsonwebtoken::decode::<RedemptionClaims>(
            payload,
            &self.decoding,
            &self.redemption_validation,
        )
        .map(|data| data.claims.code)
        .map_err(|_| AppError::bad_input("this QR code is not a valid or current redemption"))
    }
}

/// A fresh refresh token and the hash under which it is stored.
pub fn new_refresh_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_refresh_token(&token);
    (token, hash)
}

pub fn hash_refresh_token(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(&[7u8; 32], Duration::from_secs(60))
    }

    fn caller() -> Caller {
        Caller {
            user_id: Uuid::now_v7(),
            session_id: Uuid::now_v7(),
        }
    }

    #[test]
    fn issued_token_verifies_to_the_same_caller() {
        let caller = caller();
        let (token, _) = keys().issue_access(caller, Utc::now()).expect("issue");
        assert_eq!(keys().verify_access(&token).expect("verify"), caller);
    }

    #[test]
    fn a_token_verified_before_is_accepted_again_and_its_forgeries_are_not() {
        let keys = keys();
        let caller = caller();
        let (token, _) = keys.issue_access(caller, Utc::now()).expect("issue");
        for _ in 0..2 {
            assert_eq!(keys.verify_access(&token).expect("verify"), caller);
        }
        let (header_and_claims, _) = token.rsplit_once('.').expect("signed");
        let forged = format!("{header_and_claims}.AAAA");
        assert!(keys.verify_access(&forged).is_err());
        let (expired, _) = keys
            .issue_access(caller, Utc::now() - chrono::Duration::minutes(10))
            .expect("issue");
        for _ in 0..2 {
            assert!(keys.verify_access(&expired).is_err());
        }
    }

    #[test]
    fn token_signed_with_another_secret_is_rejected() {
        let other = TokenKeys::new(&[8u8; 32], Duration::from_secs(60));
        let (token, _) = other.issue_access(caller(), Utc::now()).expect("issue");
        assert!(matches!(
            keys().verify_access(&token),
            Err(AppError::Unauthenticated(_))
        ));
    }

    #[test]
    fn expired_token_is_rejected() {
        let (token, _) = keys()
            .issue_access(caller(), Utc::now() - chrono::Duration::hours(1))
            .expect("issue");
        assert!(matches!(
            keys().verify_access(&token),
            Err(AppError::Unauthenticated(_))
        ));
    }

    #[test]
    fn qr_payloads_and_access_tokens_are_not_interchangeable() {
        let qr = keys()
            .sign_redemption("0123456789", Utc::now() + chrono::Duration::days(1))
            .expect("sign");
        assert_eq!(keys().redemption_code(&qr).expect("code"), "0123456789");
        assert!(keys().verify_access(&qr).is_err());
        let (access, _) = keys().issue_access(caller(), Utc::now()).expect("issue");
        assert!(keys().redemption_code(&access).is_err());
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, hash_a) = new_refresh_token();
        let (b, _) = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(hash_refresh_token(&a), hash_a);
        assert_ne!(a, hash_a);
    }
}

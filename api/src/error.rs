//! One error type for every domain service.
//!
//! Policy: each variant is something a client can act on and maps to a stable
//! `extensions.code` in GraphQL responses (see `graphql::error`). Messages of the client-facing
//! variants are written for the user of the mini-program. `Internal` carries the real cause for
//! the logs only; clients see a generic message, never SQL or a stack.
use std::time::Duration;

use sea_orm::{DbErr, SqlErr};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No valid credentials: log in (again).
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated, but this caller may not do this to this object.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request itself is wrong; retrying it unchanged will fail again.
    #[error("{0}")]
    BadInput(String),
    /// Content security found the text unacceptable; nothing was stored.
    #[error("{0}")]
    ContentRejected(String),
    /// The object's current state does not allow this (already taken, already rated, …).
    #[error("{0}")]
    Conflict(String),
    /// Allowed, but only with a second person's approval (e.g. past a daily cap).
    #[error("{0}")]
    ApprovalRequired(String),
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after: Option<Duration>,
    },
    /// A dependency (WeChat, …) is down or busy; retrying later may succeed.
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::BadInput(message.into())
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }

    /// Why, within its code, when clients may want to tell cases apart.
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            Self::ContentRejected(_) => Some("CONTENT_REJECTED"),
            _ => None,
        }
    }

    /// The stable code clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::BadInput(_) | Self::ContentRejected(_) => "BAD_USER_INPUT",
            Self::Conflict(_) => "CONFLICT",
            Self::ApprovalRequired(_) => "APPROVAL_REQUIRED",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::Unavailable(_) => "SERVICE_UNAVAILABLE",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// The status for routes outside GraphQL (CSV exports, Open311); an internal error's
    /// cause is logged here, since those answers carry none of it.
    pub fn http_status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadInput(_) | Self::ContentRejected(_) => StatusCode::BAD_REQUEST,
            Self::Conflict(_) | Self::ApprovalRequired(_) => StatusCode::CONFLICT,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(cause) => {
                tracing::error!(error = %causes(cause.as_ref()), "request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

/// An error and its causes down to the root, for the logs: an error's own line is often only
/// its outermost context ("internal error" for `Internal`), which says nothing of why.
pub fn causes<'a>(error: &'a (dyn std::error::Error + 'static)) -> Causes<'a> {
    Causes(error)
}

pub struct Causes<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Causes<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(error) = cause {
            write!(f, ": {error}")?;
            cause = error.source();
        }
        Ok(())
    }
}

/// Unique constraints, by PostgreSQL constraint name and SQLite column, and what hitting one
/// means to the user. The services check these first; the constraint decides races.
const UNIQUE_CONSTRAINTS: &[(&str, &str, &str)] = &[
    (
        "uq_patrol_signoffs_point",
        "patrol_signoffs.task_id",
        "this point is already signed off on this patrol",
    ),
    (
        "uq_service_records_order",
        "service_records.order_id",
        "this order's service is already recorded",
    ),
    (
        "uq_service_records_activity_user",
        "service_records.activity_id",
        "this attendance is already recorded",
    ),
    (
        "uq_merchant_staff",
        "merchant_staff.merchant_id",
        "this person already works for the merchant",
    ),
    (
        "uq_merchant_badges",
        "merchant_badges.merchant_id",
        "the merchant already has this badge",
    ),
    (
        "uq_redemptions_idempotency_key",
        "redemptions.idempotency_key",
        "this idempotencyKey was already used",
    ),
    (
        "points_entries_idempotency_key_key",
        "points_entries.idempotency_key",
        "this idempotencyKey was already used",
    ),
    (
        "uq_publication_objections_party",
        "publication_objections.subject_id",
        "an objection to this result was already filed: one per person on the roll, or per company",
    ),
    (
        "service_categories_code_key",
        "service_categories.code",
        "a service category with this code already exists",
    ),
];

/// What a unique-constraint violation (its database message) means to the user.
fn unique_violation_message(message: &str) -> &'static str {
    UNIQUE_CONSTRAINTS
        .iter()
        .find(|(constraint, column, _)| {
            message.contains(&format!("\"{constraint}\"")) || message.contains(column)
        })
        .map_or(
            "this was changed concurrently; reload and try again",
            |(_, _, meaning)| meaning,
        )
}

/// The database cannot be reached (down, restarting, or every connection busy past the
/// acquire timeout), as opposed to refusing a statement.
fn is_unreachable(error: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx};
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(error)) | DbErr::Query(RuntimeErr::SqlxError(error)) => {
            match error.as_ref() {
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed => true,
                // SQLSTATE class 08 (connection exception) and 57P (operator intervention:
                // the server is shutting down or starting up).
                sqlx::Error::Database(error) => error
                    .code()
                    .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
                _ => false,
            }
        }
        _ => false,
    }
}

impl From<DbErr> for AppError {
    fn from(error: DbErr) -> Self {
        // Unique constraints are the last guard against races the services did not foresee.
        if let Some(SqlErr::UniqueConstraintViolation(message)) = error.sql_err() {
            return Self::conflict(unique_violation_message(&message));
        }
        if is_unreachable(&error) {
            tracing::warn!(error = %causes(&error), "the database is unreachable");
            return Self::Unavailable(
                "the service is briefly unavailable; try again in a moment".into(),
            );
        }
        Self::Internal(error.into())
    }
}

/// A loader's error, shared by every field that waited on it: the error itself when this is
/// the only holder, else an internal error that keeps it as its cause.
impl From<std::sync::Arc<AppError>> for AppError {
    fn from(error: std::sync::Arc<AppError>) -> Self {
        std::sync::Arc::try_unwrap(error).unwrap_or_else(Self::internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_logs_down_to_its_root_cause() {
        let root = std::io::Error::other("disk full");
        let error = AppError::internal(anyhow::Error::new(root).context("writing the ledger"));
        assert_eq!(
            causes(&error).to_string(),
            "internal error: writing the ledger: disk full"
        );
    }

    #[test]
    fn unique_violations_say_which_rule_was_hit_on_either_database() {
        let postgres = "duplicate key value violates unique constraint \"uq_merchant_badges\"";
        let sqlite = "UNIQUE constraint failed: merchant_badges.merchant_id, merchant_badges.badge";
        for message in [postgres, sqlite] {
            assert_eq!(
                unique_violation_message(message),
                "the merchant already has this badge"
            );
        }
        assert_eq!(
            unique_violation_message("UNIQUE constraint failed: somewhere.else"),
            "this was changed concurrently; reload and try again"
        );
    }
}

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

    /// The stable code clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::BadInput(_) => "BAD_USER_INPUT",
            Self::Conflict(_) => "CONFLICT",
            Self::ApprovalRequired(_) => "APPROVAL_REQUIRED",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::Unavailable(_) => "SERVICE_UNAVAILABLE",
            Self::Internal(_) => "INTERNAL",
        }
    }
}

impl From<DbErr> for AppError {
    fn from(error: DbErr) -> Self {
        // Unique constraints are the last guard against races the services did not foresee.
        if let Some(SqlErr::UniqueConstraintViolation(_)) = error.sql_err() {
            return Self::conflict("this was changed concurrently; reload and try again");
        }
        Self::Internal(error.into())
    }
}

//! Gives every GraphQL error a stable `extensions.code`.
//!
//! Resolvers return `AppError`s, which async-graphql keeps as the error's source; after
//! execution each error is labelled from its source. Errors without one come from
//! async-graphql itself: the query or its arguments did not fit the schema.
use std::sync::Arc;

use async_graphql::{ErrorExtensionValues, ServerError};

use super::{MAX_COMPLEXITY, MAX_DEPTH, limits::Exceeded};
use crate::{
    error::{AppError, causes},
    pagination::DEFAULT_PAGE_SIZE,
};

/// Labels each error with its code (and, when rate limited, when to retry). Errors labelled
/// where they were raised keep their code.
pub fn add_codes(errors: &mut [ServerError]) {
    for error in errors {
        if error
            .extensions
            .as_ref()
            .is_some_and(|extensions| extensions.get("code").is_some())
        {
            continue;
        }
        if let Some(exceeded) = validation_limit(&error.message) {
            *error = exceeded.into_server_error();
            continue;
        }
        let (code, retry_after, reason) = match error.source::<AppError>() {
            Some(app_error) => {
                if let AppError::Internal(cause) = app_error {
                    tracing::error!(error = %causes(cause.as_ref()), path = ?error.path, "internal error");
                }
                let retry_after = match app_error {
                    AppError::RateLimited { retry_after, .. } => retry_after.map(|d| d.as_secs()),
                    _ => None,
                };
                (app_error.code(), retry_after, app_error.reason())
            }
            None => ("BAD_USER_INPUT", None, None),
        };
        let extensions = error
            .extensions
            .get_or_insert_with(ErrorExtensionValues::default);
        extensions.set("code", code);
        if let Some(reason) = reason {
            extensions.set("reason", reason);
        }
        if let Some(seconds) = retry_after {
            extensions.set("retryAfter", seconds);
        }
    }
}

/// async-graphql's own limit refusals, reworded to say which limit and how to stay under it.
fn validation_limit(message: &str) -> Option<Exceeded> {
    let (limit, message) = match message {
        "Query is too complex." => (
            "cost",
            format!(
                "the query costs more than the limit of {MAX_COMPLEXITY}: each field costs 1 \
                 plus its selection, and each list its page size (`first`, default {DEFAULT_PAGE_SIZE}) \
                 times its items' cost; ask for fewer items or fields"
            ),
        ),
        "Query is nested too deep." => (
            "depth",
            format!("the query nests fields more than {MAX_DEPTH} deep"),
        ),
        _ => return None,
    };
    Some(Exceeded { limit, message })
}

/// An error raised before execution, e.g. by authentication.
pub fn request_error(app_error: AppError) -> ServerError {
    let mut error = ServerError::new(app_error.to_string(), None);
    error.source = Some(Arc::new(app_error));
    add_codes(std::slice::from_mut(&mut error));
    error
}

/// An error with a code of its own, for refusals made before a document runs.
pub fn coded_error(message: impl Into<String>, code: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    error
}

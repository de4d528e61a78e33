//! Gives every GraphQL error a stable `extensions.code`.
//!
//! Resolvers return `AppError`s, which async-graphql keeps as the error's source; after
//! execution each error is labelled from its source. Errors without one come from
//! async-graphql itself: the query or its arguments did not fit the schema.
use std::sync::Arc;

use async_graphql::{ErrorExtensionValues, ServerError};

use crate::error::AppError;

/// Labels each error with its code (and, when rate limited, when to retry).
pub fn add_codes(errors: &mut [ServerError]) {
    for error in errors {
        let (code, retry_after) = match error.source::<AppError>() {
            Some(app_error) => {
                if let AppError::Internal(cause) = app_error {
                    tracing::error!(error = ?cause, path = ?error.path, "internal error");
                }
                let retry_after = match app_error {
                    AppError::RateLimited { retry_after, .. } => retry_after.map(|d| d.as_secs()),
                    _ => None,
                };
                (app_error.code(), retry_after)
            }
            None => ("BAD_USER_INPUT", None),
        };
        let extensions = error
            .extensions
            .get_or_insert_with(ErrorExtensionValues::default);
        extensions.set("code", code);
        if let Some(seconds) = retry_after {
            extensions.set("retryAfter", seconds);
        }
    }
}

/// An error raised before execution, e.g. by authentication.
pub fn request_error(app_error: AppError) -> ServerError {
    let mut error = ServerError::new(app_error.to_string(), None);
    error.source = Some(Arc::new(app_error));
    add_codes(std::slice::from_mut(&mut error));
    error
}

//! Gives every GraphQL error a stable `extensions.code`.
//!
//! Resolvers return `AppError`s, which async-graphql keeps as the error's source; here, after
//! execution, each error is labelled from its source. Errors without one come from
//! async-graphql itself: the query or its arguments did not fit the schema.
use std::sync::Arc;

use async_graphql::{
    ErrorExtensionValues, Response, ServerError,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextRequest, NextSubscribe},
    futures_util::{StreamExt, stream::BoxStream},
};

use crate::error::AppError;

/// Labels the errors of every response, over HTTP and WebSocket alike.
pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes)
    }
}

#[async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        add_codes(&mut response.errors);
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream)
            .map(|mut response| {
                add_codes(&mut response.errors);
                response
            })
            .boxed()
    }
}

fn add_codes(errors: &mut [ServerError]) {
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

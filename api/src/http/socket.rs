//! The executor behind one WebSocket connection. A socket outlives the checks an HTTP request
//! gets once, so here each subscription is admitted like a request (bounded document, live
//! session, request budget) and then watched: when the session is logged out, revoked or
//! expires, or the user's roles change, on whichever instance, the subscription completes
//! with an error. Queries and mutations are refused: they go over HTTP, where the after-commit
//! effects run.
use std::{
    net::IpAddr,
    sync::{Arc, OnceLock},
    time::Duration,
};

use async_graphql::{
    Data, Executor, Request, Response, ServerError,
    futures_util::{
        StreamExt,
        stream::{self, BoxStream},
    },
    parser::types::{DocumentOperations, OperationType},
};

use crate::graphql::{
    Api, RequestContext,
    error::{self, coded_error},
};
use crate::{
    error::AppError,
    identity::{
        KnownRoles, actor_of,
        sessions::{Admission, SessionService},
    },
};

/// How often a subscription checks that its session still stands.
const RECHECK_EVERY: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct SocketExecutor {
    api: Api,
    sessions: SessionService,
    client_ip: IpAddr,
    /// The access token from `connection_init`.
    access_token: Arc<OnceLock<String>>,
}

impl SocketExecutor {
    pub fn new(api: Api, sessions: SessionService, client_ip: IpAddr) -> Self {
        Self {
            api,
            sessions,
            client_ip,
            access_token: Arc::default(),
        }
    }

    /// Remembers the token the connection was opened with.
    pub fn opened_with(&self, access_token: String) {
        let _ = self.access_token.set(access_token);
    }

    async fn subscribe(
        self,
        mut request: Request,
        session_data: Arc<Data>,
    ) -> Result<BoxStream<'static, Response>, ServerError> {
        if let Err(exceeded) = self.api.documents.admit(&mut request) {
            return Err(exceeded.into_server_error());
        }
        if !is_subscription(&mut request) {
            return Err(coded_error(
                "only subscriptions are served over the socket; send queries and mutations to POST /graphql",
                "BAD_REQUEST",
            ));
        }
        let token = self.access_token.get().cloned().ok_or_else(|| {
            error::request_error(AppError::Unauthenticated(
                "send accessToken in connection_init".into(),
            ))
        })?;
        let admission = self
            .sessions
            .authenticate(&token)
            .await
            .map_err(error::request_error)?;
        let roles = actor_of(
            &self.sessions.db,
            &self.sessions.store,
            admission.caller.user_id,
            &admission.roles,
        )
        .await
        .map_err(error::request_error)?
        .roles;
        let admission = Admission {
            caller: admission.caller,
            roles: KnownRoles::Cached(roles.clone()),
        };
        let request = request.data(RequestContext::new(
            &self.sessions.db,
            Some(admission),
            Some(self.client_ip),
        ));
        let events = self
            .api
            .schema
            .execute_stream_with_session_data(request, session_data);
        let sessions = self.sessions;
        let ended = Box::pin(async move {
            loop {
                tokio::time::sleep(RECHECK_EVERY).await;
                match sessions.recheck(&token).await {
                    Ok(now) if now == roles => continue,
                    Ok(_) => {
                        return error::request_error(AppError::forbidden(
                            "your roles changed; subscribe again",
                        ));
                    }
                    Err(ended) => return error::request_error(ended),
                }
            }
        });
        Ok(until_ended(events, ended))
    }
}

/// The events, until `ended` yields the error that ends them.
fn until_ended(
    events: BoxStream<'static, Response>,
    ended: std::pin::Pin<Box<dyn Future<Output = ServerError> + Send>>,
) -> BoxStream<'static, Response> {
    stream::unfold(Some((events, ended)), |state| async move {
        let (mut events, mut ended) = state?;
        tokio::select! {
            event = events.next() => event.map(|event| (event, Some((events, ended)))),
            error = &mut ended => Some((Response::from_errors(vec![error]), None)),
        }
    })
    .boxed()
}

fn is_subscription(request: &mut Request) -> bool {
    let name = request.operation_name.clone();
    let Ok(document) = request.parsed_query() else {
        // Execution reports the syntax error.
        return true;
    };
    let operation = match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name.as_str()),
        (DocumentOperations::Multiple(operations), None) => operations.values().next(),
    };
    operation.is_none_or(|operation| operation.node.ty == OperationType::Subscription)
}

impl Executor for SocketExecutor {
    async fn execute(&self, _request: Request) -> Response {
        Response::from_errors(vec![coded_error(
            "send queries and mutations to POST /graphql",
            "BAD_REQUEST",
        )])
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let this = self.clone();
        stream::once(async move {
            match this
                .subscribe(request, session_data.unwrap_or_default())
                .await
            {
                Ok(events) => events,
                Err(error) => {
                    stream::once(async move { Response::from_errors(vec![error]) }).boxed()
                }
            }
        })
        .flatten()
        .map(|mut response| {
            error::add_codes(&mut response.errors);
            response
        })
        .boxed()
    }
}

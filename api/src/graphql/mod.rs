//! The GraphQL API: thin resolvers that read the caller and arguments, call one domain
//! service function and convert its result. One module per domain area.
mod assessment;
mod auto_routing;
mod certificates;
mod console_login;
mod consultations;
mod content;
mod deeds;
pub(crate) mod error;
mod escalations;
mod identity;
mod inbox;
pub mod limits;
mod loaders;
mod merchants;
mod open311;
mod orders;
mod organisation;
mod patrols;
mod photos;
mod points;
mod property;
mod publication;
mod statements;
mod stats;
mod subscriptions;
mod units;
mod wishes;

use async_graphql::{
    Context, ID, MergedObject, OutputType, Request, Response, Schema, ValidationMode,
    connection::{Connection, Edge},
    dataloader::{DataLoader, HashMapCache, Loader},
};
use entity::{
    community, deed_kind, department, enums::Badge, escalation, merchant, offer, order,
    order_callback, order_event, photo, service_category, unit, user,
};
use loaders::{BatchLoader, ByIdLoader, ChildrenLoader};
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::{
    error::AppError,
    identity::{Actor, KnownRoles, actor_of, sessions::Admission, tokens::Caller},
    notify::Committed,
    organisation::units::UnitTotals,
    pagination::{Page, PageRequest, encode_cursor},
    state::AppState,
};

#[derive(MergedObject, Default)]
pub struct QueryRoot(
    identity::IdentityQuery,
    content::ContentQuery,
    inbox::InboxQuery,
    organisation::OrganisationQuery,
    orders::OrderQuery,
    auto_routing::AutoRoutingQuery,
    escalations::EscalationQuery,
    points::PointsQuery,
    deeds::DeedQuery,
    assessment::AssessmentQuery,
    merchants::MerchantQuery,
    statements::StatementQuery,
    open311::Open311Query,
    stats::StatsQuery,
    wishes::WishQuery,
    units::UnitQuery,
    consultations::ConsultationQuery,
    patrols::PatrolQuery,
    property::PropertyQuery,
);

#[derive(MergedObject, Default)]
pub struct MutationRoot(
    identity::IdentityMutation,
    console_login::ConsoleLoginMutation,
    content::ContentMutation,
    inbox::InboxMutation,
    organisation::OrganisationMutation,
    orders::OrderMutation,
    auto_routing::AutoRoutingMutation,
    escalations::EscalationMutation,
    photos::PhotoMutation,
    points::PointsMutation,
    certificates::CertificateMutation,
    deeds::DeedMutation,
    assessment::AssessmentMutation,
    merchants::MerchantMutation,
    statements::StatementMutation,
    open311::Open311Mutation,
    wishes::WishMutation,
    units::UnitMutation,
    consultations::ConsultationMutation,
    patrols::PatrolMutation,
    property::PropertyMutation,
);

pub type AppSchema = Schema<QueryRoot, MutationRoot, subscriptions::SubscriptionRoot>;

/// Deep or costly queries are refused before they reach the database. A field costs 1 plus
/// its selection; a list multiplies its items' cost by its page size (`pagination::list_cost`).
pub const MAX_DEPTH: usize = 12;
pub const MAX_COMPLEXITY: usize = 10_000;
/// Depth of GraphiQL's own introspection query (graphql-js `getIntrospectionQuery`: types →
/// fields → args → type → nine `ofType`s → name), admitted for documents that only
/// introspect, where introspection is on.
pub const MAX_INTROSPECTION_DEPTH: usize = 15;

/// `development` keeps introspection and "did you mean…" suggestions, which in production
/// would describe the schema to strangers.
fn build_schema(
    state: Option<AppState>,
    development: bool,
    validation: ValidationMode,
) -> AppSchema {
    build_schema_with_depth(state, development, validation, MAX_DEPTH)
}

fn build_schema_with_depth(
    state: Option<AppState>,
    development: bool,
    validation: ValidationMode,
    depth: usize,
) -> AppSchema {
    let mut builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        subscriptions::SubscriptionRoot,
    )
    .limit_depth(depth)
    .limit_complexity(MAX_COMPLEXITY)
    .validation_mode(validation);
    if let Some(state) = state {
        builder = builder.data(state);
    }
    if !development {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// The SDL the mobile front-ends code against (`schema.graphql`).
pub fn sdl() -> String {
    build_schema(None, true, ValidationMode::Strict).sdl()
}

/// The schema with what every operation needs around it: documents measured before parsing,
/// errors labelled with their code. Done around execution rather than as schema extensions,
/// which async-graphql would call for every field.
#[derive(Clone)]
pub struct Api {
    pub(crate) schema: AppSchema,
    /// The same schema validating only cost and depth, for requests whose text and operation
    /// passed full validation before without variables: validating them again would give the
    /// same answer (async-graphql runs every rule on every request otherwise).
    revalidating_cost_only: AppSchema,
    /// Where introspection is on: the schema for documents that only introspect, with the
    /// depth GraphiQL's introspection query needs and every other limit as usual.
    introspecting: Option<AppSchema>,
    pub(crate) documents: Arc<limits::ParsedDocuments>,
}

impl Api {
    pub fn new(state: AppState, development: bool) -> Self {
        let introspecting = development.then(|| {
            build_schema_with_depth(
                Some(state.clone()),
                development,
                ValidationMode::Strict,
                MAX_INTROSPECTION_DEPTH,
            )
        });
        Self {
            schema: build_schema(Some(state.clone()), development, ValidationMode::Strict),
            revalidating_cost_only: build_schema(Some(state), development, ValidationMode::Fast),
            introspecting,
            documents: Arc::default(),
        }
    }
}

impl Api {
    /// Runs one query or mutation (subscriptions go through `http::socket::SocketExecutor`).
    pub async fn execute(&self, mut request: Request) -> Response {
        let admitted = self.documents.admit(&mut request);
        // Measured and parsed by now: only a bounded document is looked at.
        let introspecting = self.introspecting.as_ref().filter(|_| {
            admitted.is_ok() && request.parsed_query().is_ok_and(limits::only_introspects)
        });
        let mut response = match (admitted, introspecting) {
            (Err(exceeded), _) => return Response::from_errors(vec![exceeded.into_server_error()]),
            (Ok(_), Some(schema)) => schema.execute(request).await,
            (Ok(true), None) => self.revalidating_cost_only.execute(request).await,
            (Ok(false), None) if request.variables.is_empty() => {
                let (query, operation) = (request.query.clone(), request.operation_name.clone());
                let response = self.schema.execute(request).await;
                // Validation errors have no path; errors met while executing do.
                if response.errors.iter().all(|error| !error.path.is_empty()) {
                    self.documents.validated(&query, operation);
                }
                response
            }
            (Ok(false), None) => self.schema.execute(request).await,
        };
        error::add_codes(&mut response.errors);
        response
    }
}

/// Per-request data: who is calling, and their roles once someone asked for them.
pub struct RequestContext {
    caller: Option<Caller>,
    known_roles: KnownRoles,
    client_ip: Option<std::net::IpAddr>,
    actor: OnceCell<Actor>,
    users: ByIdLoader<user::Entity>,
    categories: ByIdLoader<service_category::Entity>,
    communities: ByIdLoader<community::Entity>,
    offers: ChildrenLoader<offer::Model>,
    badges: ChildrenLoader<Badge>,
    order_events: ChildrenLoader<order_event::Model>,
    order_photos: ChildrenLoader<photo::Model>,
    merchant_photos: ChildrenLoader<photo::Model>,
    wish_photos: ChildrenLoader<photo::Model>,
    order_callbacks: ChildrenLoader<order_callback::Model>,
    order_escalations: ChildrenLoader<escalation::Model>,
    departments: ByIdLoader<department::Entity>,
    units: ByIdLoader<unit::Entity>,
    merchants: BatchLoader<merchant::Model>,
    unit_totals: BatchLoader<UnitTotals>,
    orders: ByIdLoader<order::Entity>,
    deed_kinds: ByIdLoader<deed_kind::Entity>,
}

impl RequestContext {
    pub fn new(
        db: &DatabaseConnection,
        admission: Option<Admission>,
        client_ip: Option<std::net::IpAddr>,
    ) -> Self {
        let (caller, known_roles) = match admission {
            Some(Admission { caller, roles }) => (Some(caller), roles),
            None => (None, KnownRoles::Unknown),
        };
        Self {
            caller,
            known_roles,
            client_ip,
            actor: OnceCell::new(),
            users: loaders::by_id(db),
            categories: loaders::by_id(db),
            communities: loaders::by_id(db),
            offers: loaders::batched(db, |db, ids| {
                Box::pin(crate::merchants::offers::of_merchants(db, ids))
            }),
            badges: loaders::batched(db, |db, ids| {
                Box::pin(crate::merchants::badges_of_merchants(db, ids))
            }),
            order_events: loaders::batched(db, |db, ids| {
                Box::pin(crate::orders::events_of(db, ids))
            }),
            order_photos: loaders::batched(db, |db, ids| {
                Box::pin(crate::content::photos::of_orders(db, ids))
            }),
            merchant_photos: loaders::batched(db, |db, ids| {
                Box::pin(crate::content::photos::of_merchants(db, ids))
            }),
            wish_photos: loaders::batched(db, |db, ids| {
                Box::pin(crate::content::photos::of_wishes(db, ids))
            }),
            order_callbacks: loaders::batched(db, |db, ids| {
                Box::pin(crate::orders::callbacks::of_orders(db, ids))
            }),
            order_escalations: loaders::batched(db, |db, ids| {
                Box::pin(crate::orders::escalations::of_orders(db, ids))
            }),
            departments: loaders::by_id(db),
            units: loaders::by_id(db),
            merchants: loaders::batched(db, |db, ids| Box::pin(crate::merchants::by_ids(db, ids))),
            unit_totals: loaders::batched(db, |db, ids| {
                Box::pin(crate::organisation::units::totals_of(db, ids))
            }),
            orders: loaders::by_id(db),
            deed_kinds: loaders::by_id(db),
        }
    }
}

// async-graphql moves the future of an object's largest field into a fresh box for every
// field it resolves, so the helpers below box their loads and queries: a page of 20 orders
// copied ~300 KB of mostly unused future state per request before (bench/RESULTS.md).

/// Looks a row up through one of the request's batching loaders.
async fn load<L>(
    loader: impl Fn(&RequestContext) -> &DataLoader<L, HashMapCache>,
    ctx: &Context<'_>,
    id: Uuid,
    what: &'static str,
) -> async_graphql::Result<L::Value>
where
    L: Loader<Uuid, Error = Arc<AppError>>,
{
    let request = ctx.data::<RequestContext>()?;
    Box::pin(loader(request).load_one(id))
        .await
        .map_err(AppError::from)?
        .ok_or_else(|| AppError::NotFound(what).into())
}

/// The children of a parent row, through the request's batching loader.
async fn load_children<V: Clone + Send + Sync + 'static>(
    loader: impl Fn(&RequestContext) -> &ChildrenLoader<V>,
    ctx: &Context<'_>,
    parent: Uuid,
) -> async_graphql::Result<Vec<V>> {
    let request = ctx.data::<RequestContext>()?;
    Ok(Box::pin(loader(request).load_one(parent))
        .await
        .map_err(AppError::from)?
        .unwrap_or_default())
}

/// Rows the request already has, by id, so that resolving them through `loader` runs no query.
async fn known<L>(
    loader: impl Fn(&RequestContext) -> &DataLoader<L, HashMapCache>,
    ctx: &Context<'_>,
    rows: impl IntoIterator<Item = (Uuid, L::Value)>,
) -> async_graphql::Result<()>
where
    L: Loader<Uuid, Error = Arc<AppError>>,
{
    loader(ctx.data::<RequestContext>()?).feed_many(rows).await;
    Ok(())
}

async fn load_user(ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<user::Model> {
    load(|r| &r.users, ctx, id, "user").await
}

async fn load_merchant(ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<merchant::Model> {
    load(|r| &r.merchants, ctx, id, "merchant").await
}

async fn load_category(
    ctx: &Context<'_>,
    id: Uuid,
) -> async_graphql::Result<service_category::Model> {
    let catalog = &state(ctx)?.categories;
    if let Some(category) = catalog.get(id) {
        return Ok(category);
    }
    let category = load(|r| &r.categories, ctx, id, "service category").await?;
    catalog.remember(&category);
    Ok(category)
}

async fn load_community(ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<community::Model> {
    load(|r| &r.communities, ctx, id, "community").await
}

fn client_ip(ctx: &Context<'_>) -> Option<std::net::IpAddr> {
    ctx.data::<RequestContext>()
        .ok()
        .and_then(|request| request.client_ip)
}

fn state<'c>(ctx: &Context<'c>) -> async_graphql::Result<&'c AppState> {
    ctx.data::<AppState>()
}

fn caller(ctx: &Context<'_>) -> Result<Caller, AppError> {
    ctx.data::<RequestContext>()
        .ok()
        .and_then(|request| request.caller)
        .ok_or_else(|| AppError::Unauthenticated("log in first".into()))
}

/// The authenticated caller with their roles; fails with UNAUTHENTICATED for anonymous calls.
async fn actor<'c>(ctx: &Context<'c>) -> async_graphql::Result<&'c Actor> {
    let caller = caller(ctx)?;
    let state = state(ctx)?;
    let request = ctx.data::<RequestContext>()?;
    Ok(request
        .actor
        .get_or_try_init(|| {
            Box::pin(actor_of(
                &state.db,
                &state.store,
                caller.user_id,
                &request.known_roles,
            ))
        })
        .await?)
}

/// Hands a command's committed change to the dispatcher and returns the command's result.
async fn settle<T>(ctx: &Context<'_>, committed: Committed<T>) -> async_graphql::Result<T> {
    Ok(state(ctx)?.dispatcher.settle(committed).await)
}

fn parse_id(field: &str, id: &ID) -> Result<Uuid, AppError> {
    Uuid::parse_str(id.as_str())
        .map_err(|_| AppError::bad_input(format!("{field} is not a valid id")))
}

fn to_id(id: Uuid) -> ID {
    ID(id.to_string())
}

/// A page of models as a Relay connection of their GraphQL nodes.
fn connection<M, N: OutputType>(
    page: Page<M>,
    request: PageRequest,
    id: impl Fn(&M) -> Uuid,
    mut node: impl FnMut(M) -> N,
) -> Connection<String, N> {
    let mut connection = Connection::new(request.after.is_some(), page.has_next_page);
    connection.edges.extend(
        page.items
            .into_iter()
            .map(|model| Edge::new(encode_cursor(id(&model)), node(model))),
    );
    connection
}

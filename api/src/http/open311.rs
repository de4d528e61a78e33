//! Open data: an Open311 GeoReport v2 facade over orders (`/open311/v2/…`), so that civic
//! tools and city hotlines can read and file service requests. Reading is open to anyone and
//! counted against the anonymous per-address budget; no personal datum (names, phones,
//! addresses, descriptions) is ever in an answer: a request shows its category, title, status
//! and times. Filing (`POST requests.json`) needs an `api_key` that ADMIN issued for a
//! community: the order is placed on a resident's behalf through the HOTLINE channel.
use std::net::SocketAddr;

use axum::{
    Form, Json,
    extract::{ConnectInfo, Path, Query, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use entity::{enums::OrderStatus, order, service_category};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::caller::PerAddress;
use crate::{
    error::{AppError, AppResult},
    identity,
    orders::{self, NewOrder, OnBehalf, PlaceOrderInput, categories, workflow::CLOSED},
    organisation::{self, api_keys},
    state::AppState,
};

/// Most requests one `requests.json` answer lists (the spec's default window is 90 days).
const MAX_REQUESTS: u64 = 200;

#[derive(Clone)]
pub struct Open311 {
    pub state: AppState,
    /// Requests per address per minute, counted apart from GraphQL's.
    pub budget: PerAddress,
    /// Where this API is reached from outside, for discovery.json.
    pub public_url: String,
}

/// An Open311 error answer: `[{ code, description }]` with the HTTP status as its code.
fn refusal(error: AppError) -> Response {
    let status = error.http_status();
    let body = serde_json::json!([{ "code": status.as_u16(), "description": error.to_string() }]);
    (status, Json(body)).into_response()
}

/// The facade's routes, to nest under `/open311/v2`.
pub fn routes(open311: Open311) -> axum::Router {
    use axum::routing::get;
    axum::Router::new()
        .route("/discovery.json", get(discovery))
        .route("/services.json", get(services))
        .route("/requests.json", get(requests).post(file_request))
        .route("/requests/{file}", get(request))
        .with_state(open311)
}

/// Admits the caller against the per-address budget, then answers with `work`'s result as
/// JSON, or its error as Open311 has errors.
async fn answer<T: Serialize>(
    open311: &Open311,
    headers: &HeaderMap,
    peer: SocketAddr,
    work: impl Future<Output = AppResult<T>>,
) -> Response {
    if let Err(error) = open311.budget.admit(headers, peer).await {
        return refusal(error);
    }
    match work.await {
        Ok(value) => Json(value).into_response(),
        Err(error) => refusal(error),
    }
}

/// `GET /open311/v2/discovery.json`
pub async fn discovery(
    State(open311): State<Open311>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    let url = format!("{}/open311/v2", open311.public_url.trim_end_matches('/'));
    let discovery = async {
        Ok(serde_json::json!({
            "changeset": "2026-11-25T00:00:00Z",
            "contact": "请联系所在社区居委会",
            "key_service": "API keys are issued by the district administrator",
            "endpoints": [{
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": url,
                "changeset": "2026-11-25T00:00:00Z",
                "type": "production",
                "formats": ["application/json"],
            }],
        }))
    };
    answer(&open311, &headers, peer, discovery).await
}

#[derive(Serialize)]
struct Service {
    service_code: String,
    service_name: String,
    description: String,
    metadata: bool,
    r#type: &'static str,
    keywords: &'static str,
    group: &'static str,
}

/// `GET /open311/v2/services.json`: the service categories residents may order.
pub async fn services(
    State(open311): State<Open311>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    let db = &open311.state.db;
    let listed = async {
        Ok(categories::list(db, false)
            .await?
            .into_iter()
            .map(|category| Service {
                service_code: category.code,
                description: category.name.clone(),
                service_name: category.name,
                metadata: false,
                r#type: "realtime",
                keywords: "",
                group: "",
            })
            .collect::<Vec<_>>())
    };
    answer(&open311, &headers, peer, listed).await
}

/// A request as Open311 shows it: nothing that names or locates a person.
#[derive(Serialize)]
struct ServiceRequest {
    service_request_id: String,
    status: &'static str,
    status_notes: Option<String>,
    service_name: String,
    service_code: String,
    description: String,
    agency_responsible: String,
    requested_datetime: DateTime<Utc>,
    updated_datetime: DateTime<Utc>,
    expected_datetime: Option<DateTime<Utc>>,
}

fn open311_status(status: OrderStatus) -> &'static str {
    if CLOSED.contains(&status) {
        "closed"
    } else {
        "open"
    }
}

async fn shown(
    db: &DatabaseConnection,
    orders: Vec<order::Model>,
) -> AppResult<Vec<ServiceRequest>> {
    let categories: std::collections::HashMap<Uuid, service_category::Model> =
        categories::list(db, true)
            .await?
            .into_iter()
            .map(|category| (category.id, category))
            .collect();
    let communities: std::collections::HashMap<Uuid, String> = organisation::communities(db)
        .await?
        .into_iter()
        .map(|community| (community.id, community.name))
        .collect();
    Ok(orders
        .into_iter()
        .map(|order| {
            let category = categories.get(&order.category_id);
            ServiceRequest {
                service_request_id: order.id.to_string(),
                status: open311_status(order.status),
                status_notes: (order.status == OrderStatus::Cancelled)
                    .then(|| "cancelled".to_owned()),
                service_name: category.map(|c| c.name.clone()).unwrap_or_default(),
                service_code: category.map(|c| c.code.clone()).unwrap_or_default(),
                description: order.title,
                agency_responsible: communities
                    .get(&order.community_id)
                    .cloned()
                    .unwrap_or_default(),
                requested_datetime: order.created_at,
                updated_datetime: order.updated_at,
                expected_datetime: order.completion_due_at,
            }
        })
        .collect())
}

#[derive(Deserialize)]
pub struct RequestsQuery {
    service_code: Option<String>,
    status: Option<String>,
    start_date: Option<DateTime<Utc>>,
    end_date: Option<DateTime<Utc>>,
}

/// `GET /open311/v2/requests.json?service_code=&status=open|closed&start_date=&end_date=`:
/// newest first, at most 200, from the last 90 days unless dates are given.
pub async fn requests(
    State(open311): State<Open311>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<RequestsQuery>,
) -> Response {
    let db = &open311.state.db;
    answer(&open311, &headers, peer, search(db, query)).await
}

async fn search(db: &DatabaseConnection, query: RequestsQuery) -> AppResult<Vec<ServiceRequest>> {
    let end = query.end_date.unwrap_or_else(Utc::now);
    let start = query.start_date.unwrap_or(end - chrono::Duration::days(90));
    if end <= start {
        return Err(AppError::bad_input("end_date must be after start_date"));
    }
    let mut select = order::Entity::find()
        .filter(order::Column::CreatedAt.gte(start))
        .filter(order::Column::CreatedAt.lt(end));
    match query.status.as_deref() {
        None => {}
        Some("open") => select = select.filter(order::Column::Status.is_not_in(CLOSED)),
        Some("closed") => select = select.filter(order::Column::Status.is_in(CLOSED)),
        Some(_) => return Err(AppError::bad_input("status is open or closed")),
    }
    if let Some(codes) = &query.service_code {
        let wanted: Vec<&str> = codes.split(',').collect();
        let ids: Vec<Uuid> = categories::list(db, true)
            .await?
            .into_iter()
            .filter(|category| wanted.contains(&category.code.as_str()))
            .map(|category| category.id)
            .collect();
        select = select.filter(order::Column::CategoryId.is_in(ids));
    }
    let orders = select
        .order_by_desc(order::Column::Id)
        .limit(MAX_REQUESTS)
        .all(db)
        .await?;
    shown(db, orders).await
}

/// `GET /open311/v2/requests/{id}.json`: a list of one, as the spec has it.
pub async fn request(
    State(open311): State<Open311>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(file): Path<String>,
) -> Response {
    let db = &open311.state.db;
    let one = async {
        let id = file
            .strip_suffix(".json")
            .and_then(|id| Uuid::parse_str(id).ok())
            .ok_or(AppError::NotFound("service request"))?;
        shown(db, vec![orders::find(db, id).await?]).await
    };
    answer(&open311, &headers, peer, one).await
}

/// The fields of a new request this facade takes (others in the spec are ignored).
#[derive(Deserialize)]
pub struct NewRequest {
    api_key: String,
    service_code: String,
    description: String,
    address_string: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
}

/// `POST /open311/v2/requests.json` (form-encoded): a hotline files an order for a resident
/// of the key's community.
pub async fn file_request(
    State(open311): State<Open311>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(new): Form<NewRequest>,
) -> Response {
    let filed = async {
        let order = file(&open311.state, new).await?;
        Ok(serde_json::json!([{
            "service_request_id": order.id.to_string(),
            "service_notice": "已转社区派单",
            "account_id": null,
        }]))
    };
    answer(&open311, &headers, peer, filed).await
}

async fn file(state: &AppState, new: NewRequest) -> AppResult<order::Model> {
    let db = &state.db;
    let key = api_keys::valid(db, &new.api_key).await?;
    let category = categories::list(db, false)
        .await?
        .into_iter()
        .find(|category| category.code == new.service_code)
        .ok_or_else(|| AppError::bad_input("service_code is not one of services.json"))?;
    let name = [new.last_name, new.first_name]
        .into_iter()
        .flatten()
        .collect::<String>();
    let operator = identity::load_actor(db, key.issued_by).await?;
    let description = new.description.trim().to_owned();
    let title: String = description.chars().take(40).collect();
    let placed = orders::place_on_behalf(
        db,
        &state.categories,
        &state.photos,
        state.placing,
        &operator,
        NewOrder::try_from(PlaceOrderInput {
            category_id: category.id,
            title,
            description,
            address: new.address_string.unwrap_or_default(),
            contact_phone: None,
            preferred_time: None,
            urgency: None,
            photo_keys: Vec::new(),
        })?,
        OnBehalf {
            community_id: key.community_id,
            resident_name: if name.is_empty() {
                "热线来电".to_owned()
            } else {
                name
            },
            phone: new.phone.unwrap_or_default(),
            channel: entity::enums::OrderChannel::Hotline,
        },
    )
    .await?;
    Ok(state.dispatcher.settle(placed).await)
}

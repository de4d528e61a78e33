//! CSV exports over HTTP for STAFF and ADMIN (`GET /exports/orders.csv`), with the same
//! access token and request budget as GraphQL. Rows are streamed page by page, so an export of
//! a year costs the server one page of memory. UTF-8 with a byte-order mark, so that Excel
//! opens Chinese text; cells that a spreadsheet would run as a formula are quoted as text.
use std::collections::HashMap;

use axum::{
    body::Body,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use entity::{order, service_category, user};
use futures::stream;
use sea_orm::{
    ActiveEnum, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    identity::actor_of,
    state::AppState,
};

/// Orders read per round trip while streaming.
const PAGE: u64 = 500;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrdersExport {
    community_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

const ORDER_COLUMNS: &[&str] = &[
    "订单号",
    "下单时间",
    "类别",
    "标题",
    "地址",
    "联系电话",
    "状态",
    "渠道",
    "居民",
    "接单党员",
    "接单时间",
    "完成时间",
    "评分",
    "预警",
];

/// `GET /exports/orders.csv?communityId=…&from=…&to=…`: the community's orders placed in the
/// period, oldest first, for its STAFF (and ADMIN).
pub async fn orders_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(export): Query<OrdersExport>,
) -> Response {
    match authorise(&state, &headers, &export).await {
        Ok(()) => {}
        Err(error) => return refusal(error),
    }
    let header_row = format!("\u{feff}{}\r\n", ORDER_COLUMNS.join(","));
    let first = stream::once(async move { Ok::<_, std::io::Error>(header_row) });
    let rows = stream::unfold(Some(None::<Uuid>), move |after| {
        let db = state.db.clone();
        let export_range = (export.community_id, export.from, export.to);
        async move {
            let after = after?;
            match order_page(&db, export_range, after).await {
                Ok((text, next)) if !text.is_empty() => Some((Ok(text), next.map(Some))),
                Ok(_) => None,
                Err(error) => {
                    tracing::error!(%error, "orders export failed midway");
                    Some((Err(std::io::Error::other("export failed")), None))
                }
            }
        }
    });
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"orders.csv\"",
            ),
        ],
        Body::from_stream(futures::StreamExt::chain(first, rows)),
    )
        .into_response()
}

async fn authorise(state: &AppState, headers: &HeaderMap, export: &OrdersExport) -> AppResult<()> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(|| AppError::Unauthenticated("send Authorization: Bearer <token>".into()))?;
    let admission = state.sessions.authenticate(token).await?;
    let actor = actor_of(
        &state.db,
        &state.store,
        admission.caller.user_id,
        &admission.roles,
    )
    .await?;
    if !actor.roles.is_staff_of(export.community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community (or ADMIN) may export its orders",
        ));
    }
    if export.to <= export.from || export.to - export.from > chrono::Duration::days(3 * 366) {
        return Err(AppError::bad_input(
            "`to` must be after `from`, at most three years later",
        ));
    }
    Ok(())
}

fn refusal(error: AppError) -> Response {
    let status = match error.code() {
        "UNAUTHENTICATED" => StatusCode::UNAUTHORIZED,
        "FORBIDDEN" => StatusCode::FORBIDDEN,
        "BAD_USER_INPUT" => StatusCode::BAD_REQUEST,
        "RATE_LIMITED" => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, error.to_string()).into_response()
}

/// One page of rows after `after`, and the id to continue from when the page was full.
async fn order_page(
    db: &DatabaseConnection,
    (community_id, from, to): (Uuid, DateTime<Utc>, DateTime<Utc>),
    after: Option<Uuid>,
) -> AppResult<(String, Option<Uuid>)> {
    let mut select = order::Entity::find()
        .filter(order::Column::CommunityId.eq(community_id))
        .filter(order::Column::CreatedAt.gte(from))
        .filter(order::Column::CreatedAt.lt(to))
        .order_by_asc(order::Column::Id)
        .limit(PAGE);
    if let Some(after) = after {
        select = select.filter(order::Column::Id.gt(after));
    }
    let orders = select.all(db).await?;
    let people: HashMap<Uuid, String> = user::Entity::find()
        .filter(
            user::Column::Id.is_in(
                orders
                    .iter()
                    .flat_map(|o| [Some(o.requester_id), o.taker_id])
                    .flatten(),
            ),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name.unwrap_or_default()))
        .collect();
    let categories: HashMap<Uuid, String> = service_category::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let name = |id: Option<Uuid>| {
        id.and_then(|id| people.get(&id).cloned())
            .unwrap_or_default()
    };
    let time = |at: Option<DateTime<Utc>>| at.map(|at| at.to_rfc3339()).unwrap_or_default();
    let mut text = String::new();
    for order in &orders {
        let resident = order
            .resident_name
            .clone()
            .unwrap_or_else(|| name(Some(order.requester_id)));
        let cells = [
            order.id.to_string(),
            order.created_at.to_rfc3339(),
            categories
                .get(&order.category_id)
                .cloned()
                .unwrap_or_default(),
            order.title.clone(),
            order.address.clone(),
            order.contact_phone.clone(),
            order.status.to_value(),
            order.channel.to_value(),
            resident,
            name(order.taker_id),
            time(order.accepted_at),
            time(order.completed_at),
            order
                .rating_stars
                .map(|s| s.to_string())
                .unwrap_or_default(),
            order.alert_level.to_value(),
        ];
        let line: Vec<String> = cells.iter().map(|cell| csv_cell(cell)).collect();
        text.push_str(&line.join(","));
        text.push_str("\r\n");
    }
    let next = (orders.len() as u64 == PAGE)
        .then(|| orders.last().map(|o| o.id))
        .flatten();
    Ok((text, next))
}

/// One CSV cell: quoted when it holds a comma, quote or line break; text a spreadsheet would
/// evaluate (leading =, +, -, @) is prefixed with an apostrophe.
fn csv_cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_cell("水管漏水"), "水管漏水");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("-1"), "'-1");
    }
}

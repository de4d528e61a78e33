//! CSV exports over HTTP (`GET /exports/{orders,service-records,points-ledger,redemptions,
//! party-member-assessment,patrols}.csv`)
//! for those who oversee an area: STAFF their community, STREET_STAFF their street, ADMIN a
//! district. Same access token and request budget as GraphQL. Rows are streamed page by page,
//! so an export of a year costs the server one page of memory. UTF-8 with a byte-order mark, so
//! that Excel opens Chinese text; cells a spreadsheet would run as a formula are neutralised;
//! phone numbers are masked unless the caller is STAFF of the row's community.
use std::collections::HashMap;

use axum::{
    body::Body,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use entity::{enums::SignupStatus, user};
use futures::stream;
use sea_orm::{ActiveEnum, DatabaseConnection};
use serde::Deserialize;
use uuid::Uuid;

use super::caller::signed_in;
use crate::{
    error::{AppError, AppResult, causes},
    identity::{Actor, users},
    merchants::redemptions,
    orders,
    organisation::{self, Area},
    pagination::{EXPORT_PAGE, Span},
    patrols::figures,
    points::{assessment, attendance, ledger, records, rules},
    state::AppState,
    values::mask_phone,
};

/// What can be exported.
#[derive(Debug, Clone, Copy)]
enum Sheet {
    Orders,
    ServiceRecords,
    PointsLedger,
    Redemptions,
    PartyMemberAssessment,
    Patrols,
}

impl Sheet {
    fn from_file(name: &str) -> Option<Self> {
        Some(match name {
            "orders.csv" => Self::Orders,
            "service-records.csv" => Self::ServiceRecords,
            "points-ledger.csv" => Self::PointsLedger,
            "redemptions.csv" => Self::Redemptions,
            "party-member-assessment.csv" => Self::PartyMemberAssessment,
            "patrols.csv" => Self::Patrols,
            _ => return None,
        })
    }

    fn columns(self) -> &'static [&'static str] {
        match self {
            Self::Orders => &[
                "订单号",
                "下单时间",
                "社区",
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
            ],
            Self::ServiceRecords => &[
                "记录号",
                "记录时间",
                "社区",
                "志愿者",
                "电话",
                "来源",
                "时长（分钟）",
                "状态",
                "积分",
                "确认时间",
            ],
            Self::PointsLedger => &[
                "流水号",
                "时间",
                "居民",
                "电话",
                "类型",
                "积分",
                "余额",
                "事由",
                "关联",
            ],
            Self::Redemptions => &[
                "兑换号",
                "兑换时间",
                "商户",
                "优惠",
                "居民",
                "电话",
                "积分",
                "状态",
                "核销时间",
            ],
            Self::PartyMemberAssessment => &[
                "社区",
                "党员",
                "电话",
                "积分",
                "时长（小时）",
                "完成订单",
                "参加活动",
                "实现心愿",
                "是否达标",
            ],
            Self::Patrols => &[
                "巡查号",
                "社区",
                "网格",
                "网格员",
                "窗口开始",
                "窗口结束",
                "状态",
                "应签点位",
                "已签点位",
                "漏签点位",
                "异地签到",
                "发现上报",
            ],
        }
    }

    /// One page of rows after `after`, and the id to continue from when the page was full.
    async fn page(
        self,
        db: &DatabaseConnection,
        reading: &Reading,
        after: Option<Uuid>,
    ) -> AppResult<(Vec<Vec<String>>, Option<Uuid>)> {
        match self {
            Self::Orders => order_rows(db, reading, after).await,
            Self::ServiceRecords => record_rows(db, reading, after).await,
            Self::PointsLedger => ledger_rows(db, reading, after).await,
            Self::Redemptions => redemption_rows(db, reading, after).await,
            Self::PartyMemberAssessment => assessment_rows(db, reading, after).await,
            Self::Patrols => patrol_rows(db, reading, after).await,
        }
    }
}

/// `?communityId=… | streetId=… | districtId=…` and `from`, `to` (RFC 3339).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportQuery {
    community_id: Option<Uuid>,
    street_id: Option<Uuid>,
    district_id: Option<Uuid>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl ExportQuery {
    fn area(&self) -> AppResult<Area> {
        match (self.community_id, self.street_id, self.district_id) {
            (Some(id), None, None) => Ok(Area::Community(id)),
            (None, Some(id), None) => Ok(Area::Street(id)),
            (None, None, Some(id)) => Ok(Area::District(id)),
            _ => Err(AppError::bad_input(
                "give exactly one of communityId, streetId and districtId",
            )),
        }
    }
}

/// What one export reads (its area's communities and its period), and who asks.
struct Reading {
    span: Span,
    actor: Actor,
}

impl Reading {
    /// In full for STAFF of the row's community, masked for those who oversee it from above.
    fn phone(&self, community: Option<Uuid>, phone: Option<&str>) -> String {
        let phone = phone.unwrap_or_default();
        if community.is_some_and(|c| self.actor.roles.is_staff_of(c)) {
            phone.to_owned()
        } else {
            mask_phone(phone)
        }
    }
}

/// `GET /exports/{file}?communityId=…&from=…&to=…`: the area's rows of the period, oldest
/// first.
pub async fn export(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
    Query(query): Query<ExportQuery>,
) -> Response {
    let Some(sheet) = Sheet::from_file(&file) else {
        return (StatusCode::NOT_FOUND, "no such export").into_response();
    };
    let reading = match authorise(&state, &headers, &query).await {
        Ok(reading) => std::sync::Arc::new(reading),
        Err(error) => return refusal(error),
    };
    let header_row = format!("\u{feff}{}\r\n", sheet.columns().join(","));
    let first = stream::once(async move { Ok::<_, std::io::Error>(header_row) });
    let rows = stream::unfold(Some(None::<Uuid>), move |after| {
        let db = state.db.clone();
        let reading = reading.clone();
        async move {
            let after = after?;
            match sheet.page(&db, &reading, after).await {
                Ok((rows, next)) if !rows.is_empty() => {
                    Some((Ok(csv_lines(&rows)), next.map(Some)))
                }
                Ok(_) => None,
                Err(error) => {
                    tracing::error!(error = %causes(&error), ?sheet, "export failed midway");
                    Some((Err(std::io::Error::other("export failed")), None))
                }
            }
        }
    });
    let disposition = format!("attachment; filename=\"{file}\"");
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(futures::StreamExt::chain(first, rows)),
    )
        .into_response()
}

async fn authorise(
    state: &AppState,
    headers: &HeaderMap,
    query: &ExportQuery,
) -> AppResult<Reading> {
    let actor = signed_in(state, headers).await?;
    let area = query.area()?;
    if !organisation::oversees(&actor, area) {
        return Err(AppError::forbidden(
            "only STAFF of the community, STREET_STAFF of the street or ADMIN may export its data",
        ));
    }
    if query.to <= query.from || query.to - query.from > chrono::Duration::days(3 * 366) {
        return Err(AppError::bad_input(
            "`to` must be after `from`, at most three years later",
        ));
    }
    Ok(Reading {
        span: Span {
            communities: organisation::communities_in(&state.db, area).await?,
            from: query.from,
            to: query.to,
        },
        actor,
    })
}

/// `GET /exports/activities/{id}/roster.csv`: STAFF of the activity's community get its
/// sign-ups with attendance (phones masked: a roster is printed and handed round).
pub async fn roster(
    State(state): State<AppState>,
    Path(activity_id): Path<Uuid>,
    headers: HeaderMap,
) -> Response {
    let read = async {
        let actor = signed_in(&state, &headers).await?;
        attendance::roster(&state.db, &actor, activity_id).await
    };
    let (activity, lines) = match read.await {
        Ok(roster) => roster,
        Err(error) => return refusal(error),
    };
    let rows: Vec<Vec<String>> = lines
        .into_iter()
        .map(|line| {
            vec![
                line.name.unwrap_or_default(),
                line.phone.unwrap_or_default(),
                match line.status {
                    SignupStatus::SignedUp => "已报名",
                    SignupStatus::Cancelled => "已取消",
                    SignupStatus::NoShow => "爽约",
                }
                .to_owned(),
                time(Some(line.signed_up_at)),
                time(line.checked_in_at),
                time(line.checked_out_at),
                line.confirmed_minutes
                    .map(|m| m.to_string())
                    .unwrap_or_default(),
            ]
        })
        .collect();
    let header_row = [
        "姓名",
        "电话",
        "状态",
        "报名时间",
        "签到时间",
        "签退时间",
        "确认时长（分钟）",
    ];
    let text = format!("\u{feff}{}\r\n{}", header_row.join(","), csv_lines(&rows));
    let disposition = format!("attachment; filename=\"roster-{}.csv\"", activity.id);
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        text,
    )
        .into_response()
}

fn refusal(error: AppError) -> Response {
    (error.http_status(), error.to_string()).into_response()
}

/// The id to continue from after `rows`, when they filled a page.
fn next_after<T>(rows: &[T], id_of: impl Fn(&T) -> Uuid) -> Option<Uuid> {
    (rows.len() as u64 == EXPORT_PAGE)
        .then(|| rows.last().map(id_of))
        .flatten()
}

fn name_of(people: &HashMap<Uuid, user::Model>, id: Option<Uuid>) -> String {
    id.and_then(|id| people.get(&id))
        .and_then(|person| person.name.clone())
        .unwrap_or_default()
}

fn time(at: Option<DateTime<Utc>>) -> String {
    at.map(|at| at.to_rfc3339()).unwrap_or_default()
}

async fn order_rows(
    db: &DatabaseConnection,
    reading: &Reading,
    after: Option<Uuid>,
) -> AppResult<(Vec<Vec<String>>, Option<Uuid>)> {
    let orders = orders::queries::exported(db, &reading.span, after).await?;
    let next = next_after(&orders, |o| o.id);
    let named: Vec<Uuid> = orders
        .iter()
        .flat_map(|o| [Some(o.requester_id), o.taker_id])
        .flatten()
        .collect();
    let people = users::by_ids(db, named).await?;
    let categories = orders::categories::names(db).await?;
    let communities = organisation::community_names(db).await?;
    let rows = orders
        .iter()
        .map(|order| {
            vec![
                order.id.to_string(),
                order.created_at.to_rfc3339(),
                communities
                    .get(&order.community_id)
                    .cloned()
                    .unwrap_or_default(),
                categories
                    .get(&order.category_id)
                    .cloned()
                    .unwrap_or_default(),
                order.title.clone(),
                order.address.clone(),
                reading.phone(Some(order.community_id), Some(&order.contact_phone)),
                order.status.to_value(),
                order.channel.to_value(),
                order
                    .resident_name
                    .clone()
                    .unwrap_or_else(|| name_of(&people, Some(order.requester_id))),
                name_of(&people, order.taker_id),
                time(order.accepted_at),
                time(order.completed_at),
                order
                    .rating_stars
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
                order.alert_level.to_value(),
            ]
        })
        .collect();
    Ok((rows, next))
}

async fn record_rows(
    db: &DatabaseConnection,
    reading: &Reading,
    after: Option<Uuid>,
) -> AppResult<(Vec<Vec<String>>, Option<Uuid>)> {
    let records = records::exported(db, &reading.span, after).await?;
    let next = next_after(&records, |r| r.id);
    let people = users::by_ids(db, records.iter().map(|r| r.user_id).collect::<Vec<_>>()).await?;
    let communities = organisation::community_names(db).await?;
    let rows = records
        .iter()
        .map(|record| {
            let volunteer = people.get(&record.user_id);
            vec![
                record.id.to_string(),
                record.created_at.to_rfc3339(),
                communities
                    .get(&record.community_id)
                    .cloned()
                    .unwrap_or_default(),
                name_of(&people, Some(record.user_id)),
                reading.phone(
                    Some(record.community_id),
                    volunteer.and_then(|v| v.phone.as_deref()),
                ),
                record.source.to_value(),
                record.minutes.to_string(),
                record.status.to_value(),
                record.points.map(|p| p.to_string()).unwrap_or_default(),
                time(record.confirmed_at),
            ]
        })
        .collect();
    Ok((rows, next))
}

/// The entries of the people who live in the area's communities.
async fn ledger_rows(
    db: &DatabaseConnection,
    reading: &Reading,
    after: Option<Uuid>,
) -> AppResult<(Vec<Vec<String>>, Option<Uuid>)> {
    let entries = ledger::exported(db, &reading.span, after).await?;
    let next = next_after(&entries, |e| e.id);
    let people = users::by_ids(db, entries.iter().map(|e| e.user_id).collect::<Vec<_>>()).await?;
    let rows = entries
        .iter()
        .map(|entry| {
            let person = people.get(&entry.user_id);
            vec![
                entry.id.to_string(),
                entry.created_at.to_rfc3339(),
                name_of(&people, Some(entry.user_id)),
                reading.phone(
                    person.and_then(|p| p.community_id),
                    person.and_then(|p| p.phone.as_deref()),
                ),
                entry.kind.to_value(),
                entry.amount.to_string(),
                entry.balance_after.to_string(),
                entry.reason.clone().unwrap_or_default(),
                entry.reference_type.clone().unwrap_or_default(),
            ]
        })
        .collect();
    Ok((rows, next))
}

/// Redemptions at the area's merchants. The codes are left out: they are what the counter
/// verifies.
async fn redemption_rows(
    db: &DatabaseConnection,
    reading: &Reading,
    after: Option<Uuid>,
) -> AppResult<(Vec<Vec<String>>, Option<Uuid>)> {
    let redemptions::Exported {
        redemptions,
        merchants,
        offers,
    } = redemptions::exported(db, &reading.span, after).await?;
    let next = next_after(&redemptions, |r| r.id);
    let people = users::by_ids(
        db,
        redemptions.iter().map(|r| r.user_id).collect::<Vec<_>>(),
    )
    .await?;
    let rows = redemptions
        .iter()
        .map(|redemption| {
            let merchant = merchants.get(&redemption.merchant_id);
            vec![
                redemption.id.to_string(),
                redemption.created_at.to_rfc3339(),
                merchant.map(|m| m.name.clone()).unwrap_or_default(),
                offers
                    .get(&redemption.offer_id)
                    .cloned()
                    .unwrap_or_default(),
                name_of(&people, Some(redemption.user_id)),
                reading.phone(
                    merchant.map(|m| m.community_id),
                    people
                        .get(&redemption.user_id)
                        .and_then(|p| p.phone.as_deref()),
                ),
                redemption.points_cost.to_string(),
                redemption.status.to_value(),
                time(redemption.verified_at),
            ]
        })
        .collect();
    Ok((rows, next))
}

/// Every Party member of the area's communities with what they did in the period, all in one
/// page (a community has hundreds of members, not millions).
async fn assessment_rows(
    db: &DatabaseConnection,
    reading: &Reading,
    after: Option<Uuid>,
) -> AppResult<(Vec<Vec<String>>, Option<Uuid>)> {
    if after.is_some() {
        return Ok((Vec::new(), None));
    }
    let communities = organisation::community_names(db).await?;
    let mut rows = Vec::new();
    for community_id in &reading.span.communities {
        let (_, members) =
            assessment::assess(db, *community_id, (reading.span.from, reading.span.to)).await?;
        for member in members {
            let record = member.record;
            rows.push(vec![
                communities.get(community_id).cloned().unwrap_or_default(),
                member.user.name.clone().unwrap_or_default(),
                reading.phone(Some(*community_id), member.user.phone.as_deref()),
                record.points.to_string(),
                format!("{:.1}", rules::hours(record.minutes)),
                record.orders_completed.to_string(),
                record.activities_attended.to_string(),
                record.wishes_fulfilled.to_string(),
                if member.passed { "达标" } else { "未达标" }.to_owned(),
            ]);
        }
    }
    Ok((rows, None))
}

/// The area's patrols whose window started in the period, with what came of each.
async fn patrol_rows(
    db: &DatabaseConnection,
    reading: &Reading,
    after: Option<Uuid>,
) -> AppResult<(Vec<Vec<String>>, Option<Uuid>)> {
    let patrols = figures::exported(db, &reading.span, after, Utc::now()).await?;
    let next = next_after(&patrols, |patrol| patrol.task.id);
    let communities = organisation::community_names(db).await?;
    let rows = patrols
        .iter()
        .map(
            |figures::Exported {
                 task,
                 figures,
                 worker,
                 grid,
             }| {
                vec![
                    task.id.to_string(),
                    communities
                        .get(&task.community_id)
                        .cloned()
                        .unwrap_or_default(),
                    grid.clone().unwrap_or_default(),
                    worker
                        .as_ref()
                        .and_then(|w| w.name.clone())
                        .unwrap_or_default(),
                    task.window_starts_at.to_rfc3339(),
                    task.window_ends_at.to_rfc3339(),
                    task.status.to_value(),
                    figures.points_due.to_string(),
                    figures.points_signed_off.to_string(),
                    figures.points_missed.to_string(),
                    figures.off_site.to_string(),
                    figures.findings.to_string(),
                ]
            },
        )
        .collect();
    Ok((rows, next))
}

fn csv_lines(rows: &[Vec<String>]) -> String {
    let mut text = String::new();
    for row in rows {
        let cells: Vec<String> = row.iter().map(|cell| csv_cell(cell)).collect();
        text.push_str(&cells.join(","));
        text.push_str("\r\n");
    }
    text
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

    #[test]
    fn every_sheet_has_a_file_and_columns() {
        for file in [
            "orders.csv",
            "service-records.csv",
            "points-ledger.csv",
            "redemptions.csv",
            "party-member-assessment.csv",
        ] {
            let sheet = Sheet::from_file(file).expect(file);
            assert!(!sheet.columns().is_empty());
        }
        assert!(Sheet::from_file("users.csv").is_none());
    }
}

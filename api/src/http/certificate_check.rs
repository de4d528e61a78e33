//! `GET /certificates/{code}`: anyone holding a service certificate's code, or scanning its QR
//! code, checks it here. The answer shows what the certificate says — the holder's name, the
//! hours, the period and the issuer — and nothing else of the holder: a page for a phone's
//! browser, or JSON for `Accept: application/json`. Counted against the per-address budget, so
//! codes cannot be guessed at speed.
use std::net::SocketAddr;

use axum::{
    Json,
    extract::{ConnectInfo, Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use entity::service_certificate;
use serde::Serialize;

use super::caller::PerAddress;
use crate::{
    error::AppError,
    points::{certificate_pdf::hours_text, certificates, rules},
    state::AppState,
};

#[derive(Clone)]
pub struct CertificateCheck {
    pub state: AppState,
    pub budget: PerAddress,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Checked {
    code: String,
    holder_name: String,
    #[serde(skip)]
    total_minutes: i64,
    total_hours: f64,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    issuer: String,
}

impl From<service_certificate::Model> for Checked {
    fn from(certificate: service_certificate::Model) -> Self {
        Self {
            code: certificate.code,
            holder_name: certificate.holder_name,
            total_minutes: certificate.total_minutes,
            total_hours: rules::hours(certificate.total_minutes),
            from: certificate.period_from,
            to: certificate.period_to,
            issuer: certificate.issuer,
        }
    }
}

pub async fn check(
    State(check): State<CertificateCheck>,
    Path(code): Path<String>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"));
    let found = match check.budget.admit(&headers, peer).await {
        Ok(()) => certificates::by_code(&check.state.db, &code).await,
        Err(error) => Err(error),
    };
    match (found, wants_json) {
        (Ok(Some(certificate)), true) => Json(Checked::from(certificate)).into_response(),
        (Ok(Some(certificate)), false) => Html(page(&Checked::from(certificate))).into_response(),
        (Ok(None), json) => refusal(AppError::NotFound("certificate"), json),
        (Err(error), json) => refusal(error, json),
    }
}

fn refusal(error: AppError, json: bool) -> Response {
    let status = error.http_status();
    let message = match status {
        StatusCode::NOT_FOUND => "没有这个验证码的证明：请核对验证码。".to_owned(),
        _ => error.to_string(),
    };
    if json {
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    } else {
        (
            status,
            Html(shell("核验失败", &format!("<p>{}</p>", escape(&message)))),
        )
            .into_response()
    }
}

fn page(checked: &Checked) -> String {
    shell(
        "证明有效",
        &format!(
            "<p>该志愿服务记录证明由 <b>{issuer}</b> 出具，内容如下：</p>\
             <dl><dt>志愿者</dt><dd>{name}</dd>\
             <dt>服务期间</dt><dd>{from} 至 {to}</dd>\
             <dt>确认时长</dt><dd>{hours} 小时</dd>\
             <dt>验证码</dt><dd>{code}</dd></dl>",
            issuer = escape(&checked.issuer),
            name = escape(&checked.holder_name),
            from = checked.from,
            to = checked.to,
            hours = hours_text(checked.total_minutes),
            code = escape(&checked.code),
        ),
    )
}

fn shell(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>志愿服务记录证明核验</title></head>\
         <body><h1>{title}</h1>{body}</body></html>"
    )
}

/// Names and community names are typed by people: never markup.
fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_shown_as_text() {
        assert_eq!(escape("<b>张\"三'&"), "&lt;b&gt;张&quot;三&#39;&amp;");
    }
}

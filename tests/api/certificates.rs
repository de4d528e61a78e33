//! Service certificates (志愿服务记录证明): a volunteer's confirmed service as a PDF the
//! community issues, and the public check of its code.
use chrono::{Duration, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::{helpers::World, points::serve_order};

const CERTIFY: &str = "mutation($from: NaiveDate!, $to: NaiveDate!, $c: ID) { serviceCertificate(from: $from, to: $to, communityId: $c) { code holderName issuer from to totalMinutes totalHours recordCount verifyUrl pdfUrl } }";

fn china_today() -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive()
}

fn period(days_back: i64, days_ahead: i64) -> Value {
    let today = china_today();
    json!({ "from": today - Duration::days(days_back), "to": today + Duration::days(days_ahead) })
}

/// All text of a PDF, as a reader extracts it.
fn pdf_text(bytes: &[u8]) -> String {
    let document = lopdf::Document::load_mem(bytes).expect("the certificate is a PDF");
    let pages: Vec<u32> = document.get_pages().keys().copied().collect();
    document.extract_text(&pages).expect("its text")
}

#[tokio::test]
async fn a_volunteer_gets_a_certificate_anyone_can_check() {
    let w = World::new().await;
    serve_order(&w, 5).await;
    serve_order(&w, 5).await;

    // Two requests at once for the same records: one certificate.
    let (first, second) = tokio::join!(
        w.app.ok(&w.member.token, CERTIFY, period(30, 0)),
        w.app.ok(&w.member.token, CERTIFY, period(30, 0)),
    );
    let certificate = first["serviceCertificate"].clone();
    assert_eq!(
        second["serviceCertificate"]["code"], certificate["code"],
        "the same records certified twice at once"
    );
    assert_eq!(certificate["holderName"], "李建国");
    assert_eq!(certificate["totalMinutes"], 90);
    assert_eq!(certificate["totalHours"], 1.5);
    assert_eq!(certificate["recordCount"], 2);
    let code = certificate["code"].as_str().expect("code").to_owned();
    assert_eq!(code.len(), 12);
    let verify_url = certificate["verifyUrl"].as_str().expect("verifyUrl");
    assert!(verify_url.ends_with(&format!("/certificates/{code}")));
    let issuer = certificate["issuer"].as_str().expect("issuer").to_owned();

    // The PDF: Chinese text, the holder, the issuer, the total and each record, the code.
    let pdf = w
        .app
        .http
        .get(certificate["pdfUrl"].as_str().expect("pdfUrl"))
        .send()
        .await
        .expect("download");
    assert!(pdf.status().is_success());
    let text = pdf_text(&pdf.bytes().await.expect("bytes"));
    for expected in [
        "志愿服务记录证明",
        "李建国",
        &issuer,
        "1.5 小时",
        "厨房水管漏水",
        "0.75",
        &code,
    ] {
        assert!(text.contains(expected), "{expected:?} is not in: {text}");
    }

    // Asking again later gives the same certificate.
    let again = w.app.ok(&w.member.token, CERTIFY, period(30, 0)).await;
    assert_eq!(again["serviceCertificate"]["code"], code.as_str());
    // More records make a new one.
    serve_order(&w, 5).await;
    let more = w.app.ok(&w.member.token, CERTIFY, period(30, 0)).await;
    assert_ne!(more["serviceCertificate"]["code"], code.as_str());
    assert_eq!(more["serviceCertificate"]["totalMinutes"], 135);

    // Anyone checks the code: name, hours, period and issuer, nothing else.
    let checked: Value = w
        .app
        .http
        .get(format!("{}/certificates/{code}", w.app.address))
        .header("accept", "application/json")
        .send()
        .await
        .expect("check")
        .json()
        .await
        .expect("json");
    let today = china_today();
    assert_eq!(
        checked,
        json!({
            "code": code, "holderName": "李建国", "totalHours": 1.5, "issuer": issuer,
            "from": today - Duration::days(30), "to": today,
        })
    );
    let page = w
        .app
        .http
        .get(format!(
            "{}/certificates/{}",
            w.app.address,
            code.to_lowercase()
        ))
        .send()
        .await
        .expect("page");
    assert!(page.status().is_success());
    let page = page.text().await.expect("html");
    assert!(
        page.contains("李建国") && page.contains("1.5 小时"),
        "{page}"
    );
    assert!(!page.contains("13800000002"), "no phone on the check page");
    for unknown in ["ZZZZZZZZZZZZ", "not-a-code", "%3Cscript%3E"] {
        let status = w
            .app
            .http
            .get(format!("{}/certificates/{unknown}", w.app.address))
            .send()
            .await
            .expect("check")
            .status();
        assert_eq!(status, reqwest::StatusCode::NOT_FOUND, "{unknown}");
    }
}

#[tokio::test]
async fn certificates_are_refused_without_service_or_with_a_bad_period() {
    let w = World::new().await;
    serve_order(&w, 5).await;
    assert_eq!(
        w.app.refused(None, CERTIFY, period(30, 0)).await,
        "UNAUTHENTICATED"
    );
    for (who, variables) in [
        // No confirmed service of their own.
        (&w.resident, period(30, 0)),
        (&w.other_member, period(30, 0)),
        // Not the community that recorded it.
        (&w.member, {
            let mut other = period(30, 0);
            other["c"] = json!(w.demo.other_community);
            other
        }),
        // Backwards, in the future, or too long.
        (
            &w.member,
            json!({ "from": china_today(), "to": china_today() - Duration::days(1) }),
        ),
        (&w.member, period(0, 1)),
        (&w.member, period(4 * 366, 0)),
    ] {
        assert_eq!(
            w.app
                .refused(Some(&who.token), CERTIFY, variables.clone())
                .await,
            "BAD_USER_INPUT",
            "{variables}"
        );
    }
    // Service recorded before the period is not in it.
    let yesterday = json!({ "from": china_today() - Duration::days(9), "to": china_today() - Duration::days(1) });
    assert_eq!(
        w.app
            .refused(Some(&w.member.token), CERTIFY, yesterday)
            .await,
        "BAD_USER_INPUT"
    );
}

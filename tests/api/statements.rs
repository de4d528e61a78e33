//! Settlement (会昌): a property company's fee offsets redeemed with points and verified at its
//! counter, its monthly statement in yuan at the community's rate, marked paid once by STAFF.
use chrono::{Datelike, Utc};
use serde_json::json;

use crate::helpers::{World, offer_of};

const STATEMENT: &str = "query($m: ID!, $month: String!) { merchantStatement(merchantId: $m, month: $month) { month redemptions points pointsPerYuan yuanCents paid lines { offerTitle points } merchant { kind } } }";
const PAID: &str = "mutation($m: ID!, $month: String!) { markStatementPaid(merchantId: $m, month: $month) { paid points yuanCents } }";
const RATE: &str =
    "mutation($c: ID!, $r: Int!) { setSettlementRate(communityId: $c, pointsPerYuan: $r) }";

fn this_month() -> String {
    let china = Utc::now() + chrono::Duration::hours(8);
    format!("{}-{:02}", china.year(), china.month())
}

#[tokio::test]
async fn a_property_companys_fee_offsets_are_settled_monthly_in_yuan() {
    let w = World::new().await;
    let owner = w.app.resident("property-owner", &w.demo.community).await;
    let company = w
        .app
        .ok(
            &owner.token,
            "mutation($c: ID!) { applyMerchant(input: { communityId: $c, name: \"幸福物业\", category: \"物业\", address: \"物业服务中心\", latitude: 36.55, longitude: 116.75, phone: \"13700001234\", openingHours: \"8:30-17:30\", kind: PROPERTY_COMPANY }) { id kind } }",
            json!({ "c": w.demo.community }),
        )
        .await["applyMerchant"]
        .clone();
    assert_eq!(company["kind"], "PROPERTY_COMPANY");
    let company = company["id"].as_str().expect("id").to_owned();
    w.app
        .ok(
            &w.staff.token,
            "mutation($m: ID!) { approveMerchant(merchantId: $m) { id } }",
            json!({ "m": company }),
        )
        .await;
    let offset = offer_of(&w.app, &owner, &company).await;
    for (who, rate, code) in [(&owner, 5, "FORBIDDEN"), (&w.staff, 0, "BAD_USER_INPUT")] {
        assert_eq!(
            w.app
                .refused(
                    Some(&who.token),
                    RATE,
                    json!({ "c": w.demo.community, "r": rate })
                )
                .await,
            code
        );
    }
    w.app
        .ok(
            &w.staff.token,
            RATE,
            json!({ "c": w.demo.community, "r": 4 }),
        )
        .await;
    w.app
        .ok(
            &w.staff.token,
            "mutation($u: ID!) { adjustPoints(userId: $u, amount: 50, reason: \"志愿服务\") { id } }",
            json!({ "u": w.resident.user_id }),
        )
        .await;
    let code = w
        .app
        .ok(
            &w.resident.token,
            "mutation($o: ID!) { redeemOffer(offerId: $o, idempotencyKey: \"fee-offset-1\") { code } }",
            json!({ "o": offset }),
        )
        .await["redeemOffer"]["code"]
        .as_str()
        .expect("code")
        .to_owned();
    w.app
        .ok(
            &owner.token,
            "mutation($c: String!) { verifyRedemption(code: $c) { status } }",
            json!({ "c": code }),
        )
        .await;

    let now = json!({ "m": company, "month": this_month() });
    let statement =
        w.app.ok(&owner.token, STATEMENT, now.clone()).await["merchantStatement"].clone();
    assert_eq!(
        statement,
        json!({
            "month": this_month(), "redemptions": 1, "points": 10, "pointsPerYuan": 4,
            "yuanCents": 250, "paid": false, "lines": [{ "offerTitle": "理发一次", "points": 10 }],
            "merchant": { "kind": "PROPERTY_COMPANY" },
        })
    );
    assert_eq!(
        w.app
            .refused(Some(&w.resident.token), STATEMENT, now.clone())
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        w.app.refused(Some(&w.staff.token), PAID, now).await,
        "CONFLICT",
        "the month is not over"
    );
    let past = json!({ "m": company, "month": "2025-10" });
    assert_eq!(
        w.app.refused(Some(&owner.token), PAID, past.clone()).await,
        "FORBIDDEN"
    );
    let paid = w.app.ok(&w.staff.token, PAID, past.clone()).await;
    assert_eq!(
        paid["markStatementPaid"],
        json!({ "paid": true, "points": 0, "yuanCents": 0 })
    );
    assert_eq!(
        w.app.refused(Some(&w.staff.token), PAID, past).await,
        "CONFLICT",
        "paid once"
    );
    let bad = json!({ "m": company, "month": "2026-13" });
    assert_eq!(
        w.app.refused(Some(&w.staff.token), STATEMENT, bad).await,
        "BAD_USER_INPUT"
    );
}

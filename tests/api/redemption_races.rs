//! Redemption races with exactly the right number of winners, on SQLite and PostgreSQL.
use serde_json::json;

use crate::{helpers::World, helpers::error_code};

const APPLY: &str = "mutation($input: ApplyMerchantInput!) { applyMerchant(input: $input) { id } }";
const REDEEM: &str =
    "mutation($o: ID!, $k: String!) { redeemOffer(offerId: $o, idempotencyKey: $k) { id code } }";
const VERIFY: &str = "mutation($c: String!) { verifyRedemption(code: $c) { status } }";
const ADJUST: &str =
    "mutation($u: ID!, $a: Int!) { adjustPoints(userId: $u, amount: $a, reason: \"积分\") { id } }";

/// An approved merchant (owned by the demo member) with one offer costing 30 points.
async fn shop(w: &World, stock: Option<i32>) -> (String, String) {
    let input = json!({ "input": {
        "communityId": w.demo.community, "name": "爱心面馆", "category": "餐饮", "address": "文昌路2号",
        "latitude": 36.66, "longitude": 117.02, "phone": "13900001111", "openingHours": "10:00-21:00",
    }});
    let merchant = w.app.ok(&w.member.token, APPLY, input).await["applyMerchant"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    w.app
        .ok(
            &w.staff.token,
            "mutation($m: ID!) { approveMerchant(merchantId: $m) { id } }",
            json!({ "m": merchant }),
        )
        .await;
    let now = chrono::Utc::now();
    let offer = w
        .app
        .ok(
            &w.member.token,
            "mutation($input: CreateOfferInput!) { createOffer(input: $input) { id } }",
            json!({ "input": {
                "merchantId": merchant, "title": "一碗面", "pointsCost": 30, "stock": stock,
                "validFrom": (now - chrono::Duration::hours(1)).to_rfc3339(), "validUntil": (now + chrono::Duration::days(1)).to_rfc3339(),
            }}),
        )
        .await["createOffer"]["id"]
        .as_str()
        .expect("offer")
        .to_owned();
    (merchant, offer)
}

#[tokio::test]
async fn fifty_residents_race_for_ten_items_and_exactly_ten_win() {
    let w = World::new().await;
    let (merchant, offer) = shop(&w, Some(10)).await;
    let mut residents = Vec::new();
    for i in 0..50 {
        let login = w
            .app
            .resident(&format!("hungry-{i}"), &w.demo.community)
            .await;
        w.app
            .ok(
                &w.staff.token,
                ADJUST,
                json!({ "u": login.user_id, "a": 30 }),
            )
            .await;
        residents.push(login);
    }
    let attempts = residents.iter().enumerate().map(|(i, r)| {
        w.app.graphql(
            Some(&r.token),
            REDEEM,
            json!({ "o": offer, "k": format!("race-key-{i:04}") }),
        )
    });
    let results = futures::future::join_all(attempts).await;
    let winners = results.iter().filter(|r| r.get("errors").is_none()).count();
    assert_eq!(winners, 10, "{results:?}");
    assert!(
        results
            .iter()
            .filter(|r| r.get("errors").is_some())
            .all(|r| error_code(r) == "CONFLICT")
    );

    let stock = w
        .app
        .ok(
            &w.member.token,
            "query($m: ID!) { merchant(id: $m) { offers { stock } } }",
            json!({ "m": merchant }),
        )
        .await;
    // A sold-out offer is no longer redeemable, so it is no longer listed.
    assert_eq!(stock["merchant"]["offers"], json!([]));
    let mut total = 0;
    for r in &residents {
        total += w
            .app
            .ok(&r.token, "{ myPoints { balance } }", json!({}))
            .await["myPoints"]["balance"]
            .as_i64()
            .expect("balance");
    }
    assert_eq!(total, 50 * 30 - 10 * 30);
}

#[tokio::test]
async fn one_resident_firing_ten_redemptions_at_once_gets_exactly_one() {
    let w = World::new().await;
    let (_, offer) = shop(&w, None).await;
    w.app
        .ok(
            &w.staff.token,
            ADJUST,
            json!({ "u": w.resident.user_id, "a": 45 }),
        )
        .await;
    let attempts = (0..10).map(|i| {
        w.app.graphql(
            Some(&w.resident.token),
            REDEEM,
            json!({ "o": offer, "k": format!("burst-key-{i:04}") }),
        )
    });
    let results = futures::future::join_all(attempts).await;
    assert_eq!(
        results.iter().filter(|r| r.get("errors").is_none()).count(),
        1,
        "{results:?}"
    );
    let balance = w
        .app
        .ok(&w.resident.token, "{ myPoints { balance } }", json!({}))
        .await;
    assert_eq!(balance["myPoints"]["balance"], 15);
}

#[tokio::test]
async fn ten_verifications_of_one_code_verify_it_once() {
    let w = World::new().await;
    let (_, offer) = shop(&w, None).await;
    w.app
        .ok(
            &w.staff.token,
            ADJUST,
            json!({ "u": w.resident.user_id, "a": 30 }),
        )
        .await;
    let code = w
        .app
        .ok(
            &w.resident.token,
            REDEEM,
            json!({ "o": offer, "k": "verify-race-1" }),
        )
        .await["redeemOffer"]["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let attempts = (0..10).map(|_| {
        w.app
            .graphql(Some(&w.member.token), VERIFY, json!({ "c": code }))
    });
    let results = futures::future::join_all(attempts).await;
    assert_eq!(
        results.iter().filter(|r| r.get("errors").is_none()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .filter(|r| r.get("errors").is_some())
            .all(|r| error_code(r) == "CONFLICT")
    );
}

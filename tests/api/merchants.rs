//! The merchant alliance: listings, offers, and redemptions verified at the counter.
use entity::{enums::Role, redemption};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde_json::{Value, json};

use crate::{
    helpers::World,
    helpers::{Login, error_code, inbox_kinds},
};

const APPLY: &str =
    "mutation($input: ApplyMerchantInput!) { applyMerchant(input: $input) { id status } }";
const APPROVE: &str = "mutation($m: ID!) { approveMerchant(merchantId: $m) { status } }";
const CREATE_OFFER: &str =
    "mutation($input: CreateOfferInput!) { createOffer(input: $input) { id stock pointsCost } }";
const REDEEM: &str = "mutation($o: ID!, $k: String!) { redeemOffer(offerId: $o, idempotencyKey: $k) { id code qrPayload status pointsCost expiresAt } }";
const VERIFY: &str =
    "mutation($c: String!) { verifyRedemption(code: $c) { id status verifiedAt } }";
const BALANCE: &str = "{ myPoints { balance } }";
const OFFER_STOCK: &str = "query($m: ID!) { merchant(id: $m) { offers { id stock } } }";

/// Points of interest in Jinan, for distances: 泉城广场, 趵突泉 (~0.8 km), 大明湖 (~1.5 km), 长清 (~26 km).
const SQUARE: (f64, f64) = (36.6616, 117.0217);
const SPRING: (f64, f64) = (36.6596, 117.0127);
const LAKE: (f64, f64) = (36.6755, 117.0225);
const CHANGQING: (f64, f64) = (36.5536, 116.7519);

/// A field of a redeemOffer answer, as text.
fn redeemed(body: &Value, field: &str) -> String {
    body["data"]["redeemOffer"][field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {body}"))
        .to_owned()
}

struct Alliance {
    w: World,
    owner: Login,
    cashier: Login,
    merchant: String,
    offer: String,
}

impl Alliance {
    async fn new(stock: Option<i32>, per_user_limit: Option<i32>) -> Self {
        let w = World::new().await;
        let owner = w.app.resident("shop-owner", &w.demo.community).await;
        let merchant = apply(&w, &owner, "老王理发店", SQUARE).await;
        w.app
            .ok(&w.staff.token, APPROVE, json!({ "m": merchant }))
            .await;
        w.app
            .ok(&owner.token, "mutation($m: ID!) { addMerchantStaff(merchantId: $m, openid: \"shop-cashier\") { id } }", json!({ "m": merchant }))
            .await;
        let cashier = w.app.login("shop-cashier").await;
        let offer = create_offer(&w, &owner, &merchant, 30, stock, per_user_limit).await;
        Self {
            w,
            owner,
            cashier,
            merchant,
            offer,
        }
    }

    async fn give_points(&self, who: &Login, amount: i64) {
        self.w
            .app
            .ok(&self.w.staff.token, "mutation($u: ID!, $a: Int!) { adjustPoints(userId: $u, amount: $a, reason: \"志愿服务积分\") { id } }", json!({ "u": who.user_id, "a": amount }))
            .await;
    }

    async fn redeem(&self, who: &Login, key: &str) -> Value {
        self.w
            .app
            .graphql(
                Some(&who.token),
                REDEEM,
                json!({ "o": self.offer, "k": key }),
            )
            .await
    }

    async fn balance(&self, who: &Login) -> i64 {
        self.w.app.ok(&who.token, BALANCE, json!({})).await["myPoints"]["balance"]
            .as_i64()
            .expect("balance")
    }

    async fn stock(&self) -> Value {
        let data = self
            .w
            .app
            .ok(
                &self.owner.token,
                OFFER_STOCK,
                json!({ "m": self.merchant }),
            )
            .await;
        data["merchant"]["offers"][0]["stock"].clone()
    }
}

async fn apply(w: &World, owner: &Login, name: &str, (latitude, longitude): (f64, f64)) -> String {
    let data = w
        .app
        .ok(
            &owner.token,
            APPLY,
            json!({ "input": {
                "communityId": w.demo.community, "name": name, "category": "理发", "address": "文昌路1号",
                "latitude": latitude, "longitude": longitude, "phone": "0531-86661234", "openingHours": "08:00-20:00",
            }}),
        )
        .await;
    assert_eq!(data["applyMerchant"]["status"], "PENDING");
    data["applyMerchant"]["id"].as_str().expect("id").to_owned()
}

async fn create_offer(
    w: &World,
    owner: &Login,
    merchant: &str,
    cost: i64,
    stock: Option<i32>,
    limit: Option<i32>,
) -> String {
    let now = chrono::Utc::now();
    let data = w
        .app
        .ok(
            &owner.token,
            CREATE_OFFER,
            json!({ "input": {
                "merchantId": merchant, "title": "免费理发一次", "pointsCost": cost, "stock": stock, "perUserLimit": limit,
                "validFrom": (now - chrono::Duration::hours(1)).to_rfc3339(),
                "validUntil": (now + chrono::Duration::days(30)).to_rfc3339(),
            }}),
        )
        .await;
    data["createOffer"]["id"].as_str().expect("id").to_owned()
}

fn names(list: &Value) -> Vec<String> {
    list["merchants"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["name"].as_str().expect("name").to_owned())
        .collect()
}

const LIST: &str = "query($f: MerchantFilterInput) { merchants(filter: $f) { edges { node { name distanceMeters badges } } } }";

#[tokio::test]
async fn merchants_are_listed_once_approved_and_hidden_when_suspended() {
    let w = World::new().await;
    let owner = w.app.resident("owner", &w.demo.community).await;
    let merchant = apply(&w, &owner, "红帆便民店", SQUARE).await;
    assert_eq!(
        names(&w.app.ok(&w.resident.token, LIST, json!({})).await),
        Vec::<String>::new()
    );

    w.app
        .grant("far-staff", Role::Staff, Some(&w.demo.other_community))
        .await;
    let far = w.app.login("far-staff").await;
    assert_eq!(
        w.app
            .refused(Some(&far.token), APPROVE, json!({ "m": merchant }))
            .await,
        "FORBIDDEN"
    );
    // STAFF find the application among the community's PENDING merchants; nobody else may look.
    let to_review = |status: &'static str| {
        let w = &w;
        async move {
            let data = w
                .app
                .ok(
                    &w.staff.token,
                    "query($c: ID!, $s: MerchantStatus!) { communityMerchants(communityId: $c, status: $s) { edges { node { id } } } }",
                    json!({ "c": w.demo.community, "s": status }),
                )
                .await;
            data["communityMerchants"]["edges"]
                .as_array()
                .expect("edges")
                .iter()
                .map(|edge| edge["node"]["id"].as_str().expect("id").to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(to_review("PENDING").await, vec![merchant.clone()]);
    for outsider in [&far, &owner] {
        assert_eq!(
            w.app
                .refused(
                    Some(&outsider.token),
                    "query($c: ID!) { communityMerchants(communityId: $c) { edges { node { id } } } }",
                    json!({ "c": w.demo.community }),
                )
                .await,
            "FORBIDDEN"
        );
    }
    assert_eq!(
        w.app
            .refused(Some(&owner.token), APPROVE, json!({ "m": merchant }))
            .await,
        "FORBIDDEN"
    );
    w.app
        .ok(&w.staff.token, APPROVE, json!({ "m": merchant }))
        .await;
    assert_eq!(
        w.app
            .refused(Some(&w.staff.token), APPROVE, json!({ "m": merchant }))
            .await,
        "CONFLICT"
    );
    assert!(to_review("PENDING").await.is_empty());
    assert_eq!(to_review("ACTIVE").await, vec![merchant.clone()]);
    let roles = w
        .app
        .ok(&owner.token, "{ me { roles { role } } }", json!({}))
        .await;
    assert_eq!(
        roles["me"]["roles"],
        json!([{ "role": "RESIDENT" }, { "role": "MERCHANT" }])
    );

    let award =
        "mutation($m: ID!) { awardBadge(merchantId: $m, badge: PARTY_MEMBER_MODEL) { badges } }";
    assert_eq!(
        w.app
            .refused(Some(&owner.token), award, json!({ "m": merchant }))
            .await,
        "FORBIDDEN"
    );
    w.app
        .ok(&w.staff.token, award, json!({ "m": merchant }))
        .await;
    let with_badge = w
        .app
        .ok(
            &w.resident.token,
            LIST,
            json!({ "f": { "badge": "PARTY_MEMBER_MODEL" } }),
        )
        .await;
    assert_eq!(
        with_badge["merchants"]["edges"][0]["node"]["badges"],
        json!(["PARTY_MEMBER_MODEL"])
    );
    let other_badge = w
        .app
        .ok(
            &w.resident.token,
            LIST,
            json!({ "f": { "badge": "HONEST_BUSINESS" } }),
        )
        .await;
    assert_eq!(names(&other_badge), Vec::<String>::new());
    let searched = w
        .app
        .ok(
            &w.resident.token,
            LIST,
            json!({ "f": { "search": "便民" } }),
        )
        .await;
    assert_eq!(names(&searched), vec!["红帆便民店"]);

    let suspend = "mutation($m: ID!) { suspendMerchant(merchantId: $m, reason: \"以次充好\") { status statusReason } }";
    let suspended = w
        .app
        .ok(&w.staff.token, suspend, json!({ "m": merchant }))
        .await;
    assert_eq!(
        suspended["suspendMerchant"],
        json!({ "status": "SUSPENDED", "statusReason": "以次充好" })
    );
    assert_eq!(
        names(&w.app.ok(&w.resident.token, LIST, json!({})).await),
        Vec::<String>::new()
    );

    let store = w.app.refused(
            Some(&owner.token),
            APPLY,
            json!({ "input": {
                "communityId": w.demo.community, "name": "红领超市", "category": "超市", "address": "社区服务中心",
                "latitude": SQUARE.0, "longitude": SQUARE.1, "phone": "13800001111", "openingHours": "全天", "kind": "COMMUNITY_STORE",
            }}),
        ).await;
    assert_eq!(store, "FORBIDDEN");
}

#[tokio::test]
async fn nearby_merchants_are_sorted_by_distance() {
    let w = World::new().await;
    let owner = w.app.resident("owner", &w.demo.community).await;
    for (name, place) in [
        ("大明湖茶社", LAKE),
        ("长清农家乐", CHANGQING),
        ("趵突泉小吃", SPRING),
        ("广场书店", SQUARE),
    ] {
        let merchant = apply(&w, &owner, name, place).await;
        w.app
            .ok(&w.staff.token, APPROVE, json!({ "m": merchant }))
            .await;
    }
    let near = json!({ "f": { "near": { "latitude": SQUARE.0, "longitude": SQUARE.1, "radiusMeters": 2000.0 } } });
    let found = w.app.ok(&w.resident.token, LIST, near).await;
    assert_eq!(names(&found), vec!["广场书店", "趵突泉小吃", "大明湖茶社"]);
    let distances: Vec<f64> = found["merchants"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["distanceMeters"].as_f64().expect("distance"))
        .collect();
    assert_eq!(distances[0], 0.0);
    assert!((780.0..860.0).contains(&distances[1]), "{distances:?}");
    assert!((1500.0..1600.0).contains(&distances[2]), "{distances:?}");

    let paged = "query($f: MerchantFilterInput, $after: String) { merchants(filter: $f, first: 2, after: $after) { edges { node { name } } pageInfo { hasNextPage endCursor } } }";
    let filter =
        json!({ "near": { "latitude": SQUARE.0, "longitude": SQUARE.1, "radiusMeters": 30000.0 } });
    let first = w
        .app
        .ok(&w.resident.token, paged, json!({ "f": filter }))
        .await;
    assert_eq!(first["merchants"]["pageInfo"]["hasNextPage"], true);
    let second = w
        .app
        .ok(
            &w.resident.token,
            paged,
            json!({ "f": filter, "after": first["merchants"]["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(names(&second), vec!["大明湖茶社", "长清农家乐"]);

    let bad = w.app.refused(Some(&w.resident.token), LIST, json!({ "f": { "near": { "latitude": 95.0, "longitude": 0.0, "radiusMeters": 10.0 } } })).await;
    assert_eq!(bad, "BAD_USER_INPUT");
}

#[tokio::test]
async fn only_the_owner_manages_offers_and_affordable_means_within_balance() {
    let a = Alliance::new(Some(5), None).await;
    let w = &a.w;
    let now = chrono::Utc::now();
    let input = |cost: i64| {
        json!({ "input": {
            "merchantId": a.merchant, "title": "洗剪吹", "pointsCost": cost,
            "validFrom": now.to_rfc3339(), "validUntil": (now + chrono::Duration::days(1)).to_rfc3339(),
        }})
    };
    assert_eq!(
        w.app
            .refused(Some(&a.cashier.token), CREATE_OFFER, input(10))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        w.app
            .refused(Some(&w.resident.token), CREATE_OFFER, input(10))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        w.app
            .refused(Some(&a.owner.token), CREATE_OFFER, input(0))
            .await,
        "BAD_USER_INPUT"
    );

    let affordable = "{ offers(filter: { affordable: true }) { edges { node { id } } } }";
    assert_eq!(
        w.app.ok(&w.resident.token, affordable, json!({})).await["offers"]["edges"],
        json!([])
    );
    a.give_points(&w.resident, 30).await;
    assert_eq!(
        w.app.ok(&w.resident.token, affordable, json!({})).await["offers"]["edges"][0]["node"]["id"],
        a.offer.as_str()
    );

    let unlimited = w
        .app
        .ok(&a.owner.token, "mutation($o: ID!) { updateOffer(offerId: $o, input: { stock: null, title: \"理发\" }) { stock title pointsCost } }", json!({ "o": a.offer }))
        .await;
    assert_eq!(
        unlimited["updateOffer"],
        json!({ "stock": null, "title": "理发", "pointsCost": 30 })
    );
    w.app
        .ok(
            &a.owner.token,
            "mutation($o: ID!) { deactivateOffer(offerId: $o) { active } }",
            json!({ "o": a.offer }),
        )
        .await;
    assert_eq!(
        w.app
            .ok(
                &w.resident.token,
                "{ offers { edges { node { id } } } }",
                json!({})
            )
            .await["offers"]["edges"],
        json!([])
    );
    let redeem = a.redeem(&w.resident, "inactive-offer-1").await;
    assert_eq!(error_code(&redeem), "CONFLICT");
    assert_eq!(a.balance(&w.resident).await, 30);
}

#[tokio::test]
async fn a_redemption_is_verified_at_the_counter_exactly_once() {
    let a = Alliance::new(Some(5), None).await;
    let w = &a.w;
    a.give_points(&w.resident, 100).await;
    let body = a.redeem(&w.resident, "redeem-key-0001").await;
    let redemption = &body["data"]["redeemOffer"];
    assert_eq!(redemption["status"], "PENDING", "{body}");
    let code = redemption["code"].as_str().expect("code").to_owned();
    assert!(
        code.len() == 10 && code.bytes().all(|b| b.is_ascii_digit()),
        "{code}"
    );
    assert!(redemption["qrPayload"].is_string());
    assert_eq!(a.balance(&w.resident).await, 70);
    assert_eq!(a.stock().await, 4);

    // Another merchant's cashier cannot verify it, and learns no more than from a code that
    // does not exist: guessing cannot tell which codes are live.
    let rival = w.app.resident("rival-owner", &w.demo.community).await;
    let rival_shop = apply(w, &rival, "隔壁理发店", SPRING).await;
    w.app
        .ok(&w.staff.token, APPROVE, json!({ "m": rival_shop }))
        .await;
    let live = w
        .app
        .graphql(Some(&rival.token), VERIFY, json!({ "c": code }))
        .await;
    let unknown_code = if code == "0000000000" {
        "0000000001"
    } else {
        "0000000000"
    };
    let unknown = w
        .app
        .graphql(Some(&rival.token), VERIFY, json!({ "c": unknown_code }))
        .await;
    assert_eq!(error_code(&live), "NOT_FOUND");
    assert_eq!(
        live["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    assert_eq!(
        w.app
            .refused(Some(&w.resident.token), VERIFY, json!({ "c": code }))
            .await,
        "NOT_FOUND"
    );

    let verified = w
        .app
        .ok(&a.cashier.token, VERIFY, json!({ "c": code }))
        .await;
    assert_eq!(verified["verifyRedemption"]["status"], "VERIFIED");
    let again = w
        .app
        .graphql(Some(&a.cashier.token), VERIFY, json!({ "c": code }))
        .await;
    assert_eq!(error_code(&again), "CONFLICT");
    assert!(
        again["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("already verified")
    );

    let mine = w
        .app
        .ok(
            &w.resident.token,
            "{ myRedemptions { edges { node { status code } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        mine["myRedemptions"]["edges"][0]["node"],
        json!({ "status": "VERIFIED", "code": code })
    );
    let report = "query($m: ID!) { merchantRedemptions(merchantId: $m, status: VERIFIED) { settlement { verifiedCount verifiedPoints } redemptions { edges { node { code customerName } } } } }";
    let settled = w
        .app
        .ok(&a.cashier.token, report, json!({ "m": a.merchant }))
        .await;
    assert_eq!(
        settled["merchantRedemptions"]["settlement"],
        json!({ "verifiedCount": 1, "verifiedPoints": 30 })
    );
    // Cashiers never see codes: they could verify redemptions no one came for.
    assert_eq!(
        settled["merchantRedemptions"]["redemptions"]["edges"][0]["node"]["code"],
        Value::Null
    );
    assert_eq!(
        w.app
            .refused(Some(&w.resident.token), report, json!({ "m": a.merchant }))
            .await,
        "FORBIDDEN"
    );
}

#[tokio::test]
async fn the_qr_payload_verifies_like_the_code() {
    let a = Alliance::new(None, None).await;
    a.give_points(&a.w.resident, 30).await;
    let body = a.redeem(&a.w.resident, "redeem-key-qr01").await;
    let qr = redeemed(&body, "qrPayload");
    let verified =
        a.w.app
            .ok(&a.cashier.token, VERIFY, json!({ "c": qr }))
            .await;
    assert_eq!(verified["verifyRedemption"]["status"], "VERIFIED");
    let forged =
        a.w.app
            .graphql(
                Some(&a.cashier.token),
                VERIFY,
                json!({ "c": format!("{qr}x") }),
            )
            .await;
    assert_eq!(error_code(&forged), "BAD_USER_INPUT");
}

/// Redeeming an offer without a per-person limit is, on PostgreSQL, its key's look-up, the
/// offer with its merchant, and one statement: the stock, the spend with its ledger entry,
/// and the redemption. That statement is all or nothing: a redemption the balance cannot pay
/// takes no stock.
#[tokio::test]
async fn redeeming_costs_two_reads_and_one_statement_on_postgres_and_is_all_or_nothing() {
    let a = Alliance::new(Some(5), None).await;
    a.give_points(&a.w.resident, 40).await;
    a.w.app
        .ok(&a.w.resident.token, "{ me { id } }", json!({}))
        .await;
    let before = a.w.app.statements().await;
    let body = a.redeem(&a.w.resident, "redeem-key-stmts01").await;
    let statements = a.w.app.statements().await - before;
    assert_eq!(redeemed(&body, "status"), "PENDING", "{body}");
    // SQLite, after the same two reads, takes its transaction (BEGIN and COMMIT are not
    // counted): the balance, the entry, the stock, the redemption.
    a.w.app.assert_statements("redeemOffer", statements, (3, 6));
    let ledger =
        "{ myPoints { balance ledger(first: 1) { edges { node { kind amount balanceAfter } } } } }";
    let points = a.w.app.ok(&a.w.resident.token, ledger, json!({})).await;
    assert_eq!(points["myPoints"]["balance"], 10);
    assert_eq!(
        points["myPoints"]["ledger"]["edges"][0]["node"],
        json!({ "kind": "SPEND", "amount": -30, "balanceAfter": 10 })
    );
    assert_eq!(a.stock().await, 4);
    let short = a.redeem(&a.w.resident, "redeem-key-stmts02").await;
    assert_eq!(error_code(&short), "CONFLICT", "{short}");
    assert!(short.to_string().contains("not enough points"), "{short}");
    assert_eq!(a.stock().await, 4, "the refused redemption took no stock");
    assert_eq!(a.balance(&a.w.resident).await, 10);
}

/// The counter's verification is one read and, on PostgreSQL, one statement: the
/// compare-and-set from PENDING with the resident's inbox row. A second try is still refused
/// with the time of the first, and the resident is told once.
#[tokio::test]
async fn verifying_a_code_costs_a_read_and_one_statement_on_postgres() {
    let a = Alliance::new(None, None).await;
    a.give_points(&a.w.resident, 30).await;
    let body = a.redeem(&a.w.resident, "redeem-key-count01").await;
    let code = redeemed(&body, "code");
    // The cashier's roles are read once, then known per session.
    a.w.app
        .ok(&a.cashier.token, "{ me { id } }", json!({}))
        .await;
    let before = a.w.app.statements().await;
    let verified =
        a.w.app
            .ok(&a.cashier.token, VERIFY, json!({ "c": code }))
            .await;
    let statements = a.w.app.statements().await - before;
    assert_eq!(verified["verifyRedemption"]["status"], "VERIFIED");
    // The redemption by its code with its merchant and the cashier's place there, in one
    // read; then PostgreSQL claims it and files the inbox row in one statement, where SQLite's
    // transaction takes two.
    a.w.app
        .assert_statements("verifyRedemption", statements, (2, 3));
    let again =
        a.w.app
            .graphql(Some(&a.cashier.token), VERIFY, json!({ "c": code }))
            .await;
    assert_eq!(error_code(&again), "CONFLICT");
    let first = verified["verifyRedemption"]["verifiedAt"]
        .as_str()
        .expect("verifiedAt");
    assert!(
        again["errors"][0]["message"]
            .as_str()
            .is_some_and(|message| message.contains("already verified at")),
        "{again}"
    );
    let mine =
        a.w.app
            .ok(
                &a.w.resident.token,
                "{ myRedemptions { edges { node { status verifiedAt } } } }",
                json!({}),
            )
            .await;
    assert_eq!(
        mine["myRedemptions"]["edges"][0]["node"],
        json!({ "status": "VERIFIED", "verifiedAt": first })
    );
    let told = inbox_kinds(&a.w.app, &a.w.resident.token).await;
    let verified_news = told.iter().filter(|k| *k == "REDEMPTION_VERIFIED").count();
    assert_eq!(verified_news, 1, "{told:?}");
}

#[tokio::test]
async fn cancelling_refunds_the_points_and_restores_the_stock() {
    let a = Alliance::new(Some(2), None).await;
    let w = &a.w;
    a.give_points(&w.resident, 30).await;
    let body = a.redeem(&w.resident, "redeem-key-0002").await;
    let id = redeemed(&body, "id");
    let code = redeemed(&body, "code");
    let cancel = "mutation($id: ID!) { cancelRedemption(id: $id) { status } }";
    assert_eq!(
        w.app
            .refused(Some(&w.member.token), cancel, json!({ "id": id }))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        w.app
            .ok(&w.resident.token, cancel, json!({ "id": id }))
            .await["cancelRedemption"]["status"],
        "CANCELLED"
    );
    assert_eq!(a.balance(&w.resident).await, 30);
    assert_eq!(a.stock().await, 2);
    assert_eq!(
        w.app
            .refused(Some(&w.resident.token), cancel, json!({ "id": id }))
            .await,
        "CONFLICT"
    );
    assert_eq!(
        w.app
            .refused(Some(&a.cashier.token), VERIFY, json!({ "c": code }))
            .await,
        "CONFLICT"
    );
    let kinds = w
        .app
        .ok(
            &w.resident.token,
            "{ myPoints { lifetimeSpent ledger { edges { node { kind amount } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(kinds["myPoints"]["lifetimeSpent"], 0);
    assert_eq!(
        kinds["myPoints"]["ledger"]["edges"][0]["node"],
        json!({ "kind": "REFUND", "amount": 30 })
    );
}

#[tokio::test]
async fn expired_codes_cannot_be_verified_and_the_sweep_refunds_them() {
    let a = Alliance::new(Some(3), None).await;
    let w = &a.w;
    a.give_points(&w.resident, 30).await;
    let body = a.redeem(&w.resident, "redeem-key-0003").await;
    let id: uuid::Uuid = redeemed(&body, "id").parse().expect("uuid");
    let code = redeemed(&body, "code");
    redemption::ActiveModel {
        id: sea_orm::ActiveValue::Unchanged(id),
        expires_at: Set(chrono::Utc::now() - chrono::Duration::minutes(1)),
        ..Default::default()
    }
    .update(&w.app.db)
    .await
    .expect("backdate");
    let late = w
        .app
        .graphql(Some(&a.cashier.token), VERIFY, json!({ "c": code }))
        .await;
    assert_eq!(error_code(&late), "CONFLICT");
    assert!(
        late["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("expired")
    );

    let sweep = || async {
        let expired = hongfan::merchants::redemptions::expire_due(&w.app.db, chrono::Utc::now())
            .await
            .expect("sweep");
        w.app.dispatcher.settle(expired).await
    };
    assert_eq!(sweep().await, 1);
    assert_eq!(sweep().await, 0);
    let stored = redemption::Entity::find_by_id(id)
        .one(&w.app.db)
        .await
        .expect("query")
        .expect("row");
    assert_eq!(stored.status, entity::enums::RedemptionStatus::Expired);
    assert_eq!(a.balance(&w.resident).await, 30);
    assert_eq!(a.stock().await, 3);
}

#[tokio::test]
async fn redemptions_respect_balance_limits_and_idempotency_keys() {
    let a = Alliance::new(Some(10), Some(1)).await;
    let w = &a.w;
    assert_eq!(
        error_code(&a.redeem(&w.resident, "redeem-key-poor").await),
        "CONFLICT"
    );
    assert_eq!(a.stock().await, 10);

    a.give_points(&w.resident, 100).await;
    let first = a.redeem(&w.resident, "redeem-key-0004").await;
    let retry = a.redeem(&w.resident, "redeem-key-0004").await;
    assert_eq!(
        first["data"]["redeemOffer"]["id"],
        retry["data"]["redeemOffer"]["id"]
    );
    assert_eq!(a.balance(&w.resident).await, 70);
    assert_eq!(a.stock().await, 9);
    let over_limit = a.redeem(&w.resident, "redeem-key-0005").await;
    assert_eq!(error_code(&over_limit), "CONFLICT");
    assert_eq!(a.balance(&w.resident).await, 70);
    let short_key = a.redeem(&w.resident, "k").await;
    assert_eq!(error_code(&short_key), "BAD_USER_INPUT");
}

#[tokio::test]
async fn repeated_wrong_codes_are_rate_limited() {
    let a = Alliance::new(None, None).await;
    a.give_points(&a.w.resident, 30).await;
    let body = a.redeem(&a.w.resident, "redeem-key-0006").await;
    let code = redeemed(&body, "code");
    for guess in 0..10 {
        let wrong = format!("{:010}", 1_000_000_000u64 + guess);
        let body =
            a.w.app
                .graphql(Some(&a.cashier.token), VERIFY, json!({ "c": wrong }))
                .await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    }
    let blocked =
        a.w.app
            .graphql(Some(&a.cashier.token), VERIFY, json!({ "c": code }))
            .await;
    assert_eq!(error_code(&blocked), "RATE_LIMITED");
    assert!(
        blocked["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .is_some()
    );
    // The owner's account has its own budget.
    let verified =
        a.w.app
            .ok(&a.owner.token, VERIFY, json!({ "c": code }))
            .await;
    assert_eq!(verified["verifyRedemption"]["status"], "VERIFIED");
}

#[tokio::test]
async fn a_removed_cashier_or_revoked_merchant_stops_verifying_on_every_instance() {
    let a = Alliance::new(Some(5), None).await;
    let w = &a.w;
    let other_instance = w.app.another_instance().await;
    a.give_points(&w.resident, 100).await;
    let code_of = |body: Value| redeemed(&body, "code");
    let first = code_of(a.redeem(&w.resident, "removal-0001").await);
    let second = code_of(a.redeem(&w.resident, "removal-0002").await);

    // Before: the cashier verifies, here or anywhere.
    other_instance
        .ok(&a.cashier.token, VERIFY, json!({ "c": first }))
        .await;
    let remove =
        "mutation($m: ID!, $u: ID!) { removeMerchantStaff(merchantId: $m, userId: $u) { id } }";
    assert_eq!(
        w.app
            .refused(
                Some(&a.cashier.token),
                remove,
                json!({ "m": a.merchant, "u": a.owner.user_id })
            )
            .await,
        "FORBIDDEN",
        "a cashier cannot remove anyone"
    );
    w.app
        .ok(
            &a.owner.token,
            remove,
            json!({ "m": a.merchant, "u": a.cashier.user_id }),
        )
        .await;
    let refused = other_instance
        .graphql(Some(&a.cashier.token), VERIFY, json!({ "c": second }))
        .await;
    assert_eq!(error_code(&refused), "NOT_FOUND", "{refused}");

    // Revoking MERCHANT from someone who still works there stops them too.
    w.app
        .ok(&a.owner.token, "mutation($m: ID!) { addMerchantStaff(merchantId: $m, openid: \"shop-cashier-2\") { id } }", json!({ "m": a.merchant }))
        .await;
    let cashier = w.app.login("shop-cashier-2").await;
    w.app
        .ok(
            &w.staff.token,
            "mutation($u: ID!, $c: ID) { revokeRole(userId: $u, role: MERCHANT, communityId: $c) { id } }",
            json!({ "u": cashier.user_id, "c": w.demo.community }),
        )
        .await;
    let refused = other_instance
        .graphql(Some(&cashier.token), VERIFY, json!({ "c": second }))
        .await;
    assert_eq!(error_code(&refused), "NOT_FOUND", "{refused}");
    // The owner still can.
    let verified = w
        .app
        .ok(&a.owner.token, VERIFY, json!({ "c": second }))
        .await;
    assert_eq!(verified["verifyRedemption"]["status"], "VERIFIED");
}

#[tokio::test]
async fn an_offer_does_not_reveal_a_suspended_merchant() {
    let a = Alliance::new(Some(5), None).await;
    let w = &a.w;
    a.give_points(&w.resident, 100).await;
    a.redeem(&w.resident, "suspended-0001").await;
    w.app
        .ok(
            &w.staff.token,
            "mutation($m: ID!) { suspendMerchant(merchantId: $m, reason: \"整改\") { status } }",
            json!({ "m": a.merchant }),
        )
        .await;
    let seen = w
        .app
        .ok(
            &w.resident.token,
            "{ myRedemptions { edges { node { offer { title merchant { name } } } } } }",
            json!({}),
        )
        .await;
    let offer = &seen["myRedemptions"]["edges"][0]["node"]["offer"];
    assert!(offer["title"].is_string(), "{seen}");
    assert_eq!(offer["merchant"], Value::Null, "{seen}");
    let own = w
        .app
        .ok(
            &a.owner.token,
            "query($m: ID!) { merchant(id: $m) { name status } }",
            json!({ "m": a.merchant }),
        )
        .await;
    assert_eq!(own["merchant"]["status"], "SUSPENDED");
}

/// Approving a merchant and adding a cashier grant MERCHANT: the people concerned verify
/// codes on their very next request, although their roles were cached without it.
#[tokio::test]
async fn merchant_roles_show_on_the_next_request() {
    let w = World::new().await;
    let owner = w.app.resident("prompt-owner", &w.demo.community).await;
    let cashier = w.app.login("prompt-cashier").await;
    let merchant = apply(&w, &owner, "即时小店", SQUARE).await;
    for who in [&owner, &cashier] {
        let pool = "{ orderPool(first: 1) { edges { node { id } } } }";
        // Refused, but with the roles now cached.
        assert_eq!(
            w.app.refused(Some(&who.token), pool, json!({})).await,
            "FORBIDDEN"
        );
    }
    w.app
        .ok(&w.staff.token, APPROVE, json!({ "m": merchant }))
        .await;
    w.app
        .ok(&owner.token, "mutation($m: ID!) { addMerchantStaff(merchantId: $m, openid: \"prompt-cashier\") { id } }", json!({ "m": merchant }))
        .await;
    let offer = create_offer(&w, &owner, &merchant, 10, None, None).await;
    w.app
        .ok(&w.staff.token, "mutation($u: ID!) { adjustPoints(userId: $u, amount: 100, reason: \"志愿服务积分\") { id } }", json!({ "u": w.resident.user_id }))
        .await;
    for (key, verifier) in [("prompt-0001", &owner), ("prompt-0002", &cashier)] {
        let redeemed = w
            .app
            .ok(&w.resident.token, REDEEM, json!({ "o": offer, "k": key }))
            .await;
        let verified = w
            .app
            .ok(
                &verifier.token,
                VERIFY,
                json!({ "c": redeemed["redeemOffer"]["code"] }),
            )
            .await;
        assert_eq!(verified["verifyRedemption"]["status"], "VERIFIED");
    }
}

/// The ledger, the order timeline and finished redemptions are history: the database itself
/// refuses to change them, whoever connects (here: straight SQL, as from psql).
#[tokio::test]
async fn history_cannot_be_rewritten_even_with_direct_sql() {
    let a = Alliance::new(None, None).await;
    let w = &a.w;
    a.give_points(&w.resident, 100).await;
    let verified = a.redeem(&w.resident, "history-0001").await;
    w.app
        .ok(
            &a.cashier.token,
            VERIFY,
            json!({ "c": verified["data"]["redeemOffer"]["code"] }),
        )
        .await;
    let pending = a.redeem(&w.resident, "history-0002").await;
    w.place().await;

    for sql in [
        "UPDATE points_entries SET amount = amount + 1000",
        "DELETE FROM points_entries",
        "UPDATE order_events SET note = 'rewritten'",
        "DELETE FROM order_events",
        "UPDATE redemptions SET status = 'PENDING' WHERE status = 'VERIFIED'",
        "DELETE FROM redemptions",
    ] {
        assert!(
            w.app.db.execute_unprepared(sql).await.is_err(),
            "accepted: {sql}"
        );
    }
    assert_eq!(a.balance(&w.resident).await, 40, "two redemptions of 30");
    // A PENDING redemption still moves on (here: cancelled, refunding its points).
    w.app
        .ok(
            &w.resident.token,
            "mutation($id: ID!) { cancelRedemption(id: $id) { status } }",
            json!({ "id": pending["data"]["redeemOffer"]["id"] }),
        )
        .await;
    assert_eq!(a.balance(&w.resident).await, 70);
}

/// A listing's offers and badges come from one batched statement each, not one per merchant;
/// each merchant still shows only its own, newest first. A page of offers read again comes
/// from the cache with its merchants.
#[tokio::test]
async fn offers_and_badges_in_a_listing_cost_the_same_however_many_merchants_it_shows() {
    let w = World::new().await;
    let list =
        "{ merchants(first: 50) { edges { node { name badges offers { title pointsCost } } } } }";
    let offers = "{ offers(first: 50) { edges { node { title merchant { name } } } } }";
    let mut statements = Vec::new();
    let mut offer_statements = Vec::new();
    for round in 0..2 {
        for n in 0..3 {
            let owner = w
                .app
                .resident(&format!("batch-owner-{round}-{n}"), &w.demo.community)
                .await;
            let merchant = apply(&w, &owner, &format!("批量店{round}{n}"), SQUARE).await;
            w.app
                .ok(&w.staff.token, APPROVE, json!({ "m": merchant }))
                .await;
            w.app
                .ok(&w.staff.token, "mutation($m: ID!) { awardBadge(merchantId: $m, badge: PARTY_MEMBER_MODEL) { id } }", json!({ "m": merchant }))
                .await;
            for cost in [10, 20] {
                create_offer(&w, &owner, &merchant, cost, None, None).await;
            }
        }
        w.app.ok(&w.resident.token, list, json!({})).await;
        let before = w.app.statements().await;
        let data = w.app.ok(&w.resident.token, list, json!({})).await;
        statements.push(w.app.statements().await - before);
        let before = w.app.statements().await;
        let listed = w.app.ok(&w.resident.token, offers, json!({})).await;
        offer_statements.push(w.app.statements().await - before);
        let before = w.app.statements().await;
        let cached = w.app.ok(&w.resident.token, offers, json!({})).await;
        assert_eq!(cached, listed);
        assert_eq!(
            w.app.statements().await,
            before,
            "a cached page of offers, merchants included, runs no SQL"
        );
        let edges = listed["offers"]["edges"].as_array().expect("edges");
        assert_eq!(edges.len(), 6 * (round + 1));
        assert!(edges.iter().all(|edge| {
            edge["node"]["merchant"]["name"]
                .as_str()
                .is_some_and(|name| name.starts_with("批量店"))
        }));
        for edge in data["merchants"]["edges"].as_array().expect("edges") {
            assert_eq!(
                edge["node"]["badges"],
                json!(["PARTY_MEMBER_MODEL"]),
                "{edge}"
            );
            let costs: Vec<_> = edge["node"]["offers"]
                .as_array()
                .expect("offers")
                .iter()
                .map(|offer| offer["pointsCost"].clone())
                .collect();
            assert_eq!(costs, [json!(20), json!(10)], "newest first: {edge}");
        }
    }
    assert_eq!(
        statements[0], statements[1],
        "3 merchants vs 6: {statements:?}"
    );
    assert_eq!(
        offer_statements[0], offer_statements[1],
        "the merchants of 6 offers vs 12: {offer_statements:?}"
    );
}

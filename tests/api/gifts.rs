//! Points for family: given to someone registered at the same address in the same community,
//! up to the community's monthly cap, once per idempotency key, never below zero.
use serde_json::json;

use crate::helpers::World;

const GIFT: &str = "mutation($to: ID!, $n: Int!, $k: String!) { giftPoints(toUserId: $to, amount: $n, note: \"给老伴\", idempotencyKey: $k) { id kind amount balanceAfter } }";
const CAP: &str = "mutation($c: ID!, $cap: Int!) { setGiftMonthlyCap(communityId: $c, cap: $cap) }";
const LEDGER: &str =
    "{ myPoints { balance ledger(first: 5) { edges { node { kind amount reason } } } } }";

#[tokio::test]
async fn family_at_the_same_address_receive_points_within_the_monthly_cap() {
    let w = World::new().await;
    w.app
        .ok(
            &w.staff.token,
            "mutation($u: ID!) { adjustPoints(userId: $u, amount: 100, reason: \"志愿服务\") { id } }",
            json!({ "u": w.resident.user_id }),
        )
        .await;
    // The demo resident and the demo member live at the same address.
    let gift = |amount: i64, key: &str| json!({ "to": w.member.user_id, "n": amount, "k": key });
    let given = w
        .app
        .ok(&w.resident.token, GIFT, gift(30, "gift-key-0001"))
        .await["giftPoints"]
        .clone();
    assert_eq!(given["kind"], "GIFT_OUT");
    assert_eq!(given["amount"], -30);
    assert_eq!(given["balanceAfter"], 70);
    let again = w
        .app
        .ok(&w.resident.token, GIFT, gift(30, "gift-key-0001"))
        .await;
    assert_eq!(
        again["giftPoints"]["id"], given["id"],
        "the same gift, once"
    );
    let received = w.app.ok(&w.member.token, LEDGER, json!({})).await;
    assert_eq!(received["myPoints"]["balance"], 30);
    assert_eq!(
        received["myPoints"]["ledger"]["edges"][0]["node"],
        json!({ "kind": "GIFT_IN", "amount": 30, "reason": "给老伴" })
    );

    // The community's cap counts the month's gifts.
    let cap = json!({ "c": w.demo.community, "cap": 50 });
    assert_eq!(
        w.app.refused(Some(&w.member.token), CAP, cap.clone()).await,
        "FORBIDDEN"
    );
    w.app.ok(&w.staff.token, CAP, cap).await;
    assert_eq!(
        w.app
            .refused(Some(&w.resident.token), GIFT, gift(30, "gift-key-0002"))
            .await,
        "CONFLICT"
    );
    w.app
        .ok(&w.resident.token, GIFT, gift(20, "gift-key-0003"))
        .await;
    w.app
        .ok(
            &w.staff.token,
            CAP,
            json!({ "c": w.demo.community, "cap": 10000 }),
        )
        .await;
    assert_eq!(
        w.app
            .refused(Some(&w.resident.token), GIFT, gift(1000, "gift-key-0004"))
            .await,
        "CONFLICT",
        "more than the balance"
    );
    let left = w.app.ok(&w.resident.token, LEDGER, json!({})).await;
    assert_eq!(left["myPoints"]["balance"], 50);

    // Only family, and never oneself.
    let neighbour = w.app.resident("gift-neighbour", &w.demo.community).await;
    let to = |user: &str| json!({ "to": user, "n": 5, "k": "gift-key-0005" });
    assert_eq!(
        w.app
            .refused(Some(&w.resident.token), GIFT, to(&neighbour.user_id))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        w.app
            .refused(Some(&w.resident.token), GIFT, to(&w.resident.user_id))
            .await,
        "BAD_USER_INPUT"
    );
}

//! Points for family: given to a confirmed household (accepted by the giver or confirmed by
//! STAFF, holding while both stay at its address), up to the community's monthly cap, once per
//! idempotency key, never below zero.
use entity::gift_budget;
use sea_orm::{EntityTrait, sea_query::Expr};
use serde_json::json;

use crate::helpers::{Login, World};

const ACCEPT: &str =
    "mutation($u: ID!) { acceptHouseholdMember(userId: $u) { user { id } confirmedByStaff } }";
const HOUSEHOLD: &str = "{ myHousehold { user { id } confirmedByStaff } }";
const ADDRESS: &str = "mutation($a: String!) { updateMyProfile(input: { address: $a }) { id } }";

/// The demo resident accepts the demo member (registered at the same address) as family.
pub async fn accept_member_as_family(w: &World) {
    w.app
        .ok(&w.resident.token, ACCEPT, json!({ "u": w.member.user_id }))
        .await;
}

/// STAFF credit the demo resident with 100 points to give.
async fn credit_resident(w: &World) {
    w.app
        .ok(
            &w.staff.token,
            "mutation($u: ID!) { adjustPoints(userId: $u, amount: 100, reason: \"志愿服务\") { id } }",
            json!({ "u": w.resident.user_id }),
        )
        .await;
}

async fn household_of(w: &World, who: &Login) -> Vec<String> {
    w.app.ok(&who.token, HOUSEHOLD, json!({})).await["myHousehold"]
        .as_array()
        .expect("household")
        .iter()
        .map(|member| member["user"]["id"].as_str().expect("id").to_owned())
        .collect()
}

const GIFT: &str = "mutation($to: ID!, $n: Int!, $k: String!) { giftPoints(toUserId: $to, amount: $n, note: \"给老伴\", idempotencyKey: $k) { id kind amount balanceAfter } }";
const CAP: &str = "mutation($c: ID!, $cap: Int!) { setGiftMonthlyCap(communityId: $c, cap: $cap) }";
const LEDGER: &str =
    "{ myPoints { balance ledger(first: 5) { edges { node { kind amount reason } } } } }";

/// Once the giver's month row and the receiver's account exist, a gift is, on PostgreSQL, its
/// reads and one statement: the budget, both balances, both entries (and the note's flag when
/// WeChat is configured). It answers the balance the giver's debit left, as the transaction
/// does.
#[tokio::test]
async fn a_gift_is_its_reads_and_one_statement_on_postgres() {
    let w = World::new().await;
    credit_resident(&w).await;
    accept_member_as_family(&w).await;
    let gift = |amount: i64, key: &str| json!({ "to": w.member.user_id, "n": amount, "k": key });
    w.app
        .ok(&w.resident.token, GIFT, gift(10, "gift-stmts-0001"))
        .await;
    let before = w.app.statements().await;
    let given = w
        .app
        .ok(&w.resident.token, GIFT, gift(25, "gift-stmts-0002"))
        .await["giftPoints"]
        .clone();
    let statements = w.app.statements().await - before;
    assert_eq!(given["balanceAfter"], 65);
    // Both people, their household link and the gift's key in one read; then PostgreSQL
    // sends the rest as one statement, where SQLite's transaction takes the budget and two
    // postings of two statements each (BEGIN and COMMIT are not counted).
    w.app.assert_statements("giftPoints", statements, (2, 6));
    let received = w.app.ok(&w.member.token, LEDGER, json!({})).await;
    assert_eq!(received["myPoints"]["balance"], 35);
    let gone = w.app.ok(&w.resident.token, LEDGER, json!({})).await;
    assert_eq!(gone["myPoints"]["balance"], 65);
    // More than is left: refused by the transaction, nothing moved.
    assert_eq!(
        w.app
            .refused(Some(&w.resident.token), GIFT, gift(66, "gift-stmts-0003"))
            .await,
        "CONFLICT"
    );
    let received = w.app.ok(&w.member.token, LEDGER, json!({})).await;
    assert_eq!(received["myPoints"]["balance"], 35);
}

#[tokio::test]
async fn family_at_the_same_address_receive_points_within_the_monthly_cap() {
    let w = World::new().await;
    credit_resident(&w).await;
    // The demo resident and the demo member live at the same address, which is not enough.
    let gift = |amount: i64, key: &str| json!({ "to": w.member.user_id, "n": amount, "k": key });
    assert_eq!(
        w.app
            .refused(Some(&w.resident.token), GIFT, gift(30, "gift-key-0000"))
            .await,
        "FORBIDDEN"
    );
    accept_member_as_family(&w).await;
    assert_eq!(
        household_of(&w, &w.resident).await,
        [w.member.user_id.as_str()]
    );
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
    assert_eq!(
        w.app
            .refused(Some(&w.resident.token), GIFT, gift(31, "gift-key-0001"))
            .await,
        "BAD_USER_INPUT",
        "the key of another gift"
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

    // What a giver gave is kept per month: a row of an earlier month counts nothing.
    w.app
        .ok(
            &w.staff.token,
            CAP,
            json!({ "c": w.demo.community, "cap": 50 }),
        )
        .await;
    assert_eq!(
        w.app
            .refused(Some(&w.resident.token), GIFT, gift(5, "gift-key-0006"))
            .await,
        "CONFLICT"
    );
    gift_budget::Entity::update_many()
        .col_expr(
            gift_budget::Column::MonthStart,
            Expr::value(chrono::Utc::now() - chrono::Duration::days(40)),
        )
        .exec(&w.app.db)
        .await
        .expect("an earlier month");
    w.app
        .ok(&w.resident.token, GIFT, gift(5, "gift-key-0007"))
        .await;

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

#[tokio::test]
async fn an_address_typed_into_a_profile_does_not_make_a_household() {
    let w = World::new().await;
    credit_resident(&w).await;
    // Someone types the resident's address into their own profile and accepts the resident:
    // that lets them give to the resident, never the resident's points to them.
    let stranger = w
        .app
        .resident("household-stranger", &w.demo.community)
        .await;
    let address = w
        .app
        .ok(&w.resident.token, "{ me { address } }", json!({}))
        .await["me"]["address"]
        .as_str()
        .expect("address")
        .to_owned();
    w.app
        .ok(&stranger.token, ADDRESS, json!({ "a": address }))
        .await;
    w.app
        .ok(&stranger.token, ACCEPT, json!({ "u": w.resident.user_id }))
        .await;
    let to_stranger = json!({ "to": stranger.user_id, "n": 10, "k": "stranger-key-01" });
    assert_eq!(
        w.app
            .refused(Some(&w.resident.token), GIFT, to_stranger.clone())
            .await,
        "FORBIDDEN"
    );
    assert!(household_of(&w, &w.resident).await.is_empty());

    // STAFF confirm the pair: points may go either way, until one of them moves.
    let confirm = "mutation($a: ID!, $b: ID!) { confirmHousehold(firstUserId: $a, secondUserId: $b) { confirmedByStaff } }";
    let pair = json!({ "a": w.resident.user_id, "b": stranger.user_id });
    assert_eq!(
        w.app
            .refused(Some(&w.member.token), confirm, pair.clone())
            .await,
        "FORBIDDEN"
    );
    let confirmed = w.app.ok(&w.staff.token, confirm, pair).await;
    assert_eq!(confirmed["confirmHousehold"][0]["confirmedByStaff"], true);
    w.app.ok(&w.resident.token, GIFT, to_stranger).await;
    w.app
        .ok(&stranger.token, ADDRESS, json!({ "a": "另一个小区5号楼" }))
        .await;
    assert_eq!(
        w.app
            .refused(
                Some(&w.resident.token),
                GIFT,
                json!({ "to": stranger.user_id, "n": 10, "k": "stranger-key-02" }),
            )
            .await,
        "FORBIDDEN",
        "a confirmation ends when someone moves"
    );
    // Accepting someone at another address is refused.
    assert_eq!(
        w.app
            .refused(
                Some(&w.resident.token),
                ACCEPT,
                json!({ "u": stranger.user_id })
            )
            .await,
        "FORBIDDEN"
    );
    // The giver may take someone off the household.
    accept_member_as_family(&w).await;
    let remove = "mutation($u: ID!) { removeHouseholdMember(userId: $u) }";
    let removed = w
        .app
        .ok(&w.resident.token, remove, json!({ "u": w.member.user_id }))
        .await;
    assert_eq!(removed["removeHouseholdMember"], true);
    assert!(household_of(&w, &w.resident).await.is_empty());
    assert_eq!(
        w.app
            .refused(
                Some(&w.resident.token),
                remove,
                json!({ "u": w.member.user_id })
            )
            .await,
        "NOT_FOUND"
    );
}

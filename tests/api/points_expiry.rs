//! Points that expire: earned in year N, gone at the end of year N+1 (China time), the oldest
//! spent first; the job posts each expiry once, however many instances run it.
use chrono::{Datelike, Duration, NaiveDate, Utc};
use hongfan::{points::expiry::expire_due, values::china_time};
use serde_json::json;

use crate::helpers::World;

const SET_EXPIRY: &str =
    "mutation($c: ID!, $e: PointsExpiry!) { setPointsExpiry(communityId: $c, expiry: $e) }";
const ADJUST: &str = "mutation($u: ID!, $n: Int!) { adjustPoints(userId: $u, amount: $n, reason: \"志愿服务\") { id } }";
const MINE: &str = "{ myPoints { balance nextExpiry { points at } ledger(first: 3) { edges { node { kind amount } } } } }";

#[tokio::test]
async fn points_left_from_two_years_back_expire_once_oldest_spent_first() {
    let w = World::new().await;
    let adjust = |n: i64| json!({ "u": w.resident.user_id, "n": n });
    w.app.ok(&w.staff.token, ADJUST, adjust(100)).await;
    w.app.ok(&w.staff.token, ADJUST, adjust(-30)).await;
    let two_years_on = Utc::now() + Duration::days(2 * 366);

    // NEVER, the default: nothing expires.
    let mine = w.app.ok(&w.resident.token, MINE, json!({})).await;
    assert_eq!(mine["myPoints"]["nextExpiry"], json!(null));
    assert_eq!(expire_due(&w.app.db, two_years_on).await.expect("job"), 0);

    let policy = |e: &str| json!({ "c": w.demo.community, "e": e });
    assert_eq!(
        w.app
            .refused(
                Some(&w.member.token),
                SET_EXPIRY,
                policy("END_OF_NEXT_YEAR")
            )
            .await,
        "FORBIDDEN"
    );
    let set = w
        .app
        .ok(&w.staff.token, SET_EXPIRY, policy("END_OF_NEXT_YEAR"))
        .await;
    assert_eq!(set["setPointsExpiry"], "END_OF_NEXT_YEAR");

    // What is left of this year's 100 after spending 30 goes at the end of next year.
    let mine = w.app.ok(&w.resident.token, MINE, json!({})).await;
    let year = (Utc::now() + china_time::OFFSET).year();
    let at = china_time::start_of(NaiveDate::from_ymd_opt(year + 2, 1, 1).expect("date"));
    assert_eq!(mine["myPoints"]["nextExpiry"]["points"], 70);
    let said = mine["myPoints"]["nextExpiry"]["at"].as_str().expect("at");
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(said).expect("time"),
        at
    );
    assert_eq!(
        expire_due(&w.app.db, Utc::now()).await.expect("job"),
        0,
        "nothing is due yet"
    );

    // Two instances run the job at once: the points expire once.
    let (a, b) = tokio::join!(
        expire_due(&w.app.db, two_years_on),
        expire_due(&w.app.db, two_years_on)
    );
    assert_eq!(a.expect("job") + b.expect("job"), 1);
    assert_eq!(expire_due(&w.app.db, two_years_on).await.expect("job"), 0);
    let mine = w.app.ok(&w.resident.token, MINE, json!({})).await;
    assert_eq!(mine["myPoints"]["balance"], 0);
    assert_eq!(mine["myPoints"]["nextExpiry"], json!(null));
    assert_eq!(
        mine["myPoints"]["ledger"]["edges"][0]["node"],
        json!({ "kind": "EXPIRE", "amount": -70 })
    );
    assert_eq!(
        mine["myPoints"]["ledger"]["edges"][1]["node"]["kind"],
        "ADJUST"
    );
}

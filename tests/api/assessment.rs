//! The Party members' yearly assessment (党建超市): a community's bar and required items, each
//! member's standing for STAFF, a member's own in `me`, and the CSV.
use chrono::{Datelike, Utc};
use serde_json::json;

use crate::helpers::{TAKE, World};

const RULES: &str = "mutation($c: ID!, $bar: Int!, $orders: Int!) { setAssessmentRules(communityId: $c, barPoints: $bar, minOrders: $orders) { barPoints minOrders } }";
const ASSESSMENT: &str = "query($c: ID!, $y: Int!) { partyMemberAssessment(communityId: $c, year: $y) { rules { barPoints } members { member { id } record { points hours ordersCompleted passed } } } }";

fn this_year() -> i32 {
    (Utc::now() + chrono::Duration::hours(8)).year()
}

#[tokio::test]
async fn members_are_measured_against_their_communitys_bar() {
    let w = World::new().await;
    // One served order, rated 5: an hour of confirmed service for the member.
    let order = w.place().await;
    w.publish(&order).await;
    w.app
        .ok(&w.member.token, TAKE, json!({ "id": order }))
        .await;
    w.app
        .ok(
            &w.member.token,
            "mutation($id: ID!) { completeOrder(orderId: $id, input: { summary: \"修好了\", minutesSpent: 60 }) { status } }",
            json!({ "id": order }),
        )
        .await;
    w.app
        .ok(
            &w.resident.token,
            "mutation($id: ID!) { rateOrder(orderId: $id, input: { stars: 5 }) { status } }",
            json!({ "id": order }),
        )
        .await;
    let year = json!({ "c": w.demo.community, "y": this_year() });
    let default = w.app.ok(&w.staff.token, ASSESSMENT, year.clone()).await;
    assert_eq!(
        default["partyMemberAssessment"]["rules"]["barPoints"], 80,
        "the default bar"
    );

    let rules = json!({ "c": w.demo.community, "bar": 10, "orders": 1 });
    assert_eq!(
        w.app
            .refused(Some(&w.member.token), RULES, rules.clone())
            .await,
        "FORBIDDEN"
    );
    let negative = json!({ "c": w.demo.community, "bar": -1, "orders": 0 });
    assert_eq!(
        w.app.refused(Some(&w.staff.token), RULES, negative).await,
        "BAD_USER_INPUT"
    );
    w.app.ok(&w.staff.token, RULES, rules).await;
    let assessed = w.app.ok(&w.staff.token, ASSESSMENT, year.clone()).await;
    let members = assessed["partyMemberAssessment"]["members"]
        .as_array()
        .expect("members")
        .clone();
    assert_eq!(members.len(), 2, "{assessed}");
    let of = |user: &str| {
        members
            .iter()
            .find(|m| m["member"]["id"] == user)
            .expect("member")["record"]
            .clone()
    };
    assert_eq!(
        of(&w.member.user_id),
        json!({ "points": 10, "hours": 1.0, "ordersCompleted": 1, "passed": true })
    );
    assert_eq!(of(&w.other_member.user_id)["passed"], false);
    for who in [&w.member, &w.resident] {
        assert_eq!(
            w.app
                .refused(Some(&who.token), ASSESSMENT, year.clone())
                .await,
            "FORBIDDEN"
        );
    }

    // A member sees their own standing in `me`; others see none of it.
    let me = "query($y: Int!) { me { assessment(year: $y) { community { id } rules { barPoints } record { points passed } } } }";
    let mine = w
        .app
        .ok(&w.member.token, me, json!({ "y": this_year() }))
        .await;
    assert_eq!(
        mine["me"]["assessment"][0]["record"],
        json!({ "points": 10, "passed": true })
    );
    let resident = w
        .app
        .ok(&w.resident.token, me, json!({ "y": this_year() }))
        .await;
    assert_eq!(resident["me"]["assessment"], json!([]));

    // The same as a CSV for the year.
    let response = w
        .app
        .http
        .get(format!(
            "{}/exports/party-member-assessment.csv",
            w.app.address
        ))
        .query(&[
            ("communityId", w.demo.community.as_str()),
            ("from", &format!("{}-01-01T00:00:00+08:00", this_year())),
            ("to", &format!("{}-01-01T00:00:00+08:00", this_year() + 1)),
        ])
        .bearer_auth(&w.staff.token)
        .send()
        .await
        .expect("export");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let text = response.text().await.expect("csv");
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(text.contains(",10,1.0,1,0,0,达标"), "{text}");
    assert!(text.contains("未达标"), "{text}");
}

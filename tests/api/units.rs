//! Units stationed in the community (双报到): registration, STAFF review, members stating their
//! unit, the unit's page, and a unit claiming a micro-wish through its representative.
use chrono::Utc;
use serde_json::json;

use crate::helpers::World;

const REGISTER: &str = "mutation($input: RegisterUnitInput!) { registerUnit(input: $input) { id status contactPhone } }";
const REVIEW: &str = "mutation($u: ID!, $ok: Boolean!, $note: String) { reviewUnit(unitId: $u, approve: $ok, note: $note) { status reviewNote } }";
const PAGE: &str = "query($u: ID!) { unit(id: $u) { name status contactPhone totals { members confirmedHours wishesFulfilled } } }";
const LIST: &str = "query($c: ID!, $s: UnitStatus) { units(communityId: $c, status: $s) { edges { node { id } } } }";
const JOIN: &str = "mutation($u: ID!) { joinUnit(unitId: $u) { id } }";
const CLAIM: &str = "mutation($w: ID!, $u: ID) { claimWish(wishId: $w, unitId: $u) { status claimedAs unit { name } } }";

#[tokio::test]
async fn a_unit_reports_to_its_community_and_shows_what_its_members_gave() {
    let w = World::new().await;
    let rep = w.app.login("unit-representative").await;
    let input = |phone: &str| {
        json!({ "input": {
            "communityId": w.demo.community, "name": "长清区税务局", "partyOrganisation": "税务局机关党支部",
            "contactName": "赵主任", "contactPhone": phone, "resources": "会议室，志愿者 20 人",
        }})
    };
    assert_eq!(
        w.app
            .refused(Some(&rep.token), REGISTER, input("123"))
            .await,
        "BAD_USER_INPUT"
    );
    let unit = w.app.ok(&rep.token, REGISTER, input("13912345678")).await["registerUnit"].clone();
    assert_eq!(unit["status"], "PENDING_REVIEW");
    let id = unit["id"].as_str().expect("id").to_owned();

    // Waiting for review: seen by its representative and STAFF only.
    let pending = json!({ "c": w.demo.community, "s": "PENDING_REVIEW" });
    assert_eq!(
        w.app
            .refused(Some(&w.member.token), LIST, pending.clone())
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        w.app.ok(&w.staff.token, LIST, pending).await["units"]["edges"][0]["node"]["id"],
        id.as_str()
    );
    assert_eq!(
        w.app
            .refused(Some(&w.member.token), PAGE, json!({ "u": id }))
            .await,
        "NOT_FOUND"
    );
    assert_eq!(
        w.app
            .refused(Some(&w.member.token), JOIN, json!({ "u": id }))
            .await,
        "CONFLICT"
    );

    let review = |ok: bool, note: Option<&str>| json!({ "u": id, "ok": ok, "note": note });
    assert_eq!(
        w.app
            .refused(Some(&w.member.token), REVIEW, review(true, None))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        w.app
            .refused(Some(&w.staff.token), REVIEW, review(false, None))
            .await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        w.app.ok(&w.staff.token, REVIEW, review(true, None)).await["reviewUnit"]["status"],
        "APPROVED"
    );
    assert_eq!(
        w.app
            .refused(Some(&w.staff.token), REVIEW, review(false, Some("重复")))
            .await,
        "CONFLICT"
    );
    let listed = w
        .app
        .ok(&w.resident.token, LIST, json!({ "c": w.demo.community }))
        .await;
    assert_eq!(listed["units"]["edges"][0]["node"]["id"], id.as_str());

    // The phone in full for the representative and STAFF only.
    for (who, phone) in [
        (&rep, "13912345678"),
        (&w.staff, "13912345678"),
        (&w.resident, "139****5678"),
    ] {
        let page = w.app.ok(&who.token, PAGE, json!({ "u": id })).await;
        assert_eq!(page["unit"]["contactPhone"], phone);
    }

    // Only Party members state their unit; the member's confirmed service shows on its page.
    assert_eq!(
        w.app
            .refused(Some(&w.resident.token), JOIN, json!({ "u": id }))
            .await,
        "FORBIDDEN"
    );
    w.app.ok(&w.member.token, JOIN, json!({ "u": id })).await;
    crate::points::serve_order(&w, 5).await;
    let page = w.app.ok(&w.resident.token, PAGE, json!({ "u": id })).await;
    assert_eq!(
        page["unit"]["totals"],
        json!({ "members": 1, "confirmedHours": 0.75, "wishesFulfilled": 0 })
    );

    // The representative claims a wish in the unit's name; nobody else may.
    let wish = w
        .app
        .ok(
            &w.resident.token,
            "mutation($input: PostWishInput!) { postWish(input: $input) { id } }",
            json!({ "input": { "title": "想要一台轮椅", "neededBy": (Utc::now() + chrono::Duration::days(10)).to_rfc3339() } }),
        )
        .await["postWish"]["id"]
        .as_str()
        .expect("wish")
        .to_owned();
    w.app
        .ok(
            &w.staff.token,
            "mutation($w: ID!) { reviewWish(wishId: $w, approve: true) { status } }",
            json!({ "w": wish }),
        )
        .await;
    assert_eq!(
        w.app
            .refused(Some(&w.member.token), CLAIM, json!({ "w": wish, "u": id }))
            .await,
        "FORBIDDEN"
    );
    let claimed = w
        .app
        .ok(&rep.token, CLAIM, json!({ "w": wish, "u": id }))
        .await;
    assert_eq!(
        claimed["claimWish"],
        json!({ "status": "CLAIMED", "claimedAs": "UNIT", "unit": { "name": "长清区税务局" } })
    );
    w.app
        .ok(
            &rep.token,
            "mutation($w: ID!) { deliverWish(wishId: $w, note: \"已送到\") { status } }",
            json!({ "w": wish }),
        )
        .await;
    w.app
        .ok(
            &w.resident.token,
            "mutation($w: ID!) { confirmWish(wishId: $w) { status } }",
            json!({ "w": wish }),
        )
        .await;
    let page = w.app.ok(&w.resident.token, PAGE, json!({ "u": id })).await;
    assert_eq!(page["unit"]["totals"]["wishesFulfilled"], 1);
}

/// A page of units with their totals costs the same few statements however many units it
/// shows: the totals of all of them are counted in three grouped queries.
#[tokio::test]
async fn a_page_of_units_counts_all_their_totals_at_once() {
    let w = World::new().await;
    let rep = w.app.login("unit-representative").await;
    let mut units = Vec::new();
    for n in 0..5 {
        let input = json!({ "input": {
            "communityId": w.demo.community, "name": format!("驻区单位{n}"), "partyOrganisation": "机关党支部",
            "contactName": "赵主任", "contactPhone": "13912345678",
        }});
        let id = w.app.ok(&rep.token, REGISTER, input).await["registerUnit"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        w.app
            .ok(
                &w.staff.token,
                REVIEW,
                json!({ "u": id, "ok": true, "note": null }),
            )
            .await;
        units.push(id);
    }
    w.app
        .ok(&w.member.token, JOIN, json!({ "u": units[2] }))
        .await;
    crate::points::serve_order(&w, 5).await;

    let list = "query($c: ID!) { units(communityId: $c) { edges { node { id totals { members confirmedHours wishesFulfilled } } } } }";
    let community = json!({ "c": w.demo.community });
    w.app.ok(&w.resident.token, list, community.clone()).await;
    let before = w.app.statements().await;
    let data = w.app.ok(&w.resident.token, list, community).await;
    let statements = w.app.statements().await - before;
    let edges = data["units"]["edges"].as_array().expect("edges");
    assert_eq!(edges.len(), 5);
    for edge in edges {
        let expected = if edge["node"]["id"] == units[2].as_str() {
            json!({ "members": 1, "confirmedHours": 0.75, "wishesFulfilled": 0 })
        } else {
            json!({ "members": 0, "confirmedHours": 0.0, "wishesFulfilled": 0 })
        };
        assert_eq!(edge["node"]["totals"], expected);
    }
    // The page, then members, minutes and wishes of all five.
    assert!(statements <= 4, "{statements} statements for five units");
}

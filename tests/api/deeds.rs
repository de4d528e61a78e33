//! Residents' own good deeds (积分制): reported, checked by the grid worker, confirmed by STAFF
//! with the kind's points exactly once; refusals for the wrong people and states.
use chrono::Utc;
use serde_json::{Value, json};

use crate::helpers::{Login, World, grids_of};

const SET_KIND: &str = "mutation($c: ID!, $n: String!, $p: Int!) { setDeedKind(communityId: $c, name: $n, basePoints: $p) { id name basePoints } }";
const REPORT: &str = "mutation($k: ID!, $when: DateTime!) { reportGoodDeed(kindId: $k, description: \"帮邻居把垃圾分类投放\", when: $when) { id status } }";
const CHECK: &str = "mutation($d: ID!, $ok: Boolean!, $note: String) { checkGoodDeed(deedId: $d, happened: $ok, note: $note) { status checkNote reason } }";
const REVIEW: &str = "mutation($d: ID!, $ok: Boolean!, $r: String) { reviewGoodDeed(deedId: $d, approve: $ok, reason: $r) { status points reason } }";
const BALANCE: &str = "{ myPoints { balance } }";

/// The demo community with a 垃圾分类 kind worth 5 points, and a grid worker looking after
/// the demo resident's grid: (kind, worker).
async fn community_with_a_worker(w: &World) -> (String, Login) {
    let kinds = w
        .app
        .ok(
            &w.staff.token,
            SET_KIND,
            json!({ "c": w.demo.community, "n": "垃圾分类", "p": 5 }),
        )
        .await;
    let kind = kinds["setDeedKind"][0]["id"]
        .as_str()
        .expect("kind")
        .to_owned();
    let grids = grids_of(&w.app, &w.staff.token, &w.demo.community).await;
    let worker = w.app.resident("deed-grid-worker", &w.demo.community).await;
    w.app
        .ok(
            &w.staff.token,
            "mutation($g: ID!, $w: ID) { updateGrid(id: $g, input: { workerId: $w }) { id } }",
            json!({ "g": grids[0], "w": worker.user_id }),
        )
        .await;
    w.app
        .ok(
            &w.resident.token,
            "mutation($g: ID!) { updateMyProfile(input: { gridId: $g }) { id } }",
            json!({ "g": grids[0] }),
        )
        .await;
    (kind, worker)
}

async fn reported(w: &World, kind: &str) -> String {
    w.app
        .ok(
            &w.resident.token,
            REPORT,
            json!({ "k": kind, "when": (Utc::now() - chrono::Duration::hours(2)).to_rfc3339() }),
        )
        .await["reportGoodDeed"]["id"]
        .as_str()
        .expect("deed")
        .to_owned()
}

fn balance(data: &Value) -> i64 {
    data["myPoints"]["balance"].as_i64().expect("balance")
}

#[tokio::test]
async fn a_checked_and_confirmed_deed_earns_its_kinds_points_once() {
    let w = World::new().await;
    let (kind, worker) = community_with_a_worker(&w).await;
    let deed = reported(&w, &kind).await;
    let queue = "query($c: ID!, $s: DeedStatus!) { goodDeeds(communityId: $c, status: $s) { edges { node { id resident { id } kind { name basePoints } } } } }";
    let waiting = w
        .app
        .ok(
            &worker.token,
            queue,
            json!({ "c": w.demo.community, "s": "PENDING_CHECK" }),
        )
        .await;
    assert_eq!(
        waiting["goodDeeds"]["edges"][0]["node"]["id"],
        deed.as_str()
    );
    assert_eq!(
        waiting["goodDeeds"]["edges"][0]["node"]["kind"]["basePoints"],
        5
    );
    assert_eq!(
        w.app
            .refused(
                Some(&w.staff.token),
                REVIEW,
                json!({ "d": deed, "ok": true, "r": null })
            )
            .await,
        "CONFLICT",
        "not checked yet"
    );
    let checked = w
        .app
        .ok(
            &worker.token,
            CHECK,
            json!({ "d": deed, "ok": true, "note": "已核实" }),
        )
        .await;
    assert_eq!(checked["checkGoodDeed"]["status"], "PENDING_REVIEW");
    let before = balance(&w.app.ok(&w.resident.token, BALANCE, json!({})).await);
    let confirmed = w
        .app
        .ok(
            &w.staff.token,
            REVIEW,
            json!({ "d": deed, "ok": true, "r": null }),
        )
        .await;
    assert_eq!(confirmed["reviewGoodDeed"]["status"], "CONFIRMED");
    assert_eq!(confirmed["reviewGoodDeed"]["points"], 5);
    let after = balance(&w.app.ok(&w.resident.token, BALANCE, json!({})).await);
    assert_eq!(after - before, 5);
    // Confirmed once: again is refused, and the balance stays.
    assert_eq!(
        w.app
            .refused(
                Some(&w.staff.token),
                REVIEW,
                json!({ "d": deed, "ok": true, "r": null })
            )
            .await,
        "CONFLICT"
    );
    let mine = w
        .app
        .ok(
            &w.resident.token,
            "{ myGoodDeeds { edges { node { status points } } } myPoints { balance } }",
            json!({}),
        )
        .await;
    assert_eq!(
        mine["myGoodDeeds"]["edges"][0]["node"]["status"],
        "CONFIRMED"
    );
    assert_eq!(balance(&mine), after);
}

#[tokio::test]
async fn deeds_are_checked_and_confirmed_only_by_those_who_may_and_never_by_oneself() {
    let w = World::new().await;
    let (kind, worker) = community_with_a_worker(&w).await;
    let deed = reported(&w, &kind).await;
    let check = json!({ "d": deed, "ok": true, "note": null });
    for who in [&w.member, &w.resident] {
        assert_eq!(
            w.app.refused(Some(&who.token), CHECK, check.clone()).await,
            "FORBIDDEN"
        );
    }
    assert_eq!(
        w.app
            .refused(
                Some(&worker.token),
                CHECK,
                json!({ "d": deed, "ok": false, "note": null })
            )
            .await,
        "BAD_USER_INPUT",
        "a rejection needs a note"
    );
    w.app.ok(&worker.token, CHECK, check).await;
    let approve = json!({ "d": deed, "ok": true, "r": null });
    for who in [&worker, &w.member] {
        assert_eq!(
            w.app
                .refused(Some(&who.token), REVIEW, approve.clone())
                .await,
            "FORBIDDEN"
        );
    }
    let rejected = w
        .app
        .ok(
            &w.staff.token,
            REVIEW,
            json!({ "d": deed, "ok": false, "r": "时间对不上" }),
        )
        .await;
    assert_eq!(rejected["reviewGoodDeed"]["reason"], "时间对不上");
    assert!(rejected["reviewGoodDeed"]["points"].is_null());

    // Kinds: STAFF set them, within bounds; residents report only their community's.
    let other_staff = w.app.login("deed-other-staff").await;
    w.app
        .grant(
            "deed-other-staff",
            entity::enums::Role::Staff,
            Some(&w.demo.other_community),
        )
        .await;
    let elsewhere = w
        .app
        .ok(
            &other_staff.token,
            SET_KIND,
            json!({ "c": w.demo.other_community, "n": "见义勇为", "p": 50 }),
        )
        .await["setDeedKind"][0]["id"]
        .as_str()
        .expect("kind")
        .to_owned();
    let when = (Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    assert_eq!(
        w.app
            .refused(
                Some(&w.resident.token),
                REPORT,
                json!({ "k": elsewhere, "when": when })
            )
            .await,
        "NOT_FOUND"
    );
    let future = (Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    assert_eq!(
        w.app
            .refused(
                Some(&w.resident.token),
                REPORT,
                json!({ "k": kind, "when": future })
            )
            .await,
        "BAD_USER_INPUT"
    );
    for (who, points) in [(&w.member, 5), (&w.staff, 0), (&w.staff, 100_000)] {
        assert_ne!(
            w.app
                .graphql(
                    Some(&who.token),
                    SET_KIND,
                    json!({ "c": w.demo.community, "n": "扶老人过马路", "p": points })
                )
                .await["errors"],
            Value::Null
        );
    }
}

#[tokio::test]
async fn two_staff_confirming_at_once_credit_once() {
    let w = World::new().await;
    let (kind, worker) = community_with_a_worker(&w).await;
    let deed = reported(&w, &kind).await;
    w.app
        .ok(
            &worker.token,
            CHECK,
            json!({ "d": deed, "ok": true, "note": null }),
        )
        .await;
    let second = w.app.login("deed-second-staff").await;
    w.app
        .grant(
            "deed-second-staff",
            entity::enums::Role::Staff,
            Some(&w.demo.community),
        )
        .await;
    let approve = json!({ "d": deed, "ok": true, "r": null });
    let (a, b) = tokio::join!(
        w.app.graphql(Some(&w.staff.token), REVIEW, approve.clone()),
        w.app.graphql(Some(&second.token), REVIEW, approve.clone()),
    );
    let confirmed = [&a, &b]
        .iter()
        .filter(|body| body["errors"].is_null())
        .count();
    assert_eq!(confirmed, 1, "{a}\n{b}");
    let ledger = w
        .app
        .ok(
            &w.resident.token,
            "{ myPoints { balance ledger(first: 10) { edges { node { kind amount } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(balance(&ledger), 5);
}

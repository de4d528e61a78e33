//! Micro-wishes (微心愿): posted, reviewed onto the wall, claimed by exactly one member or
//! merchant, delivered, confirmed by the resident; a member's time becomes a service record;
//! unclaimed wishes close themselves.
use chrono::Utc;
use serde_json::{Value, json};

use crate::helpers::{World, inbox_kinds, merchant_with_cashier};

const POST: &str = "mutation($input: PostWishInput!) { postWish(input: $input) { id status } }";
const REVIEW: &str = "mutation($id: ID!, $ok: Boolean!, $note: String) { reviewWish(wishId: $id, approve: $ok, note: $note) { status reviewNote } }";
const CLAIM: &str =
    "mutation($id: ID!) { claimWish(wishId: $id) { status claimedAs claimer { id } } }";
const DELIVER: &str = "mutation($id: ID!, $m: Int) { deliverWish(wishId: $id, note: \"已送到家中\", minutesSpent: $m) { status minutesSpent } }";
const CONFIRM: &str = "mutation($id: ID!) { confirmWish(wishId: $id) { status fulfilledAt } }";
const WALL: &str = "query($c: ID!, $s: WishStatus) { wishes(communityId: $c, status: $s) { edges { node { id status } } } }";

async fn posted(w: &World) -> String {
    w.app
        .ok(
            &w.resident.token,
            POST,
            json!({ "input": {
                "title": "想要一副老花镜", "description": "看报纸看不清",
                "neededBy": (Utc::now() + chrono::Duration::days(10)).to_rfc3339(),
            }}),
        )
        .await["postWish"]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

async fn on_the_wall(w: &World) -> String {
    let wish = posted(w).await;
    w.app
        .ok(
            &w.staff.token,
            REVIEW,
            json!({ "id": wish, "ok": true, "note": null }),
        )
        .await;
    wish
}

fn ids(list: &Value) -> Vec<String> {
    list["wishes"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| edge["node"]["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn a_wish_goes_from_the_wall_to_a_member_and_counts_once_the_resident_confirms() {
    let w = World::new().await;
    let wish = posted(&w).await;
    let id = json!({ "id": wish });
    let community = json!({ "c": w.demo.community, "s": null });
    assert!(
        inbox_kinds(&w.app, &w.staff.token)
            .await
            .contains(&"WISH_UPDATED".to_owned())
    );
    assert!(ids(&w.app.ok(&w.member.token, WALL, community.clone()).await).is_empty());
    let pending = json!({ "c": w.demo.community, "s": "PENDING_REVIEW" });
    assert_eq!(
        ids(&w.app.ok(&w.staff.token, WALL, pending.clone()).await),
        std::slice::from_ref(&wish)
    );
    assert_eq!(
        w.app.refused(Some(&w.member.token), WALL, pending).await,
        "FORBIDDEN"
    );
    assert_eq!(
        w.app
            .refused(Some(&w.member.token), CLAIM, id.clone())
            .await,
        "CONFLICT"
    );

    w.app
        .ok(
            &w.staff.token,
            REVIEW,
            json!({ "id": wish, "ok": true, "note": "已核实" }),
        )
        .await;
    assert_eq!(
        ids(&w.app.ok(&w.member.token, WALL, community.clone()).await),
        std::slice::from_ref(&wish)
    );
    let claimed = w.app.ok(&w.member.token, CLAIM, id.clone()).await;
    assert_eq!(claimed["claimWish"]["status"], "CLAIMED");
    assert_eq!(claimed["claimWish"]["claimedAs"], "PARTY_MEMBER");
    assert_eq!(
        w.app
            .refused(
                Some(&w.other_member.token),
                DELIVER,
                json!({ "id": wish, "m": 30 })
            )
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        w.app
            .refused(Some(&w.resident.token), CONFIRM, id.clone())
            .await,
        "CONFLICT",
        "not delivered yet"
    );
    w.app
        .ok(&w.member.token, DELIVER, json!({ "id": wish, "m": 90 }))
        .await;
    assert_eq!(
        w.app
            .refused(Some(&w.member.token), CONFIRM, id.clone())
            .await,
        "FORBIDDEN"
    );
    let confirmed = w.app.ok(&w.resident.token, CONFIRM, id.clone()).await;
    assert_eq!(confirmed["confirmWish"]["status"], "FULFILLED");
    assert_eq!(
        w.app.refused(Some(&w.resident.token), CONFIRM, id).await,
        "CONFLICT"
    );

    // The member's 90 minutes wait for STAFF as a service record from the wish.
    let records = w
        .app
        .ok(
            &w.member.token,
            "{ myServiceRecords { edges { node { source minutes status } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        records["myServiceRecords"]["edges"][0]["node"],
        json!({ "source": "WISH", "minutes": 90, "status": "PENDING" })
    );
    let counted = w
        .app
        .ok(
            &w.resident.token,
            "query($c: ID!) { wishFulfilment(communityId: $c) { fulfilled byClaimer { claimer { id } fulfilled } } }",
            json!({ "c": w.demo.community }),
        )
        .await;
    assert_eq!(counted["wishFulfilment"]["fulfilled"], 1);
    assert_eq!(
        counted["wishFulfilment"]["byClaimer"][0]["claimer"]["id"],
        w.member.user_id.as_str()
    );
    assert!(
        inbox_kinds(&w.app, &w.member.token)
            .await
            .contains(&"WISH_UPDATED".to_owned())
    );
}

#[tokio::test]
async fn only_members_and_merchants_of_the_community_claim_and_never_their_own_wish() {
    let w = World::new().await;
    let wish = on_the_wall(&w).await;
    let id = json!({ "id": wish });
    let neighbour = w.app.resident("wish-neighbour", &w.demo.community).await;
    let elsewhere = w
        .app
        .resident("wish-elsewhere", &w.demo.other_community)
        .await;
    for who in [&w.resident, &neighbour, &elsewhere] {
        assert_eq!(
            w.app.refused(Some(&who.token), CLAIM, id.clone()).await,
            "FORBIDDEN"
        );
    }
    // A merchant of the community claims it; volunteer time is for Party members.
    let (_, _) = merchant_with_cashier(&w, &w.demo.community, &w.staff, "wish-shop").await;
    let owner = w.app.login("wish-shop-owner").await;
    let claimed = w.app.ok(&owner.token, CLAIM, id.clone()).await;
    assert_eq!(claimed["claimWish"]["claimedAs"], "MERCHANT");
    assert_eq!(
        w.app
            .refused(Some(&owner.token), DELIVER, json!({ "id": wish, "m": 30 }))
            .await,
        "BAD_USER_INPUT"
    );
    w.app
        .ok(&owner.token, DELIVER, json!({ "id": wish, "m": null }))
        .await;
    w.app.ok(&w.resident.token, CONFIRM, id).await;

    // Review is for STAFF of the community, and a refusal says why.
    let other = posted(&w).await;
    let other_staff = w.app.login("wish-other-staff").await;
    w.app
        .grant(
            "wish-other-staff",
            entity::enums::Role::Staff,
            Some(&w.demo.other_community),
        )
        .await;
    let approve = json!({ "id": other, "ok": true, "note": null });
    assert_eq!(
        w.app
            .refused(Some(&other_staff.token), REVIEW, approve)
            .await,
        "FORBIDDEN"
    );
    let reject = json!({ "id": other, "ok": false, "note": null });
    assert_eq!(
        w.app.refused(Some(&w.staff.token), REVIEW, reject).await,
        "BAD_USER_INPUT"
    );
    let rejected = w
        .app
        .ok(
            &w.staff.token,
            REVIEW,
            json!({ "id": other, "ok": false, "note": "请到社区当面登记" }),
        )
        .await;
    assert_eq!(rejected["reviewWish"]["status"], "REJECTED");
    let past = json!({ "input": { "title": "x", "neededBy": (Utc::now() - chrono::Duration::hours(1)).to_rfc3339() } });
    assert_eq!(
        w.app.refused(Some(&w.resident.token), POST, past).await,
        "BAD_USER_INPUT"
    );
}

#[tokio::test]
async fn two_members_claiming_at_once_one_gets_it() {
    let w = World::new().await;
    let wish = on_the_wall(&w).await;
    let id = json!({ "id": wish });
    let (a, b) = tokio::join!(
        w.app.graphql(Some(&w.member.token), CLAIM, id.clone()),
        w.app
            .graphql(Some(&w.other_member.token), CLAIM, id.clone()),
    );
    let winners: Vec<&Value> = [&a, &b]
        .into_iter()
        .filter(|body| body["errors"].is_null())
        .collect();
    assert_eq!(winners.len(), 1, "{a}\n{b}");
    let loser = if a["errors"].is_null() { &b } else { &a };
    assert_eq!(loser["errors"][0]["extensions"]["code"], "CONFLICT");
    let seen = w
        .app
        .ok(
            &w.resident.token,
            "query($id: ID!) { wish(id: $id) { claimer { id } } }",
            id,
        )
        .await;
    assert_eq!(
        seen["wish"]["claimer"]["id"],
        winners[0]["data"]["claimWish"]["claimer"]["id"]
    );
}

#[tokio::test]
async fn wishes_nobody_claimed_by_their_date_close_themselves() {
    let w = World::new().await;
    let unclaimed = on_the_wall(&w).await;
    let claimed = on_the_wall(&w).await;
    w.app
        .ok(&w.member.token, CLAIM, json!({ "id": claimed }))
        .await;
    let later = Utc::now() + chrono::Duration::days(11);
    let closed = hongfan::wishes::close_expired(&w.app.db, later)
        .await
        .expect("close");
    assert_eq!(closed, 1);
    let status = "query($id: ID!) { wish(id: $id) { status } }";
    let seen = w
        .app
        .ok(&w.staff.token, status, json!({ "id": unclaimed }))
        .await;
    assert_eq!(seen["wish"]["status"], "CLOSED");
    let seen = w
        .app
        .ok(&w.staff.token, status, json!({ "id": claimed }))
        .await;
    assert_eq!(seen["wish"]["status"], "CLAIMED");
    assert_eq!(
        w.app
            .refused(
                Some(&w.other_member.token),
                CLAIM,
                json!({ "id": unclaimed })
            )
            .await,
        "CONFLICT",
        "a closed wish is off the wall"
    );
}

#[tokio::test]
async fn a_wish_shows_its_photos_on_the_wall_and_a_photo_is_used_once() {
    let w = World::new().await;
    let bytes = crate::photos::jpeg(2_000);
    let (key, status) = crate::photos::upload(
        &w.app,
        &w.resident,
        "WISH_PHOTO",
        "image/jpeg",
        bytes.clone(),
    )
    .await;
    assert!(status.is_success(), "upload: {status}");
    let input = |keys: &[&str]| {
        json!({ "input": {
            "title": "想要一台收音机", "photoKeys": keys,
            "neededBy": (Utc::now() + chrono::Duration::days(10)).to_rfc3339(),
        }})
    };
    // A photo uploaded for an order is not a wish's.
    let (order_photo, _) = crate::photos::upload(
        &w.app,
        &w.resident,
        "ORDER_PHOTO",
        "image/jpeg",
        bytes.clone(),
    )
    .await;
    assert_eq!(
        w.app
            .refused(Some(&w.resident.token), POST, input(&[&order_photo]))
            .await,
        "BAD_USER_INPUT"
    );
    let wish = w.app.ok(&w.resident.token, POST, input(&[&key])).await["postWish"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    w.app
        .ok(
            &w.staff.token,
            REVIEW,
            json!({ "id": wish, "ok": true, "note": null }),
        )
        .await;
    let photos = "query($id: ID!) { wish(id: $id) { photos { fileKey purpose url } } }";
    for viewer in [&w.resident, &w.member] {
        let seen = w.app.ok(&viewer.token, photos, json!({ "id": wish })).await;
        let list = seen["wish"]["photos"].as_array().expect("photos").clone();
        assert_eq!(list.len(), 1, "{seen}");
        assert_eq!(list[0]["fileKey"], key.as_str());
        assert_eq!(list[0]["purpose"], "WISH_PHOTO");
        let url = list[0]["url"].as_str().expect("url");
        let fetched = w.app.http.get(url).send().await.expect("download");
        assert_eq!(
            fetched.bytes().await.expect("bytes").as_ref(),
            bytes.as_slice()
        );
    }
    // The same file cannot show on a second wish.
    assert_eq!(
        w.app
            .refused(Some(&w.resident.token), POST, input(&[&key]))
            .await,
        "BAD_USER_INPUT"
    );
}

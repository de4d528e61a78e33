//! Login sessions, profiles, roles and Party-member registration.
use entity::enums::Role;
use serde_json::{Value, json};

use crate::helpers::{CANCEL, spawn_app};

const ME: &str = "{ me { id name phone roles { role communityId } } }";

#[tokio::test]
async fn login_creates_the_account_once_and_me_returns_it() {
    let app = spawn_app().await;
    let first = app.login("openid-a").await;
    let second = app.login("openid-a").await;
    assert_eq!(first.user_id, second.user_id);
    let data = app.ok(&first.token, ME, json!({})).await;
    assert_eq!(data["me"]["id"], first.user_id.as_str());
    assert_eq!(data["me"]["roles"], json!([]));
}

#[tokio::test]
async fn requests_without_or_with_a_bad_token_are_unauthenticated() {
    let app = spawn_app().await;
    let anonymous = app.refused(None, ME, json!({})).await;
    assert_eq!(anonymous, "UNAUTHENTICATED");
    let malformed = app.refused(Some("not-a-jwt"), ME, json!({})).await;
    assert_eq!(malformed, "UNAUTHENTICATED");
    // A validly shaped token signed with another secret.
    let forged = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIwMTlhMDAwMC0wMDAwLTcwMDAtODAwMC0wMDAwMDAwMDAwMDAifQ.c2lnbmF0dXJl";
    let body = app.refused(Some(forged), ME, json!({})).await;
    assert_eq!(body, "UNAUTHENTICATED");
}

const REFRESH: &str =
    "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }";

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_session() {
    let app = spawn_app().await;
    let login = app.login("openid-r").await;
    let rotated = app
        .graphql(None, REFRESH, json!({ "t": login.refresh_token }))
        .await;
    let next_refresh = rotated["data"]["refreshSession"]["refreshToken"]
        .as_str()
        .expect("next")
        .to_owned();
    let next_access = rotated["data"]["refreshSession"]["accessToken"]
        .as_str()
        .expect("access")
        .to_owned();
    assert_ne!(next_refresh, login.refresh_token);
    app.ok(&next_access, ME, json!({})).await;

    // The spent token is presented again: someone copied it.
    let replay = app
        .refused(None, REFRESH, json!({ "t": login.refresh_token }))
        .await;
    assert_eq!(replay, "UNAUTHENTICATED");
    // The whole family is gone: the newest refresh token and the access tokens too.
    let after = app
        .refused(None, REFRESH, json!({ "t": next_refresh }))
        .await;
    assert_eq!(after, "UNAUTHENTICATED");
    let me = app.refused(Some(&next_access), ME, json!({})).await;
    assert_eq!(me, "UNAUTHENTICATED");
}

#[tokio::test]
async fn logout_ends_the_session_but_not_other_sessions() {
    let app = spawn_app().await;
    let phone = app.login("openid-l").await;
    let tablet = app.login("openid-l").await;
    assert_eq!(
        app.ok(&phone.token, "mutation { logout }", json!({})).await["logout"],
        true
    );
    assert_eq!(
        app.refused(Some(&phone.token), ME, json!({})).await,
        "UNAUTHENTICATED"
    );
    let refresh = app
        .refused(None, REFRESH, json!({ "t": phone.refresh_token }))
        .await;
    assert_eq!(refresh, "UNAUTHENTICATED");
    app.ok(&tablet.token, ME, json!({})).await;
}

const UPDATE_PROFILE: &str = "mutation($input: UpdateProfileInput!) { updateMyProfile(input: $input) { name phone community { name } } }";

#[tokio::test]
async fn profile_updates_are_validated() {
    let app = spawn_app().await;
    let demo = app.seed_demo().await;
    let login = app.login("openid-p").await;
    let data = app
        .ok(
            &login.token,
            UPDATE_PROFILE,
            json!({ "input": { "name": " 王阿姨 ", "phone": "13712345678", "communityId": demo.community } }),
        )
        .await;
    assert_eq!(data["updateMyProfile"]["name"], "王阿姨");
    assert_eq!(data["updateMyProfile"]["phone"], "13712345678");
    assert_eq!(data["updateMyProfile"]["community"]["name"], "凤凰社区");

    for input in [
        json!({ "phone": "call me" }),
        json!({ "name": "   " }),
        json!({ "communityId": "not-an-id" }),
    ] {
        let body = app
            .refused(
                Some(&login.token),
                UPDATE_PROFILE,
                json!({ "input": input }),
            )
            .await;
        assert_eq!(body, "BAD_USER_INPUT", "{input}");
    }
    let unknown = app
        .refused(
            Some(&login.token),
            UPDATE_PROFILE,
            json!({ "input": { "communityId": uuid::Uuid::now_v7().to_string() } }),
        )
        .await;
    assert_eq!(unknown, "NOT_FOUND");
}

#[tokio::test]
async fn roles_are_granted_by_admins_and_by_staff_within_their_community() {
    let app = spawn_app().await;
    let demo = app.seed_demo().await;
    app.grant("staff-1", Role::Staff, Some(&demo.community))
        .await;
    let staff = app.login("staff-1").await;
    let target = app.login("target").await;
    let grant = "mutation($u: ID!, $r: Role!, $c: ID) { grantRole(userId: $u, role: $r, communityId: $c) { roles { role communityId } } }";

    let ok = app
        .ok(
            &staff.token,
            grant,
            json!({ "u": target.user_id, "r": "PARTY_MEMBER", "c": demo.community }),
        )
        .await;
    assert_eq!(
        ok["grantRole"]["roles"],
        json!([{ "role": "PARTY_MEMBER", "communityId": demo.community }])
    );

    let elsewhere = app
        .refused(
            Some(&staff.token),
            grant,
            json!({ "u": target.user_id, "r": "PARTY_MEMBER", "c": demo.other_community }),
        )
        .await;
    assert_eq!(elsewhere, "FORBIDDEN");
    let admin = app
        .refused(
            Some(&staff.token),
            grant,
            json!({ "u": target.user_id, "r": "ADMIN" }),
        )
        .await;
    assert_eq!(admin, "FORBIDDEN");
    let by_resident = app
        .refused(
            Some(&target.token),
            grant,
            json!({ "u": target.user_id, "r": "STAFF", "c": demo.community }),
        )
        .await;
    assert_eq!(by_resident, "FORBIDDEN");

    let revoke = "mutation($u: ID!, $c: ID) { revokeRole(userId: $u, role: PARTY_MEMBER, communityId: $c) { roles { role } } }";
    let revoked = app
        .ok(
            &staff.token,
            revoke,
            json!({ "u": target.user_id, "c": demo.community }),
        )
        .await;
    assert_eq!(revoked["revokeRole"]["roles"], json!([]));
}

const APPLY: &str = "mutation($c: ID!) { applyPartyMember(input: { branch: \"第一党支部\", employer: \"区税务局\", reportedCommunityId: $c }) { id status } }";
const REVIEW: &str = "mutation($id: ID!, $ok: Boolean!) { reviewPartyMemberApplication(applicationId: $id, approve: $ok, note: \"欢迎\") { status applicant { roles { role communityId } } } }";

#[tokio::test]
async fn party_members_register_with_a_community_and_staff_approve_them() {
    let app = spawn_app().await;
    let demo = app.seed_demo().await;
    app.grant("staff-a", Role::Staff, Some(&demo.community))
        .await;
    app.grant("staff-b", Role::Staff, Some(&demo.other_community))
        .await;
    let staff = app.login("staff-a").await;
    let other_staff = app.login("staff-b").await;
    let member = app.login("cadre").await;

    let applied = app
        .ok(&member.token, APPLY, json!({ "c": demo.community }))
        .await;
    assert_eq!(applied["applyPartyMember"]["status"], "PENDING");
    let id = applied["applyPartyMember"]["id"].as_str().expect("id");
    let twice = app
        .refused(Some(&member.token), APPLY, json!({ "c": demo.community }))
        .await;
    assert_eq!(twice, "CONFLICT");

    let queue = app
        .ok(
            &staff.token,
            "query($c: ID!) { partyMemberApplications(communityId: $c, status: PENDING) { id } }",
            json!({ "c": demo.community }),
        )
        .await;
    assert_eq!(queue["partyMemberApplications"][0]["id"], id);

    let wrong_staff = app
        .refused(
            Some(&other_staff.token),
            REVIEW,
            json!({ "id": id, "ok": true }),
        )
        .await;
    assert_eq!(wrong_staff, "FORBIDDEN");
    let approved = app
        .ok(&staff.token, REVIEW, json!({ "id": id, "ok": true }))
        .await;
    assert_eq!(
        approved["reviewPartyMemberApplication"]["status"],
        "APPROVED"
    );
    assert_eq!(
        approved["reviewPartyMemberApplication"]["applicant"]["roles"],
        json!([{ "role": "PARTY_MEMBER", "communityId": demo.community }])
    );
    let again = app
        .refused(Some(&staff.token), REVIEW, json!({ "id": id, "ok": false }))
        .await;
    assert_eq!(again, "CONFLICT");
    // Now a member, the pool is open to them.
    app.ok(
        &member.token,
        "{ orderPool { edges { node { id } } } }",
        json!({}),
    )
    .await;
}

#[tokio::test]
async fn deleting_an_account_erases_the_person_and_keeps_the_history() {
    let w = crate::helpers::World::new().await;
    let order = w.place().await;
    let delete = "mutation { deleteMyAccount }";
    assert_eq!(
        w.app
            .refused(Some(&w.resident.token), delete, json!({}))
            .await,
        "CONFLICT",
        "an open order"
    );
    w.app
        .ok(&w.resident.token, CANCEL, json!({ "id": order }))
        .await;
    w.app.ok(&w.resident.token, delete, json!({})).await;

    assert_eq!(
        w.app.refused(Some(&w.resident.token), ME, json!({})).await,
        "UNAUTHENTICATED",
        "every session ends at once"
    );
    let refreshed = w
        .app
        .graphql(
            None,
            "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken } }",
            json!({ "t": w.resident.refresh_token }),
        )
        .await;
    assert_eq!(crate::helpers::error_code(&refreshed), "UNAUTHENTICATED");
    let seen = w
        .app
        .ok(
            &w.staff.token,
            "query($id: ID!) { order(id: $id) { status contactPhone address requester { name phone } } }",
            json!({ "id": order }),
        )
        .await;
    assert_eq!(seen["order"]["status"], "CANCELLED", "the history stays");
    assert_eq!(seen["order"]["contactPhone"], "");
    assert_eq!(seen["order"]["address"], "");
    assert_eq!(seen["order"]["requester"]["phone"], Value::Null);
    assert!(!seen.to_string().contains("13800000001"), "{seen}");
    // The openid is free: logging in again makes a new, empty account.
    let again = w.app.login("demo-resident").await;
    assert_ne!(again.user_id, w.resident.user_id);
}

//! The read-through cache: reads are served from it, and a change is visible on the very next
//! read, from any instance.
use entity::enums::Role;
use serde_json::json;

use crate::{
    helpers::World,
    helpers::{POOL_IDS, TAKE, TestApp, with_redis},
};

const COMMUNITIES: &str = "{ communities { name pointsPerHour } }";
const MERCHANTS: &str = "{ merchants { edges { node { name } } } }";

#[tokio::test]
async fn listings_are_cached_and_changes_show_on_the_next_read_from_any_instance() {
    let w = World::new().await;
    let second = if with_redis() {
        Some(w.app.another_instance().await)
    } else {
        None
    };
    let other: &TestApp = second.as_ref().unwrap_or(&w.app);

    let first = w.app.ok(&w.resident.token, COMMUNITIES, json!({})).await;
    assert_eq!(first["communities"][0]["pointsPerHour"], 10);
    let before = w.app.statements().await;
    w.app.graphql(None, COMMUNITIES, json!({})).await;
    assert_eq!(
        w.app.statements().await,
        before,
        "a cached read runs no SQL"
    );

    other
        .ok(
            &w.staff.token,
            "mutation($c: ID!) { setPointsRate(communityId: $c, pointsPerHour: 15) { id } }",
            json!({ "c": w.demo.community }),
        )
        .await;
    let after = w.app.ok(&w.resident.token, COMMUNITIES, json!({})).await;
    let rates: Vec<i64> = after["communities"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["pointsPerHour"].as_i64().expect("rate"))
        .collect();
    assert!(rates.contains(&15), "{after}");

    let owner = w.app.resident("cached-owner", &w.demo.community).await;
    let applied = w
        .app
        .ok(
            &owner.token,
            "mutation($c: ID!) { applyMerchant(input: { communityId: $c, name: \"缓存小店\", category: \"超市\", address: \"1号\", latitude: 36.66, longitude: 117.02, phone: \"13700000000\", openingHours: \"全天\" }) { id } }",
            json!({ "c": w.demo.community }),
        )
        .await;
    assert_eq!(
        w.app.ok(&w.resident.token, MERCHANTS, json!({})).await["merchants"]["edges"],
        json!([])
    );
    other
        .ok(
            &w.staff.token,
            "mutation($m: ID!) { approveMerchant(merchantId: $m) { id } }",
            json!({ "m": applied["applyMerchant"]["id"] }),
        )
        .await;
    let listed = w.app.ok(&w.resident.token, MERCHANTS, json!({})).await;
    assert_eq!(listed["merchants"]["edges"][0]["node"]["name"], "缓存小店");
}

#[tokio::test]
async fn roles_are_cached_and_a_revoked_role_ends_on_the_next_request_on_any_instance() {
    let w = World::new().await;
    let second = if with_redis() {
        Some(w.app.another_instance().await)
    } else {
        None
    };
    let other: &TestApp = second.as_ref().unwrap_or(&w.app);
    let pool = "{ orderPool(first: 1) { edges { node { id } } } }";
    let tasks = "{ myTasks(first: 1) { edges { node { id } } } }";

    w.app.ok(&w.member.token, tasks, json!({})).await;
    let before = w.app.statements().await;
    w.app.ok(&w.member.token, tasks, json!({})).await;
    assert_eq!(
        w.app.statements().await,
        before + 1,
        "with the roles cached only the tasks themselves are read"
    );
    w.app.ok(&w.member.token, pool, json!({})).await;

    let member_id = w.app.ok(&w.member.token, "{ me { id } }", json!({})).await["me"]["id"].clone();
    other
        .ok(
            &w.staff.token,
            "mutation($u: ID!, $c: ID) { revokeRole(userId: $u, role: PARTY_MEMBER, communityId: $c) { id } }",
            json!({ "u": member_id, "c": w.demo.community }),
        )
        .await;
    let refused = w.app.refused(Some(&w.member.token), pool, json!({})).await;
    assert_eq!(refused, "FORBIDDEN");
}

#[tokio::test]
async fn the_order_pool_is_cached_and_a_taken_order_leaves_it_on_the_next_read_on_any_instance() {
    let w = World::new().await;
    let second = if with_redis() {
        Some(w.app.another_instance().await)
    } else {
        None
    };
    let other: &TestApp = second.as_ref().unwrap_or(&w.app);
    let pool =
        "{ orderPool(first: 20) { edges { node { id requester { name } category { name } } } } }";
    let order = w.place().await;
    w.publish(&order).await;

    let first = w.app.ok(&w.member.token, pool, json!({})).await;
    assert_eq!(first["orderPool"]["edges"][0]["node"]["id"], order.as_str());
    let before = w.app.statements().await;
    let cached = w.app.ok(&w.member.token, pool, json!({})).await;
    assert_eq!(cached, first);
    assert_eq!(
        w.app.statements().await,
        before,
        "a cached pool read, requesters and categories included, runs no SQL"
    );

    other
        .ok(
            &w.resident.token,
            "mutation { updateMyProfile(input: { name: \"改名居民\" }) { id } }",
            json!({}),
        )
        .await;
    let renamed = w.app.ok(&w.member.token, pool, json!({})).await;
    assert_eq!(
        renamed["orderPool"]["edges"][0]["node"]["requester"]["name"],
        "改名居民"
    );
    other
        .ok(
            &w.other_member.token,
            "mutation($id: ID!) { takeOrder(orderId: $id) { status } }",
            json!({ "id": order }),
        )
        .await;
    let after = w.app.ok(&w.member.token, pool, json!({})).await;
    assert_eq!(after["orderPool"]["edges"], json!([]));
}

/// An order step touches the pool of its own community only: a member elsewhere keeps reading
/// the cached page without a statement, while a member there sees the step at once.
#[tokio::test]
async fn an_order_step_leaves_the_cached_pools_of_other_communities_as_they_were() {
    let w = World::new().await;
    let elsewhere = w.app.login("member-of-the-other-community").await;
    w.app
        .grant(
            "member-of-the-other-community",
            Role::PartyMember,
            Some(&w.demo.other_community),
        )
        .await;
    let order = w.listed_in_the_pool().await;
    let theirs = w.app.ok(&elsewhere.token, POOL_IDS, json!({})).await;

    w.app
        .ok(&w.other_member.token, TAKE, json!({ "id": order }))
        .await;
    let before = w.app.statements().await;
    assert_eq!(
        w.app.ok(&elsewhere.token, POOL_IDS, json!({})).await,
        theirs
    );
    assert_eq!(
        w.app.statements().await,
        before,
        "a step in another community leaves this pool's cached page in use"
    );
    assert_eq!(w.member_pool().await["orderPool"]["edges"], json!([]));
}

/// An OPEN order transferred to another community leaves the pool it was listed in on the
/// next read, although the event names only the community it went to.
#[tokio::test]
async fn an_open_order_transferred_away_leaves_the_cached_pool() {
    let w = World::new().await;
    let order = w.listed_in_the_pool().await;
    w.app
        .ok(
            &w.staff.token,
            "mutation($id: ID!, $c: ID!) { transferOrder(orderId: $id, communityId: $c, reason: \"地址属于隔壁社区\") { status } }",
            json!({ "id": order, "c": w.demo.other_community }),
        )
        .await;
    assert_eq!(w.member_pool().await["orderPool"]["edges"], json!([]));
}

/// Every way roles change (grant, revoke, approving a Party-member registration, the CLI) is
/// seen by the very next request of the person concerned, although their roles were cached.
/// Merchant roles: `merchants::merchant_roles_show_on_the_next_request`.
#[tokio::test]
async fn every_role_change_shows_on_the_next_request() {
    let w = World::new().await;
    let queue =
        "query($c: ID!) { dispatchQueue(communityId: $c, first: 1) { edges { node { id } } } }";
    let pool = "{ orderPool(first: 1) { edges { node { id } } } }";
    let community = json!({ "c": w.demo.community });
    let person = w.app.resident("role-changes", &w.demo.community).await;
    let staff_queue = || w.app.ok(&person.token, queue, community.clone());
    let not_staff = || w.app.refused(Some(&person.token), queue, community.clone());
    let member_pool = || w.app.ok(&person.token, pool, json!({}));
    let not_member = || w.app.refused(Some(&person.token), pool, json!({}));

    // Each check below first caches the roles it then expects to change.
    assert_eq!(not_staff().await, "FORBIDDEN");
    w.app
        .ok(
            &w.staff.token,
            "mutation($u: ID!, $c: ID) { grantRole(userId: $u, role: STAFF, communityId: $c) { id } }",
            json!({ "u": person.user_id, "c": w.demo.community }),
        )
        .await;
    staff_queue().await;
    w.app
        .ok(
            &w.staff.token,
            "mutation($u: ID!, $c: ID) { revokeRole(userId: $u, role: STAFF, communityId: $c) { id } }",
            json!({ "u": person.user_id, "c": w.demo.community }),
        )
        .await;
    assert_eq!(not_staff().await, "FORBIDDEN", "revoked by revokeRole");
    w.app
        .grant("role-changes", Role::Staff, Some(&w.demo.community))
        .await;
    staff_queue().await;

    assert_eq!(not_member().await, "FORBIDDEN");
    let applied = w
        .app
        .ok(
            &person.token,
            "mutation($c: ID!) { applyPartyMember(input: { branch: \"第一党支部\", employer: \"区税务局\", reportedCommunityId: $c }) { id } }",
            community.clone(),
        )
        .await;
    assert_eq!(not_member().await, "FORBIDDEN");
    w.app
        .ok(
            &w.staff.token,
            "mutation($id: ID!) { reviewPartyMemberApplication(applicationId: $id, approve: true) { status } }",
            json!({ "id": applied["applyPartyMember"]["id"] }),
        )
        .await;
    member_pool().await;
}

/// The `hongfan` command (seed-demo, grant-role) writes the database from outside the servers:
/// running servers that share its Redis see the change on their next read.
#[tokio::test]
async fn command_line_changes_show_on_running_servers_at_once() {
    if !with_redis() {
        // Without Redis each server's cache lives in its own process, out of the command's
        // reach: `startup::dispatcher` says such a server picks the change up within a minute.
        return;
    }
    let app = crate::helpers::spawn_app().await;
    let cli = |args: &[&str]| {
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_hongfan"))
            .args(args)
            .env_clear()
            .env("DATABASE_URL", &app.settings.database_url)
            .env(
                "REDIS_URL",
                app.settings.redis_url.as_deref().expect("redis"),
            )
            .env("REDIS_KEY_PREFIX", &app.settings.redis_key_prefix)
            .env("RUST_LOG", "warn")
            .status()
            .expect("run hongfan");
        assert!(status.success(), "hongfan {args:?} failed");
    };
    let user = app.login("cli-staff").await;
    let empty = app.ok(&user.token, COMMUNITIES, json!({})).await;
    assert_eq!(empty["communities"], json!([]), "cached while empty");

    cli(&["seed-demo"]);
    let seeded = app.ok(&user.token, COMMUNITIES, json!({})).await;
    let communities = seeded["communities"].as_array().expect("list");
    assert_eq!(communities.len(), 2, "{seeded}");

    let queue =
        "query($c: ID!) { dispatchQueue(communityId: $c, first: 1) { edges { node { id } } } }";
    let ids = app
        .ok(&user.token, "{ communities { id } }", json!({}))
        .await;
    let community = ids["communities"][0]["id"].as_str().expect("id").to_owned();
    let vars = json!({ "c": community });
    assert_eq!(
        app.refused(Some(&user.token), queue, vars.clone()).await,
        "FORBIDDEN"
    );
    cli(&[
        "grant-role",
        "--openid",
        "cli-staff",
        "--role",
        "STAFF",
        "--community",
        &community,
    ]);
    app.ok(&user.token, queue, vars).await;
}

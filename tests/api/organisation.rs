//! Running a street office without SQL: ADMIN build the administrative tree, STAFF look
//! after grids and categories, grid workers see their grid's orders.
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Login, PLACE, TestApp, World, grids_of, with_redis};

const CREATE_COMMUNITY: &str = "mutation($s: ID!) { createCommunity(input: { streetId: $s, name: \"新城社区\", address: \"新城路1号\", latitude: 36.56, longitude: 116.75, responseMinutes: 30 }) { id name responseMinutes latitude } }";
const UPDATE_GRID: &str =
    "mutation($g: ID!, $w: ID) { updateGrid(id: $g, input: { workerId: $w }) { worker { id } } }";
const GRID_ORDERS: &str =
    "query($g: ID!) { gridOrders(gridId: $g) { edges { node { id grid { id } } } } }";

async fn admin(w: &World) -> Login {
    w.app.login("demo-admin").await
}

async fn street_of(w: &World) -> String {
    let tree = w
        .app
        .ok(
            &w.resident.token,
            "query($c: ID!) { community(id: $c) { street { id } } }",
            json!({ "c": w.demo.community }),
        )
        .await;
    tree["community"]["street"]["id"]
        .as_str()
        .expect("street")
        .to_owned()
}

#[tokio::test]
async fn admins_build_the_tree_and_archived_communities_take_no_one_new() {
    let w = World::new().await;
    let admin = admin(&w).await;
    let street = street_of(&w).await;
    let vars = json!({ "s": street });
    assert_eq!(
        w.app
            .refused(Some(&w.staff.token), CREATE_COMMUNITY, vars.clone())
            .await,
        "FORBIDDEN",
        "STAFF run a community, ADMIN the tree"
    );
    let created = w.app.ok(&admin.token, CREATE_COMMUNITY, vars).await;
    assert_eq!(created["createCommunity"]["responseMinutes"], 30);
    let community = created["createCommunity"]["id"].clone();

    let listed = w
        .app
        .ok(&w.resident.token, "{ communities { id } }", json!({}))
        .await;
    assert!(
        listed["communities"]
            .as_array()
            .expect("list")
            .contains(&json!({ "id": community }))
    );

    let grid = "mutation($c: ID!) { createGrid(communityId: $c, name: \"一网格\", boundary: \"1-5号楼\") { id boundary } }";
    assert_eq!(
        w.app
            .refused(Some(&w.staff.token), grid, json!({ "c": community }))
            .await,
        "FORBIDDEN",
        "STAFF of another community"
    );
    let made = w
        .app
        .ok(&admin.token, grid, json!({ "c": community }))
        .await;
    assert_eq!(made["createGrid"]["boundary"], "1-5号楼");

    w.app
        .ok(
            &admin.token,
            "mutation($c: ID!) { updateCommunity(id: $c, input: { archived: true, name: \"新城社区（已撤并）\" }) { archivedAt } }",
            json!({ "c": community }),
        )
        .await;
    let listed = w
        .app
        .ok(&w.resident.token, "{ communities { id } }", json!({}))
        .await;
    assert!(
        !listed["communities"]
            .as_array()
            .expect("list")
            .contains(&json!({ "id": community })),
        "archived: gone from the list at once"
    );
    assert_eq!(
        w.app
            .refused(
                Some(&w.resident.token),
                "mutation($c: ID!) { updateMyProfile(input: { communityId: $c }) { id } }",
                json!({ "c": community }),
            )
            .await,
        "CONFLICT"
    );
}

#[tokio::test]
async fn grid_workers_see_their_grids_orders_and_only_while_they_look_after_it() {
    let w = World::new().await;
    let grids = grids_of(&w.app, &w.staff.token, &w.demo.community).await;
    let worker = w.app.resident("grid-worker", &w.demo.community).await;
    let successor = w.app.resident("grid-worker-2", &w.demo.community).await;
    w.app
        .ok(
            &w.staff.token,
            UPDATE_GRID,
            json!({ "g": grids[0], "w": worker.user_id }),
        )
        .await;
    w.app
        .ok(
            &w.resident.token,
            "mutation($g: ID!) { updateMyProfile(input: { gridId: $g }) { grid { id } } }",
            json!({ "g": grids[0] }),
        )
        .await;
    assert_eq!(
        w.app
            .refused(
                Some(&w.resident.token),
                "mutation($g: ID!) { updateMyProfile(input: { gridId: $g }) { id } }",
                json!({ "g": grids_of(&w.app, &w.staff.token, &w.demo.other_community).await[0] }),
            )
            .await,
        "BAD_USER_INPUT",
        "a grid of another community"
    );
    let order = w.place().await;

    let seen = w
        .app
        .ok(&worker.token, GRID_ORDERS, json!({ "g": grids[0] }))
        .await;
    assert_eq!(seen["gridOrders"]["edges"][0]["node"]["id"], order.as_str());
    assert_eq!(
        seen["gridOrders"]["edges"][0]["node"]["grid"]["id"],
        grids[0].as_str()
    );
    w.app
        .ok(
            &worker.token,
            "query($id: ID!) { order(id: $id) { status } }",
            json!({ "id": order }),
        )
        .await;
    assert_eq!(
        w.app
            .refused(Some(&worker.token), GRID_ORDERS, json!({ "g": grids[1] }))
            .await,
        "FORBIDDEN",
        "another grid"
    );

    w.app
        .ok(
            &w.staff.token,
            UPDATE_GRID,
            json!({ "g": grids[0], "w": successor.user_id }),
        )
        .await;
    assert_eq!(
        w.app
            .refused(Some(&worker.token), GRID_ORDERS, json!({ "g": grids[0] }))
            .await,
        "FORBIDDEN",
        "no longer its worker"
    );
    let roles = w
        .app
        .ok(&worker.token, "{ me { roles { role } } }", json!({}))
        .await;
    assert!(
        !roles.to_string().contains("GRID_WORKER"),
        "the role ends with the last grid: {roles}"
    );
    w.app
        .ok(&successor.token, GRID_ORDERS, json!({ "g": grids[0] }))
        .await;
}

async fn place(w: &World, app: &TestApp) -> Value {
    let vars = json!({ "input": {
        "categoryId": w.demo.repair, "title": "修灯", "description": "",
        "address": "3号楼", "contactPhone": "13800000001",
    }});
    app.graphql(Some(&w.resident.token), PLACE, vars).await
}

/// Retiring a category or changing its response time shows on every instance's next order,
/// although each instance remembers the categories it has read.
#[tokio::test]
async fn a_category_change_reaches_every_instance() {
    let w = World::new().await;
    let second = if with_redis() {
        Some(w.app.another_instance().await)
    } else {
        None
    };
    let other: &TestApp = second.as_ref().unwrap_or(&w.app);
    // The first instance now remembers the category.
    assert!(place(&w, &w.app).await.get("errors").is_none());
    other
        .ok(
            &w.staff.token,
            "mutation($id: ID!) { updateServiceCategory(id: $id, input: { active: false }) { active } }",
            json!({ "id": w.demo.repair }),
        )
        .await;
    // The news travels over the event bus: allow it a moment, and no more.
    let deadline = Instant::now() + Duration::from_secs(5);
    let refused: Value = loop {
        let body = place(&w, &w.app).await;
        if body.get("errors").is_some() || Instant::now() > deadline {
            break body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{refused}"
    );
    let offered = w
        .app
        .ok(&w.resident.token, "{ serviceCategories { id } }", json!({}))
        .await;
    assert!(!offered.to_string().contains(&w.demo.repair));
}

//! docs/deployment.md's "first deployment", as an operator does it: from an empty database, two commands
//! (`hongfan migrate`, `hongfan grant-role … ADMIN`), then nothing but GraphQL calls until a
//! resident has rated an order in a community that did not exist before.
use serde_json::{Value, json};

use crate::helpers::{TestApp, empty_database, spawn_app_with};

fn hongfan(database_url: &str, args: &[&str]) {
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_hongfan"))
        .args(args)
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .status()
        .expect("run hongfan");
    assert!(status.success(), "hongfan {args:?} failed");
}

async fn id(app: &TestApp, token: &str, query: &str, vars: Value, field: &str) -> String {
    app.ok(token, query, vars).await[field]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{field} has an id"))
        .to_owned()
}

#[tokio::test]
async fn from_an_empty_database_to_a_rated_order_with_graphql_only() {
    let (database_url, _kept) = empty_database().await;
    hongfan(&database_url, &["migrate"]);
    hongfan(
        &database_url,
        &["grant-role", "--openid", "root-admin", "--role", "ADMIN"],
    );
    let url = database_url.clone();
    let app = spawn_app_with(move |settings| settings.database_url = url).await;
    let communities = app.graphql(None, "{ communities { id } }", json!({})).await;
    assert_eq!(
        communities["data"]["communities"],
        json!([]),
        "nothing seeded"
    );

    let admin = app.login("root-admin").await;
    let district = id(
        &app,
        &admin.token,
        "mutation { createDistrict(name: \"历下区\") { id } }",
        json!({}),
        "createDistrict",
    )
    .await;
    let street = id(
        &app,
        &admin.token,
        "mutation($d: ID!) { createStreet(districtId: $d, name: \"泉城路街道\") { id } }",
        json!({ "d": district }),
        "createStreet",
    )
    .await;
    let community = id(
        &app,
        &admin.token,
        "mutation($s: ID!) { createCommunity(input: { streetId: $s, name: \"芙蓉社区\", address: \"芙蓉街1号\" }) { id } }",
        json!({ "s": street }),
        "createCommunity",
    )
    .await;
    let category = id(
        &app,
        &admin.token,
        "mutation { createServiceCategory(input: { code: \"REPAIR\", name: \"维修\", responseMinutes: 120 }) { id } }",
        json!({}),
        "createServiceCategory",
    )
    .await;

    let staff = app.login("first-staff").await;
    let member = app.login("first-member").await;
    let resident = app.login("first-resident").await;
    let grant = "mutation($u: ID!, $r: Role!, $c: ID) { grantRole(userId: $u, role: $r, communityId: $c) { id } }";
    app.ok(
        &admin.token,
        grant,
        json!({ "u": staff.user_id, "r": "STAFF", "c": community }),
    )
    .await;
    let grid = id(
        &app,
        &staff.token,
        "mutation($c: ID!) { createGrid(communityId: $c, name: \"第一网格\") { id } }",
        json!({ "c": community }),
        "createGrid",
    )
    .await;
    app.ok(
        &resident.token,
        "mutation($c: ID!, $g: ID!) { updateMyProfile(input: { name: \"王阿姨\", phone: \"13900001111\", communityId: $c, gridId: $g }) { id } }",
        json!({ "c": community, "g": grid }),
    )
    .await;
    let application = id(
        &app,
        &member.token,
        "mutation($c: ID!) { applyPartyMember(input: { branch: \"机关党支部\", employer: \"区财政局\", reportedCommunityId: $c }) { id } }",
        json!({ "c": community }),
        "applyPartyMember",
    )
    .await;
    app.ok(
        &staff.token,
        "mutation($id: ID!) { reviewPartyMemberApplication(applicationId: $id, approve: true) { status } }",
        json!({ "id": application }),
    )
    .await;

    let order = id(
        &app,
        &resident.token,
        "mutation($c: ID!) { placeOrder(input: { categoryId: $c, title: \"楼道灯不亮\", description: \"三楼\", address: \"芙蓉街1号3单元\", contactPhone: \"13900001111\" }) { id } }",
        json!({ "c": category }),
        "placeOrder",
    )
    .await;
    let step = |token: String, mutation: &'static str| {
        let (app, order) = (&app, order.clone());
        async move { app.ok(&token, mutation, json!({ "id": order })).await }
    };
    step(
        staff.token.clone(),
        "mutation($id: ID!) { publishOrder(orderId: $id) { status } }",
    )
    .await;
    step(
        member.token.clone(),
        "mutation($id: ID!) { takeOrder(orderId: $id) { status } }",
    )
    .await;
    step(
        member.token.clone(),
        "mutation($id: ID!) { completeOrder(orderId: $id, input: { summary: \"换了灯泡\", minutesSpent: 30 }) { status } }",
    )
    .await;
    let rated = step(
        resident.token.clone(),
        "mutation($id: ID!) { rateOrder(orderId: $id, input: { stars: 5 }) { status grid { id } community { name } } }",
    )
    .await;
    assert_eq!(rated["rateOrder"]["status"], "RATED");
    assert_eq!(rated["rateOrder"]["grid"]["id"], grid.as_str());
    assert_eq!(rated["rateOrder"]["community"]["name"], "芙蓉社区");
    let points = app
        .ok(&member.token, "{ myPoints { balance } }", json!({}))
        .await;
    assert_eq!(
        points["myPoints"]["balance"], 5,
        "30 minutes at 10 points an hour"
    );
}

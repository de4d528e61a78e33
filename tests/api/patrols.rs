//! Grid patrols through the endpoint: a sign-off 2 km from its point is refused (and flagged
//! when the worker says why), a finding becomes a PATROL order of the grid in one call, and
//! a patrol handed over is the new worker's alone.
use chrono::{Duration, Utc};
use entity::patrol_finding;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{Login, World, error_code, grids_of};
use crate::photos::{jpeg, upload};

const ADD_POINT: &str =
    "mutation($input: AddPatrolPointInput!) { addPatrolPoint(input: $input) { id checklist } }";
const SCHEDULE: &str = "mutation($g: ID!, $p: [ID!]!, $from: DateTime!, $to: DateTime!) { schedulePatrol(gridId: $g, pointIds: $p, windowStartsAt: $from, windowEndsAt: $to) { id status worker { id } } }";
const SIGN_OFF: &str = "mutation($t: ID!, $input: SignOffPatrolPointInput!) { signOffPatrolPoint(patrolId: $t, input: $input) { distanceMeters flagged offSiteReason timing answers } }";
const FINDING: &str = "mutation($t: ID!, $input: ReportPatrolFindingInput!) { reportPatrolFinding(patrolId: $t, input: $input) { id status channel title photos { fileKey } } }";
const PATROL: &str = "query($t: ID!) { patrol(id: $t) { status worker { id } handedOverFrom { id } handoverReason signOffs { pointId } } }";

/// 凤凰社区's first grid, its worker, and a patrol of one point (at 36.55, 116.75, 50 m).
struct Beat {
    worker: Login,
    grid: String,
    point: String,
    patrol: String,
}

async fn beat(w: &World, worker: &str) -> Beat {
    let worker = w.app.resident(worker, &w.demo.community).await;
    let grid = grids_of(&w.app, &w.staff.token, &w.demo.community).await[0].clone();
    w.app
        .ok(
            &w.staff.token,
            "mutation($g: ID!, $u: ID!) { updateGrid(id: $g, input: { workerId: $u }) { id } }",
            json!({ "g": grid, "u": worker.user_id }),
        )
        .await;
    let point = w
        .app
        .ok(
            &w.staff.token,
            ADD_POINT,
            json!({ "input": {
                "gridId": grid, "name": "3号楼消防通道", "latitude": 36.55, "longitude": 116.75,
                "radiusMeters": 50, "checklist": ["通道畅通", "灭火器在位"],
            }}),
        )
        .await["addPatrolPoint"]["id"]
        .as_str()
        .expect("point")
        .to_owned();
    let now = Utc::now();
    let patrol = w
        .app
        .ok(
            &w.staff.token,
            SCHEDULE,
            json!({ "g": grid, "p": [point], "from": (now - Duration::hours(1)).to_rfc3339(), "to": (now + Duration::hours(1)).to_rfc3339() }),
        )
        .await;
    assert_eq!(
        patrol["schedulePatrol"]["worker"]["id"],
        worker.user_id.as_str()
    );
    let patrol = patrol["schedulePatrol"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    Beat {
        worker,
        grid,
        point,
        patrol,
    }
}

async fn photo(w: &World, who: &Login, purpose: &str) -> String {
    upload(&w.app, who, purpose, "image/jpeg", jpeg(2_000))
        .await
        .0
}

fn sign_off_input(point: &str, latitude: f64, photo: &str, reason: Option<&str>) -> Value {
    json!({
        "pointId": point, "latitude": latitude, "longitude": 116.75,
        "answers": [true, false], "photoKeys": [photo], "offSiteReason": reason,
    })
}

#[tokio::test]
async fn a_sign_off_2_km_away_is_refused_unless_the_worker_says_why() {
    let w = World::new().await;
    let b = beat(&w, "patrol-worker-1").await;
    let key = photo(&w, &b.worker, "PATROL_PHOTO").await;
    // 0.018° of latitude is 2.0 km.
    let far = w
        .app
        .graphql(
            Some(&b.worker.token),
            SIGN_OFF,
            json!({ "t": b.patrol, "input": sign_off_input(&b.point, 36.568, &key, None) }),
        )
        .await;
    assert_eq!(error_code(&far), "BAD_USER_INPUT", "{far}");
    assert!(
        far["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("2.0 km")),
        "{far}"
    );
    let elsewhere = w
        .app
        .graphql(
            Some(&w.staff.token),
            SIGN_OFF,
            json!({ "t": b.patrol, "input": sign_off_input(&b.point, 36.55, &key, None) }),
        )
        .await;
    assert_eq!(error_code(&elsewhere), "FORBIDDEN", "the worker's own");

    let signed = w
        .app
        .ok(
            &b.worker.token,
            SIGN_OFF,
            json!({ "t": b.patrol, "input": sign_off_input(&b.point, 36.568, &key, Some("通道被封，在小区外确认")) }),
        )
        .await;
    let signed = &signed["signOffPatrolPoint"];
    assert_eq!(signed["flagged"], true);
    assert_eq!(signed["timing"], "ON_TIME");
    assert_eq!(signed["answers"], json!([true, false]));
    assert!(signed["distanceMeters"].as_i64().expect("m") >= 1_990);
    let done = w
        .app
        .ok(&w.staff.token, PATROL, json!({ "t": b.patrol }))
        .await;
    assert_eq!(
        done["patrol"]["status"], "DONE",
        "its one point is signed off"
    );
    let again = w
        .app
        .graphql(
            Some(&b.worker.token),
            SIGN_OFF,
            json!({ "t": b.patrol, "input": sign_off_input(&b.point, 36.55, &photo(&w, &b.worker, "PATROL_PHOTO").await, None) }),
        )
        .await;
    assert_eq!(error_code(&again), "CONFLICT", "once per point: {again}");
}

#[tokio::test]
async fn a_patrol_finding_becomes_an_order_of_the_grid_in_one_call() {
    let w = World::new().await;
    let b = beat(&w, "patrol-worker-2").await;
    let key = photo(&w, &b.worker, "ORDER_PHOTO").await;
    let found = w
        .app
        .ok(
            &b.worker.token,
            FINDING,
            json!({ "t": b.patrol, "input": {
                "pointId": b.point, "latitude": 36.5501, "longitude": 116.7502,
                "order": {
                    "categoryId": w.demo.repair, "title": "消防通道堆放杂物",
                    "description": "3号楼东侧通道被电动车堵住", "address": "3号楼东侧",
                    "photoKeys": [key],
                },
            }}),
        )
        .await;
    let order = &found["reportPatrolFinding"];
    assert_eq!(order["channel"], "PATROL");
    assert_eq!(order["status"], "PENDING_DISPATCH");
    assert_eq!(order["photos"][0]["fileKey"], key.as_str());
    let id = order["id"].as_str().expect("id");
    let finding = patrol_finding::Entity::find_by_id(id.parse::<uuid::Uuid>().expect("uuid"))
        .one(&w.app.db)
        .await
        .expect("read")
        .expect("the finding is filed with the order");
    assert_eq!(finding.latitude, 36.5501);
    assert_eq!(finding.task_id.to_string(), b.patrol);

    let queue = w
        .app
        .ok(
            &w.staff.token,
            "query($c: ID!) { dispatchQueue(communityId: $c) { edges { node { id grid { id } } } } }",
            json!({ "c": w.demo.community }),
        )
        .await;
    let queued = queue["dispatchQueue"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .find(|edge| edge["node"]["id"] == id)
        .expect("in the dispatch queue");
    assert_eq!(queued["node"]["grid"]["id"], b.grid.as_str());

    let by_resident = w
        .app
        .graphql(
            Some(&w.resident.token),
            FINDING,
            json!({ "t": b.patrol, "input": { "latitude": 36.55, "longitude": 116.75, "order": {
                "categoryId": w.demo.repair, "title": "x", "description": "", "address": "x",
                "contactPhone": "13800000001",
            }}}),
        )
        .await;
    assert_eq!(
        error_code(&by_resident),
        "NOT_FOUND",
        "not their patrol: {by_resident}"
    );
}

#[tokio::test]
async fn a_patrol_handed_over_is_the_new_workers_alone() {
    let w = World::new().await;
    let b = beat(&w, "patrol-worker-3").await;
    let other = w.app.resident("patrol-worker-4", &w.demo.community).await;
    let grids = grids_of(&w.app, &w.staff.token, &w.demo.community).await;
    w.app
        .ok(
            &w.staff.token,
            "mutation($g: ID!, $u: ID!) { updateGrid(id: $g, input: { workerId: $u }) { id } }",
            json!({ "g": grids[1], "u": other.user_id }),
        )
        .await;
    let not_a_worker = w
        .app
        .graphql(
            Some(&b.worker.token),
            "mutation($t: ID!, $u: ID!) { handOverPatrol(patrolId: $t, toWorkerId: $u, reason: \"请假\") { id } }",
            json!({ "t": b.patrol, "u": w.resident.user_id }),
        )
        .await;
    assert_eq!(
        error_code(&not_a_worker),
        "BAD_USER_INPUT",
        "{not_a_worker}"
    );
    w.app
        .ok(
            &b.worker.token,
            "mutation($t: ID!, $u: ID!) { handOverPatrol(patrolId: $t, toWorkerId: $u, reason: \"今天请假\") { id } }",
            json!({ "t": b.patrol, "u": other.user_id }),
        )
        .await;
    let patrol = w
        .app
        .ok(&other.token, PATROL, json!({ "t": b.patrol }))
        .await;
    assert_eq!(patrol["patrol"]["worker"]["id"], other.user_id.as_str());
    assert_eq!(
        patrol["patrol"]["handedOverFrom"]["id"],
        b.worker.user_id.as_str()
    );
    assert_eq!(patrol["patrol"]["handoverReason"], "今天请假");
    let key = photo(&w, &b.worker, "PATROL_PHOTO").await;
    let former = w
        .app
        .graphql(
            Some(&b.worker.token),
            SIGN_OFF,
            json!({ "t": b.patrol, "input": sign_off_input(&b.point, 36.55, &key, None) }),
        )
        .await;
    assert_eq!(error_code(&former), "NOT_FOUND", "{former}");
}

#[tokio::test]
async fn a_grid_workers_findings_have_an_hourly_budget_of_their_own() {
    let app = crate::helpers::spawn_app_with(|s| s.patrol_findings_per_hour = 2).await;
    let w = World::on(app).await;
    let b = beat(&w, "patrol-worker-budget").await;
    let finding = |n: usize| {
        w.app.graphql(
            Some(&b.worker.token),
            FINDING,
            json!({ "t": b.patrol, "input": {
                "latitude": 36.5501, "longitude": 116.7502,
                "order": {
                    "categoryId": w.demo.repair, "title": format!("井盖松动 {n}"),
                    "description": "", "address": "3号楼东侧",
                },
            }}),
        )
    };
    // Filed at once, they are counted under the worker's lock: exactly the budget passes.
    let results = futures::future::join_all((0..6).map(finding)).await;
    let filed = results.iter().filter(|r| r["errors"].is_null()).count();
    assert_eq!(filed, 2, "{results:?}");
    let refused = results
        .iter()
        .find(|r| !r["errors"].is_null())
        .expect("refused");
    assert_eq!(error_code(refused), "RATE_LIMITED", "{refused}");
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("patrol findings an hour")),
        "{refused}"
    );
}

/// What patrols came to shows in governanceStats per grid and month, and in the patrol CSV:
/// one patrol signed off off site with a finding, one whose window passed with its point
/// missed.
#[tokio::test]
async fn patrol_figures_show_in_the_numbers_and_the_csv() {
    let w = World::new().await;
    let b = beat(&w, "patrol-worker-figures").await;
    let key = photo(&w, &b.worker, "PATROL_PHOTO").await;
    w.app
        .ok(
            &b.worker.token,
            SIGN_OFF,
            json!({ "t": b.patrol, "input": sign_off_input(&b.point, 36.568, &key, Some("通道被封，在小区外确认")) }),
        )
        .await;
    w.app
        .ok(
            &b.worker.token,
            FINDING,
            json!({ "t": b.patrol, "input": {
                "latitude": 36.5501, "longitude": 116.7502,
                "order": { "categoryId": w.demo.repair, "title": "井盖松动", "description": "", "address": "3号楼东侧" },
            }}),
        )
        .await;
    let now = Utc::now();
    let missed = w
        .app
        .ok(
            &w.staff.token,
            SCHEDULE,
            json!({ "g": b.grid, "p": [b.point], "from": (now - Duration::minutes(30)).to_rfc3339(), "to": (now + Duration::hours(1)).to_rfc3339() }),
        )
        .await["schedulePatrol"]["id"]
        .as_str()
        .expect("patrol")
        .parse::<uuid::Uuid>()
        .expect("uuid");
    // Its window passes with the point not signed off.
    entity::patrol_task::Entity::update_many()
        .col_expr(
            entity::patrol_task::Column::WindowEndsAt,
            sea_orm::sea_query::Expr::value(now - Duration::minutes(1)),
        )
        .filter(entity::patrol_task::Column::Id.eq(missed))
        .exec(&w.app.db)
        .await
        .expect("end the window");

    let (from, to) = (now - Duration::days(1), now + Duration::days(1));
    let stats = w
        .app
        .ok(
            &w.staff.token,
            "query($c: ID!, $f: DateTime!, $t: DateTime!) { governanceStats(scope: { communityId: $c }, from: $f, to: $t) { patrols { grid { id } month patrols pointsDue pointsSignedOff pointsMissed coverage offSite findings } } }",
            json!({ "c": w.demo.community, "f": from.to_rfc3339(), "t": to.to_rfc3339() }),
        )
        .await;
    let rows = stats["governanceStats"]["patrols"]
        .as_array()
        .expect("patrols");
    assert_eq!(rows.len(), 1, "{stats}");
    let row = &rows[0];
    assert_eq!(row["grid"]["id"], b.grid.as_str());
    assert_eq!(
        (
            &row["patrols"],
            &row["pointsDue"],
            &row["pointsSignedOff"],
            &row["pointsMissed"],
            &row["offSite"],
            &row["findings"]
        ),
        (
            &json!(2),
            &json!(2),
            &json!(1),
            &json!(1),
            &json!(1),
            &json!(1)
        ),
        "{row}"
    );
    assert_eq!(row["coverage"], 0.5);

    let csv = w
        .app
        .http
        .get(format!("{}/exports/patrols.csv", w.app.address))
        .query(&[
            ("communityId", w.demo.community.as_str()),
            ("from", &from.to_rfc3339()),
            ("to", &to.to_rfc3339()),
        ])
        .bearer_auth(&w.staff.token)
        .send()
        .await
        .expect("csv");
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.expect("text");
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert!(lines[0].contains("漏签点位"), "{text}");
    assert_eq!(lines.len(), 3, "{text}");
    let missed_line = lines
        .iter()
        .find(|line| line.starts_with(&missed.to_string()))
        .expect("the missed patrol");
    assert!(missed_line.ends_with(",1,0,1,0,0"), "{missed_line}");
}

/// A plan files the day's patrol for the grid's worker in its window, once, however many
/// instances run the job at the same moment; its next day moves on by its period.
#[tokio::test]
async fn a_patrol_plan_files_the_days_patrol_once() {
    let w = World::new().await;
    let b = beat(&w, "patrol-worker-plan").await;
    let today = hongfan::values::china_time::today();
    let add = "mutation($input: AddPatrolPlanInput!) { addPatrolPlan(input: $input) { id everyDays windowStarts windowMinutes nextDay } }";
    let input = |every: i64| {
        json!({ "input": {
            "gridId": b.grid, "pointIds": [b.point], "everyDays": every, "windowStarts": "08:30",
            "windowMinutes": 90, "firstDay": today.to_string(),
        }})
    };
    assert_eq!(
        w.app.refused(Some(&b.worker.token), add, input(7)).await,
        "FORBIDDEN",
        "STAFF plan patrols"
    );
    assert_eq!(
        w.app.refused(Some(&w.staff.token), add, input(0)).await,
        "BAD_USER_INPUT"
    );
    let plan = w.app.ok(&w.staff.token, add, input(7)).await["addPatrolPlan"].clone();
    assert_eq!(plan["windowStarts"], "08:30");
    assert_eq!(plan["nextDay"], today.to_string());

    let now = Utc::now();
    let file = hongfan::patrols::plans::file_due;
    let (first, second) = tokio::join!(file(&w.app.db, now), file(&w.app.db, now));
    assert_eq!(first.expect("job") + second.expect("job"), 1, "filed once");
    assert_eq!(file(&w.app.db, now).await.expect("job"), 0);

    let mine = w
        .app
        .ok(
            &b.worker.token,
            "{ myPatrols(first: 20) { edges { node { id windowStartsAt windowEndsAt } } } }",
            json!({}),
        )
        .await;
    let starts = hongfan::values::china_time::start_of(today) + Duration::minutes(8 * 60 + 30);
    let planned: Vec<&Value> = mine["myPatrols"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter(|e| {
            e["node"]["windowStartsAt"]
                .as_str()
                .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
                .is_some_and(|at| at == starts)
        })
        .collect();
    assert_eq!(planned.len(), 1, "{mine}");
    let row = entity::patrol_plan::Entity::find()
        .one(&w.app.db)
        .await
        .expect("read")
        .expect("plan");
    assert_eq!(row.next_day, today + chrono::Days::new(7));
}

//! Real attendance at volunteer activities: no-shows, the hold repeated ones put on sign-ups
//! and STAFF lifting it, check-in on site, and the organiser's roster.
use chrono::{Duration, Utc};
use entity::activity;
use hongfan::points::attendance::mark_no_shows;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{World, error_code, spawn_app_with};

const CREATE: &str =
    "mutation($input: CreateActivityInput!) { createActivity(input: $input) { id } }";
const SIGN_UP: &str = "mutation($a: ID!) { signUpActivity(activityId: $a) { status } }";
const CHECK_IN: &str = "mutation($a: ID!, $u: ID, $lat: Float, $lon: Float) { checkIn(activityId: $a, userId: $u, latitude: $lat, longitude: $lon) { checkedInAt } }";
const HOLD: &str = "query($c: ID!, $u: ID) { signupHold(communityId: $c, userId: $u) }";
const LIFT: &str = "mutation($c: ID!, $u: ID!) { liftSignupHold(communityId: $c, userId: $u, reason: \"已电话沟通\") { userId reason } }";
const MY_SIGN_UP: &str = "query($a: ID!) { activity(id: $a) { mySignUp { status } } }";

/// An activity of the demo community starting within the hour; `place`: check-in on site.
async fn activity(w: &World, place: Option<(f64, f64, i32)>) -> String {
    let now = Utc::now();
    let mut input = json!({
        "communityId": w.demo.community, "title": "清理楼道", "place": "3号楼",
        "startsAt": (now + Duration::minutes(30)).to_rfc3339(),
        "endsAt": (now + Duration::hours(2)).to_rfc3339(), "capacity": 10,
    });
    if let Some((latitude, longitude, radius)) = place {
        input["latitude"] = json!(latitude);
        input["longitude"] = json!(longitude);
        input["checkInRadiusMeters"] = json!(radius);
    }
    w.app
        .ok(&w.staff.token, CREATE, json!({ "input": input }))
        .await["createActivity"]["id"]
        .as_str()
        .expect("activity")
        .to_owned()
}

/// Moves an activity's end into the past, as if it had happened.
async fn end(w: &World, id: &str) {
    activity::Entity::update_many()
        .col_expr(
            activity::Column::EndsAt,
            sea_orm::sea_query::Expr::value(Utc::now() - Duration::minutes(1)),
        )
        .filter(activity::Column::Id.eq(id.parse::<uuid::Uuid>().expect("id")))
        .exec(&w.app.db)
        .await
        .expect("end the activity");
}

async fn status(w: &World, token: &str, activity: &str) -> Value {
    w.app.ok(token, MY_SIGN_UP, json!({ "a": activity })).await["activity"]["mySignUp"]["status"]
        .clone()
}

#[tokio::test]
async fn repeated_no_shows_hold_sign_ups_until_staff_lift_the_hold() {
    let w = World::on(spawn_app_with(|s| s.no_show_limit = 2).await).await;
    let (first, second, third) = (
        activity(&w, None).await,
        activity(&w, None).await,
        activity(&w, None).await,
    );
    for a in [&first, &second] {
        w.app
            .ok(&w.resident.token, SIGN_UP, json!({ "a": a }))
            .await;
        w.app.ok(&w.member.token, SIGN_UP, json!({ "a": a })).await;
    }
    // The member comes to the first (STAFF check them in) and is confirmed at the second
    // without having scanned in: neither is a no-show.
    w.app
        .ok(
            &w.staff.token,
            CHECK_IN,
            json!({ "a": first, "u": w.member.user_id }),
        )
        .await;
    end(&w, &first).await;
    end(&w, &second).await;
    w.app
        .ok(
            &w.staff.token,
            "mutation($a: ID!, $u: ID!) { confirmAttendance(activityId: $a, userId: $u, minutes: 60) { id } }",
            json!({ "a": second, "u": w.member.user_id }),
        )
        .await;

    // The server runs the same job on its own schedule and may have marked some of them
    // first; together they mark the resident's two, once (the statuses below say which).
    let marked = mark_no_shows(&w.app.db, Utc::now()).await.expect("job");
    assert!(marked <= 2, "at most the resident's two: {marked}");
    assert_eq!(
        mark_no_shows(&w.app.db, Utc::now()).await.expect("job"),
        0,
        "marked once"
    );
    for a in [&first, &second] {
        assert_eq!(status(&w, &w.resident.token, a).await, "NO_SHOW");
        assert_eq!(status(&w, &w.member.token, a).await, "SIGNED_UP");
    }

    // Two no-shows hold the resident's sign-ups in the community; the member's are free.
    let refused = w
        .app
        .graphql(Some(&w.resident.token), SIGN_UP, json!({ "a": third }))
        .await;
    assert_eq!(error_code(&refused), "CONFLICT", "{refused}");
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("held until")),
        "{refused}"
    );
    w.app
        .ok(&w.member.token, SIGN_UP, json!({ "a": third }))
        .await;
    let hold = w
        .app
        .ok(&w.resident.token, HOLD, json!({ "c": w.demo.community }))
        .await;
    assert!(hold["signupHold"].is_string(), "{hold}");
    let seen_by_staff = w
        .app
        .ok(
            &w.staff.token,
            HOLD,
            json!({ "c": w.demo.community, "u": w.resident.user_id }),
        )
        .await;
    assert_eq!(seen_by_staff["signupHold"], hold["signupHold"]);
    // Only STAFF of the community see someone else's, or lift it.
    let lift = json!({ "c": w.demo.community, "u": w.resident.user_id });
    assert_eq!(
        w.app
            .refused(Some(&w.member.token), HOLD, lift.clone())
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        w.app
            .refused(Some(&w.resident.token), LIFT, lift.clone())
            .await,
        "FORBIDDEN"
    );

    let lifted = w.app.ok(&w.staff.token, LIFT, lift).await;
    assert_eq!(lifted["liftSignupHold"]["reason"], "已电话沟通");
    assert!(
        w.app
            .ok(&w.resident.token, HOLD, json!({ "c": w.demo.community }))
            .await["signupHold"]
            .is_null()
    );
    w.app
        .ok(&w.resident.token, SIGN_UP, json!({ "a": third }))
        .await;
}

#[tokio::test]
async fn checking_in_on_site_needs_the_volunteer_within_the_radius() {
    let w = World::new().await;
    let (latitude, longitude) = (36.5570, 116.7500);
    let on_site = activity(&w, Some((latitude, longitude, 200))).await;
    w.app
        .ok(&w.resident.token, SIGN_UP, json!({ "a": on_site }))
        .await;
    w.app
        .ok(&w.member.token, SIGN_UP, json!({ "a": on_site }))
        .await;

    let without = w
        .app
        .graphql(Some(&w.resident.token), CHECK_IN, json!({ "a": on_site }))
        .await;
    assert_eq!(error_code(&without), "BAD_USER_INPUT", "{without}");
    // About 2.2 km north.
    let far = w
        .app
        .graphql(
            Some(&w.resident.token),
            CHECK_IN,
            json!({ "a": on_site, "lat": latitude + 0.02, "lon": longitude }),
        )
        .await;
    assert_eq!(error_code(&far), "BAD_USER_INPUT", "{far}");
    assert!(
        far["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("within 200 m")),
        "{far}"
    );
    let near = w
        .app
        .ok(
            &w.resident.token,
            CHECK_IN,
            json!({ "a": on_site, "lat": latitude + 0.0005, "lon": longitude }),
        )
        .await;
    assert!(near["checkIn"]["checkedInAt"].is_string());
    // STAFF checking someone in at the desk need no location.
    w.app
        .ok(
            &w.staff.token,
            CHECK_IN,
            json!({ "a": on_site, "u": w.member.user_id }),
        )
        .await;

    // An activity without a place checks in anywhere, as before.
    let anywhere = activity(&w, None).await;
    w.app
        .ok(&w.resident.token, SIGN_UP, json!({ "a": anywhere }))
        .await;
    w.app
        .ok(&w.resident.token, CHECK_IN, json!({ "a": anywhere }))
        .await;
}

#[tokio::test]
async fn the_organiser_exports_the_roster_with_attendance() {
    let w = World::new().await;
    let a = activity(&w, None).await;
    for who in [&w.resident, &w.member] {
        w.app.ok(&who.token, SIGN_UP, json!({ "a": a })).await;
    }
    w.app
        .ok(
            &w.staff.token,
            CHECK_IN,
            json!({ "a": a, "u": w.member.user_id }),
        )
        .await;
    end(&w, &a).await;
    mark_no_shows(&w.app.db, Utc::now()).await.expect("job");

    let url = format!("{}/exports/activities/{a}/roster.csv", w.app.address);
    let roster = w
        .app
        .http
        .get(&url)
        .bearer_auth(&w.staff.token)
        .send()
        .await
        .expect("roster");
    assert_eq!(roster.status(), 200);
    let text = roster.text().await.expect("text");
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(
        lines[0],
        "\u{feff}姓名,电话,状态,报名时间,签到时间,签退时间,确认时长（分钟）"
    );
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[1].contains(",爽约,"), "{text}");
    assert!(lines[2].contains(",已报名,"), "{text}");
    // Phones are masked: a roster is printed and handed round.
    assert!(!text.contains("13800000001"), "{text}");
    assert!(
        lines[1]
            .split(',')
            .nth(1)
            .is_some_and(|phone| phone.contains('*')),
        "{text}"
    );

    for (token, expected) in [(Some(&w.member.token), 403), (None, 401)] {
        let mut request = w.app.http.get(&url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        assert_eq!(request.send().await.expect("refused").status(), expected);
    }
}

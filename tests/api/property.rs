//! The street's quarterly red/black list of property companies through the endpoint: one
//! rating per household under a storm of tries, nothing before the close, facts from the
//! orders beside the opinions, a digest anyone recomputes, and the lists.
use chrono::{Duration, Utc};
use entity::enums::Role;
use hongfan::values::Quarter;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{Login, World, error_code, inbox_kinds};

const RATE: &str = "mutation($r: ID!, $s: PropertyScoresInput!) { rateProperty(roundId: $r, scores: $s) { receipt companyId } }";
const ROUND: &str = "query($r: ID!) { propertyRound(id: $r) { status digest results { company { id } households averages orders resolutionRate satisfaction score listing } ratings(first: 500) { receipt companyId scores } } }";

/// An approved PROPERTY_COMPANY merchant of `community`, serving it since yesterday.
async fn company(w: &World, staff: &Login, community: &str, name: &str, owner: &str) -> String {
    let owner = w.app.resident(owner, community).await;
    let id = w
        .app
        .ok(
            &owner.token,
            "mutation($c: ID!, $n: String!) { applyMerchant(input: { communityId: $c, name: $n, category: \"物业\", address: \"物业服务中心\", latitude: 36.55, longitude: 116.75, phone: \"13700001234\", openingHours: \"8:30-17:30\", kind: PROPERTY_COMPANY }) { id } }",
            json!({ "c": community, "n": name }),
        )
        .await["applyMerchant"]["id"]
        .as_str()
        .expect("company")
        .to_owned();
    w.app
        .ok(
            &staff.token,
            "mutation($m: ID!) { approveMerchant(merchantId: $m) { id } }",
            json!({ "m": id }),
        )
        .await;
    let served = w
        .app
        .ok(
            &staff.token,
            "mutation($c: ID!, $m: ID!, $at: DateTime!) { assignPropertyCompany(communityId: $c, companyId: $m, startsAt: $at) { company { id } endsAt } }",
            json!({ "c": community, "m": id, "at": (Utc::now() - Duration::hours(1)).to_rfc3339() }),
        )
        .await;
    assert_eq!(
        served["assignPropertyCompany"]["company"]["id"],
        id.as_str()
    );
    id
}

/// A confirmed resident of `community` registered at `address`.
async fn household_member(w: &World, openid: &str, community: &str, address: &str) -> Login {
    let login = w.app.resident(openid, community).await;
    w.app
        .ok(
            &login.token,
            "mutation($a: String!) { updateMyProfile(input: { address: $a }) { id } }",
            json!({ "a": address }),
        )
        .await;
    login
}

fn scores(n: i64) -> Value {
    json!({ "cleanliness": n, "security": n, "repairs": n, "attitude": n, "fees": n })
}

/// The demo community's street.
async fn street_of(w: &World) -> String {
    w.app
        .ok(
            &w.staff.token,
            "query($c: ID!) { community(id: $c) { street { id } } }",
            json!({ "c": w.demo.community }),
        )
        .await["community"]["street"]["id"]
        .as_str()
        .expect("street")
        .to_owned()
}

/// `openPropertyRating`'s variables: this quarter of `street`, closing in an hour.
fn this_quarter(street: &str) -> Value {
    json!({ "s": street, "q": Quarter::of(Utc::now()).to_string(), "at": (Utc::now() + Duration::hours(1)).to_rfc3339() })
}

fn digest_of(ratings: &Value) -> String {
    let mut lines: Vec<String> = ratings
        .as_array()
        .expect("ratings")
        .iter()
        .map(|r| {
            let scores: Vec<String> = r["scores"]
                .as_array()
                .expect("scores")
                .iter()
                .map(|s| s.to_string())
                .collect();
            format!(
                "{}:{}:{}\n",
                r["receipt"].as_str().expect("receipt"),
                r["companyId"].as_str().expect("company"),
                scores.join(",")
            )
        })
        .collect();
    lines.sort();
    hex::encode(Sha256::digest(lines.concat().as_bytes()))
}

#[tokio::test]
async fn the_street_lists_its_property_companies_red_and_black_from_households_and_orders() {
    let w = World::new().await;
    w.app
        .grant("qinghe-staff", Role::Staff, Some(&w.demo.other_community))
        .await;
    let qinghe_staff = w.app.login("qinghe-staff").await;
    let good = company(&w, &w.staff, &w.demo.community, "幸福物业", "good-owner").await;
    let poor = company(
        &w,
        &qinghe_staff,
        &w.demo.other_community,
        "马虎物业",
        "poor-owner",
    )
    .await;
    let street_staff = w.app.login("demo-street").await;
    let admin = w.app.login("demo-admin").await;
    let street = street_of(&w).await;

    // An order of the well-served community, answered, completed and rated 5 stars.
    crate::points::serve_order(&w, 5).await;

    let open = "mutation($s: ID!, $q: String!, $at: DateTime!) { openPropertyRating(input: { streetId: $s, quarter: $q, closesAt: $at }) { id status } }";
    let variables = this_quarter(&street);
    assert_eq!(
        w.app
            .refused(Some(&w.staff.token), open, variables.clone())
            .await,
        "FORBIDDEN",
        "the street opens it, not a community"
    );
    let round = w.app.ok(&street_staff.token, open, variables.clone()).await["openPropertyRating"]
        ["id"]
        .as_str()
        .expect("round")
        .to_owned();
    assert_eq!(
        w.app
            .refused(Some(&street_staff.token), open, variables)
            .await,
        "CONFLICT",
        "one round a quarter"
    );

    // Two members of one household rate 30 times at once: one rating counts.
    let first = household_member(&w, "prop-h1-a", &w.demo.community, "5号楼1单元101").await;
    let second = household_member(&w, "prop-h1-b", &w.demo.community, "5号楼1单元101").await;
    let storm = (0..30).map(|i| {
        let who = if i % 2 == 0 { &first } else { &second };
        w.app.graphql(
            Some(&who.token),
            RATE,
            json!({ "r": round, "s": scores(4 + i % 2) }),
        )
    });
    let answers = futures::future::join_all(storm).await;
    assert!(answers.iter().all(|a| a["errors"].is_null()), "{answers:?}");
    let neighbour = household_member(&w, "prop-h2", &w.demo.community, "6号楼2单元202").await;
    let mine = w
        .app
        .ok(
            &neighbour.token,
            RATE,
            json!({ "r": round, "s": scores(5) }),
        )
        .await;
    assert_eq!(mine["rateProperty"]["companyId"], good.as_str());
    let across = household_member(&w, "prop-h3", &w.demo.other_community, "1号楼101").await;
    w.app
        .ok(&across.token, RATE, json!({ "r": round, "s": scores(1) }))
        .await;
    let out_of_range = w
        .app
        .graphql(
            Some(&across.token),
            RATE,
            json!({ "r": round, "s": scores(6) }),
        )
        .await;
    assert_eq!(error_code(&out_of_range), "BAD_USER_INPUT");

    // Nothing shows before the close, ADMIN included.
    for who in [&street_staff, &admin, &neighbour] {
        let seen = w.app.ok(&who.token, ROUND, json!({ "r": round })).await;
        assert_eq!(seen["propertyRound"]["status"], "OPEN");
        assert!(seen["propertyRound"]["digest"].is_null(), "{seen}");
        assert_eq!(seen["propertyRound"]["results"], json!([]), "{seen}");
        assert_eq!(seen["propertyRound"]["ratings"], json!([]), "{seen}");
    }

    let close = "mutation($r: ID!) { closePropertyRating(roundId: $r) { status } }";
    assert_eq!(
        w.app
            .refused(Some(&w.staff.token), close, json!({ "r": round }))
            .await,
        "FORBIDDEN"
    );
    let closed = w
        .app
        .ok(&street_staff.token, close, json!({ "r": round }))
        .await;
    assert_eq!(closed["closePropertyRating"]["status"], "CLOSED");
    let late = w
        .app
        .graphql(
            Some(&neighbour.token),
            RATE,
            json!({ "r": round, "s": scores(1) }),
        )
        .await;
    assert_eq!(error_code(&late), "CONFLICT", "{late}");

    let sealed = w
        .app
        .ok(&neighbour.token, ROUND, json!({ "r": round }))
        .await["propertyRound"]
        .clone();
    let ratings = &sealed["ratings"];
    assert_eq!(ratings.as_array().expect("ratings").len(), 3, "{sealed}");
    assert_eq!(sealed["digest"].as_str(), Some(digest_of(ratings).as_str()));
    let result_of = |company: &str| {
        sealed["results"]
            .as_array()
            .expect("results")
            .iter()
            .find(|r| r["company"]["id"] == company)
            .cloned()
            .expect("a result for each company")
    };
    let (good, poor) = (result_of(&good), result_of(&poor));
    assert_eq!(good["households"], 2, "{good}");
    assert_eq!(good["orders"], 1, "{good}");
    assert_eq!(good["resolutionRate"], 1.0, "{good}");
    assert_eq!(good["satisfaction"], 1.0, "{good}");
    assert_eq!(good["listing"], "RED", "{good}");
    assert_eq!(poor["households"], 1, "{poor}");
    assert_eq!(poor["averages"], json!([1.0, 1.0, 1.0, 1.0, 1.0]), "{poor}");
    assert_eq!(poor["score"], 0.0, "{poor}");
    assert_eq!(poor["listing"], "BLACK", "{poor}");
    assert_eq!(
        sealed["results"][0]["company"]["id"], good["company"]["id"],
        "best first"
    );
}

/// Ratings racing the close either land in the sealed list or are refused as closed: the
/// published list, the households counted and the digest always agree.
#[tokio::test]
async fn ratings_racing_the_close_are_sealed_or_refused_never_lost() {
    let w = World::new().await;
    company(&w, &w.staff, &w.demo.community, "赛跑物业", "race-owner").await;
    let street_staff = w.app.login("demo-street").await;
    let street = street_of(&w).await;
    let open = "mutation($s: ID!, $q: String!, $at: DateTime!) { openPropertyRating(input: { streetId: $s, quarter: $q, closesAt: $at }) { id } }";
    let round = w
        .app
        .ok(&street_staff.token, open, this_quarter(&street))
        .await["openPropertyRating"]["id"]
        .as_str()
        .expect("round")
        .to_owned();
    let mut households = Vec::new();
    for i in 0..10 {
        households.push(
            household_member(
                &w,
                &format!("race-h{i}"),
                &w.demo.community,
                &format!("{i}号楼101"),
            )
            .await,
        );
    }
    let ratings = households.iter().map(|who| {
        w.app.graphql(
            Some(&who.token),
            RATE,
            json!({ "r": round, "s": scores(4) }),
        )
    });
    let close = w.app.graphql(
        Some(&street_staff.token),
        "mutation($r: ID!) { closePropertyRating(roundId: $r) { status } }",
        json!({ "r": round }),
    );
    let (answers, closed) = tokio::join!(futures::future::join_all(ratings), close);
    assert_eq!(
        closed["data"]["closePropertyRating"]["status"], "CLOSED",
        "{closed}"
    );
    let landed = answers.iter().filter(|a| a["errors"].is_null()).count();
    assert!(
        answers
            .iter()
            .filter(|a| !a["errors"].is_null())
            .all(|a| error_code(a) == "CONFLICT"),
        "{answers:?}"
    );
    let sealed = w
        .app
        .ok(&street_staff.token, ROUND, json!({ "r": round }))
        .await["propertyRound"]
        .clone();
    let published = sealed["ratings"].as_array().expect("ratings").len();
    let counted: i64 = sealed["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["households"].as_i64().expect("households"))
        .sum();
    assert_eq!(published, landed, "{sealed}");
    assert_eq!(counted, landed as i64, "{sealed}");
    assert_eq!(
        sealed["digest"].as_str(),
        Some(digest_of(&sealed["ratings"]).as_str())
    );
}

/// The sealed list is a notice (公示): the listed companies hear of it, each may object once
/// within the window and the street answers; a black-listed company gets a rectification task
/// that it reports on and the street accepts or sends back.
#[tokio::test]
async fn the_published_list_takes_each_company_s_objection_and_follows_up_the_black_list() {
    let w = World::new().await;
    w.app
        .grant(
            "notice-qinghe-staff",
            Role::Staff,
            Some(&w.demo.other_community),
        )
        .await;
    let qinghe_staff = w.app.login("notice-qinghe-staff").await;
    company(&w, &w.staff, &w.demo.community, "安心物业", "notice-good").await;
    let poor = company(
        &w,
        &qinghe_staff,
        &w.demo.other_community,
        "敷衍物业",
        "notice-poor",
    )
    .await;
    let (good_owner, poor_owner) = (
        w.app.login("notice-good").await,
        w.app.login("notice-poor").await,
    );
    let street_staff = w.app.login("demo-street").await;
    let open = "mutation($s: ID!, $q: String!, $at: DateTime!) { openPropertyRating(input: { streetId: $s, quarter: $q, closesAt: $at }) { id } }";
    let round = w
        .app
        .ok(
            &street_staff.token,
            open,
            this_quarter(&street_of(&w).await),
        )
        .await["openPropertyRating"]["id"]
        .as_str()
        .expect("round")
        .to_owned();
    let unhappy = household_member(&w, "notice-h1", &w.demo.other_community, "2号楼101").await;
    w.app
        .ok(&unhappy.token, RATE, json!({ "r": round, "s": scores(1) }))
        .await;
    let happy = household_member(&w, "notice-h2", &w.demo.community, "3号楼101").await;
    w.app
        .ok(&happy.token, RATE, json!({ "r": round, "s": scores(5) }))
        .await;

    let object = "mutation($r: ID!, $c: ID!, $why: String!) { objectToPropertyResult(roundId: $r, companyId: $c, reason: $why) { id mine answer } }";
    let early = w
        .app
        .graphql(
            Some(&poor_owner.token),
            object,
            json!({ "r": round, "c": poor, "why": "样本太少" }),
        )
        .await;
    assert_eq!(error_code(&early), "CONFLICT", "not published yet: {early}");
    w.app
        .ok(
            &street_staff.token,
            "mutation($r: ID!) { closePropertyRating(roundId: $r) { status objectionsCloseAt } }",
            json!({ "r": round }),
        )
        .await;

    for owner in [&good_owner, &poor_owner] {
        let kinds = inbox_kinds(&w.app, &owner.token).await;
        let told = kinds.iter().any(|kind| kind == "RESULT_PUBLISHED");
        assert!(told, "every listed company hears of the list: {kinds:?}");
    }

    let tasks = "query($r: ID!) { propertyRound(id: $r) { rectifications { id companyId status dueAt reviewNote } } }";
    let task_list = |data: &Value| {
        data["propertyRound"]["rectifications"]
            .as_array()
            .expect("tasks")
            .clone()
    };
    let all = task_list(
        &w.app
            .ok(&street_staff.token, tasks, json!({ "r": round }))
            .await,
    );
    assert_eq!(all.len(), 1, "only the black-listed company: {all:?}");
    assert_eq!(all[0]["companyId"], poor.as_str());
    assert_eq!(all[0]["status"], "OPEN");
    assert_eq!(
        task_list(
            &w.app
                .ok(&poor_owner.token, tasks, json!({ "r": round }))
                .await
        )
        .len(),
        1
    );
    assert_eq!(
        task_list(
            &w.app
                .ok(&good_owner.token, tasks, json!({ "r": round }))
                .await
        )
        .len(),
        0
    );

    let for_another = w
        .app
        .graphql(
            Some(&good_owner.token),
            object,
            json!({ "r": round, "c": poor, "why": "替他们说话" }),
        )
        .await;
    assert_eq!(error_code(&for_another), "FORBIDDEN", "{for_another}");
    let objected = w
        .app
        .ok(
            &poor_owner.token,
            object,
            json!({ "r": round, "c": poor, "why": "仅一户参评，样本太少" }),
        )
        .await;
    assert_eq!(objected["objectToPropertyResult"]["mine"], true);
    let again = w
        .app
        .graphql(
            Some(&poor_owner.token),
            object,
            json!({ "r": round, "c": poor, "why": "再次异议" }),
        )
        .await;
    assert_eq!(error_code(&again), "CONFLICT", "once per company: {again}");
    assert!(
        again["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("per company"),
        "{again}"
    );

    let objections = "query($r: ID!, $c: ID) { propertyRound(id: $r) { objections(companyId: $c, first: 20) { edges { node { reason mine } } } } }";
    let listed = |data: &Value| {
        data["propertyRound"]["objections"]["edges"]
            .as_array()
            .expect("edges")
            .len()
    };
    assert_eq!(
        listed(
            &w.app
                .ok(&street_staff.token, objections, json!({ "r": round }))
                .await
        ),
        1
    );
    assert_eq!(
        listed(
            &w.app
                .ok(
                    &poor_owner.token,
                    objections,
                    json!({ "r": round, "c": poor })
                )
                .await
        ),
        1
    );
    assert_eq!(
        w.app
            .refused(
                Some(&good_owner.token),
                objections,
                json!({ "r": round, "c": poor })
            )
            .await,
        "FORBIDDEN",
        "another company's objections are not theirs to read"
    );
    let answer = "mutation($o: ID!, $a: String!) { answerPropertyObjection(objectionId: $o, answer: $a) { answer } }";
    let objection = objected["objectToPropertyResult"]["id"].clone();
    assert_eq!(
        w.app
            .refused(
                Some(&qinghe_staff.token),
                answer,
                json!({ "o": objection, "a": "维持" })
            )
            .await,
        "FORBIDDEN",
        "the street answers, not a community"
    );
    w.app
        .ok(
            &street_staff.token,
            answer,
            json!({ "o": objection, "a": "评分规则已公布，维持结果" }),
        )
        .await;

    let task = all[0]["id"].clone();
    let report = "mutation($t: ID!, $r: String!) { reportRectification(rectificationId: $t, report: $r) { status report } }";
    let review = "mutation($t: ID!, $ok: Boolean!, $n: String!) { reviewRectification(rectificationId: $t, accept: $ok, note: $n) { status reviewNote } }";
    assert_eq!(
        w.app
            .refused(
                Some(&street_staff.token),
                review,
                json!({ "t": task, "ok": true, "n": "好" })
            )
            .await,
        "CONFLICT",
        "nothing reported yet"
    );
    assert_eq!(
        w.app
            .refused(
                Some(&good_owner.token),
                report,
                json!({ "t": task, "r": "已整改" })
            )
            .await,
        "FORBIDDEN"
    );
    let reported = w
        .app
        .ok(
            &poor_owner.token,
            report,
            json!({ "t": task, "r": "增加保洁两人，垃圾日清" }),
        )
        .await;
    assert_eq!(reported["reportRectification"]["status"], "REPORTED");
    let sent_back = w
        .app
        .ok(
            &street_staff.token,
            review,
            json!({ "t": task, "ok": false, "n": "请补充照片" }),
        )
        .await;
    assert_eq!(sent_back["reviewRectification"]["status"], "OPEN");
    w.app
        .ok(
            &poor_owner.token,
            report,
            json!({ "t": task, "r": "已补充照片与台账" }),
        )
        .await;
    let accepted = w
        .app
        .ok(
            &street_staff.token,
            review,
            json!({ "t": task, "ok": true, "n": "整改到位" }),
        )
        .await;
    assert_eq!(accepted["reviewRectification"]["status"], "ACCEPTED");
    assert_eq!(
        w.app
            .refused(
                Some(&poor_owner.token),
                report,
                json!({ "t": task, "r": "再报一次" })
            )
            .await,
        "CONFLICT"
    );
}

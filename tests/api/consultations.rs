//! Consultations and votes (议事) through the endpoint: one ballot per household under a
//! storm of tries, nothing of the result before the close, a digest anyone recomputes, paper
//! and app ballots excluding each other, and the roll written when voting opens.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{EntityTrait, QueryFilter};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{Login, TestApp, World, error_code};

const RAISE: &str =
    "mutation($input: RaiseTopicInput!) { raiseTopic(input: $input) { id status options } }";
const ADVANCE: &str =
    "mutation($t: ID!, $to: TopicStatus!) { advanceTopic(topicId: $t, to: $to) { status } }";
const CAST: &str =
    "mutation($t: ID!, $c: [Int!]!) { castBallot(topicId: $t, choices: $c) { receipt choices } }";
const PAPER: &str = "mutation($t: ID!, $u: ID!, $c: [Int!]!) { recordPaperBallot(topicId: $t, userId: $u, choices: $c) { receipt } }";
const RESULT: &str = "query($t: ID!) { topic(id: $t) { status results { sequence counts { option ballots } eligible turnout valid digest } ballots(first: 500) { receipt choices } } }";
const MINE: &str =
    "query($t: ID!) { topic(id: $t) { canVote myBallot { source receipt choices } } }";

/// A resident the community confirmed, registered at `address`.
async fn voter(w: &World, openid: &str, address: &str) -> Login {
    let login = w.app.resident(openid, &w.demo.community).await;
    w.app
        .ok(
            &login.token,
            "mutation($a: String!) { updateMyProfile(input: { address: $a }) { id } }",
            json!({ "a": address }),
        )
        .await;
    login
}

/// A topic STAFF raised and opened for voting now.
async fn open_topic(w: &World, input: Value) -> String {
    let now = Utc::now();
    let mut input = input;
    input["communityId"] = json!(w.demo.community);
    input["title"] = json!("小区东门是否加装道闸");
    input["body"] = json!("物业提出加装道闸，费用由公共收益列支。");
    input["votingStartsAt"] = json!((now - Duration::minutes(1)).to_rfc3339());
    input["votingEndsAt"] = json!((now + Duration::hours(1)).to_rfc3339());
    let raised = w
        .app
        .ok(&w.staff.token, RAISE, json!({ "input": input }))
        .await;
    let topic = raised["raiseTopic"]["id"].as_str().expect("id").to_owned();
    assert_eq!(raised["raiseTopic"]["status"], "DRAFT");
    advance(&w.app, &w.staff, &topic, "VOTING").await;
    topic
}

async fn advance(app: &TestApp, staff: &Login, topic: &str, to: &str) {
    let moved = app
        .ok(&staff.token, ADVANCE, json!({ "t": topic, "to": to }))
        .await;
    assert_eq!(moved["advanceTopic"]["status"], to);
}

fn lines_digest(ballots: &Value) -> String {
    let mut lines: Vec<String> = ballots
        .as_array()
        .expect("ballots")
        .iter()
        .map(|ballot| {
            let choices: Vec<String> = ballot["choices"]
                .as_array()
                .expect("choices")
                .iter()
                .map(|c| c.to_string())
                .collect();
            format!(
                "{}:{}\n",
                ballot["receipt"].as_str().expect("receipt"),
                choices.join(",")
            )
        })
        .collect();
    lines.sort();
    Sha256::digest(lines.concat().as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[tokio::test]
async fn a_household_has_one_ballot_however_many_times_its_members_cast_at_once() {
    let w = World::new().await;
    let first = voter(&w, "vote-home-1", "幸福里1号楼101").await;
    let second = voter(&w, "vote-home-2", " 幸福里1号楼101 ").await;
    let topic = open_topic(&w, json!({ "ballotKind": "YES_NO_ABSTAIN" })).await;

    let casts = (0..100).map(|i| {
        let who = if i % 2 == 0 { &first } else { &second };
        w.app
            .graphql(Some(&who.token), CAST, json!({ "t": topic, "c": [i % 3] }))
    });
    let answers = futures::future::join_all(casts).await;
    let receipts: Vec<(String, Value)> = answers
        .iter()
        .map(|answer| {
            assert!(answer["errors"].is_null(), "every try is filed: {answer}");
            (
                answer["data"]["castBallot"]["receipt"]
                    .as_str()
                    .expect("receipt")
                    .to_owned(),
                answer["data"]["castBallot"]["choices"].clone(),
            )
        })
        .collect();
    let mine = w.app.ok(&first.token, MINE, json!({ "t": topic })).await;
    let theirs = w.app.ok(&second.token, MINE, json!({ "t": topic })).await;
    assert_eq!(mine["topic"]["canVote"], true);
    assert_eq!(
        mine["topic"]["myBallot"], theirs["topic"]["myBallot"],
        "one household, one ballot"
    );

    advance(&w.app, &w.staff, &topic, "CLOSED").await;
    let closed = w.app.ok(&first.token, RESULT, json!({ "t": topic })).await;
    let result = &closed["topic"]["results"][0];
    assert_eq!(result["turnout"], 1, "{closed}");
    let counted: i64 = result["counts"]
        .as_array()
        .expect("counts")
        .iter()
        .map(|count| count["ballots"].as_i64().expect("n"))
        .sum();
    assert_eq!(counted, 1, "exactly one ballot counts: {closed}");
    let ballots = closed["topic"]["ballots"].as_array().expect("ballots");
    assert_eq!(ballots.len(), 1);
    assert_eq!(
        ballots[0]["receipt"], mine["topic"]["myBallot"]["receipt"],
        "the last ballot counts"
    );
    assert!(
        receipts.iter().any(
            |(receipt, choices)| ballots[0]["receipt"] == receipt.as_str()
                && ballots[0]["choices"] == *choices
        ),
        "the counted ballot is one that was cast"
    );
}

#[tokio::test]
async fn nothing_of_the_result_shows_before_the_close_and_its_digest_recomputes() {
    let w = World::new().await;
    let voters = [
        voter(&w, "vote-a", "和平路1号").await,
        voter(&w, "vote-b", "和平路2号").await,
        voter(&w, "vote-c", "和平路3号").await,
    ];
    let topic = open_topic(
        &w,
        json!({ "ballotKind": "ONE_OF", "options": ["东门", "西门", "都不装"], "votingUnit": "PERSON", "quorumPercent": 50 }),
    )
    .await;
    for (voter, choice) in voters.iter().zip([0, 0, 2]) {
        w.app
            .ok(&voter.token, CAST, json!({ "t": topic, "c": [choice] }))
            .await;
    }
    let admin = w.app.login("demo-admin").await;
    for who in [&w.staff, &admin, &voters[0]] {
        let open = w.app.ok(&who.token, RESULT, json!({ "t": topic })).await;
        assert_eq!(open["topic"]["results"], json!([]), "no result: {open}");
        assert_eq!(open["topic"]["ballots"], json!([]), "no ballots: {open}");
    }

    advance(&w.app, &w.staff, &topic, "CLOSED").await;
    let closed = w
        .app
        .ok(&voters[1].token, RESULT, json!({ "t": topic }))
        .await;
    let result = &closed["topic"]["results"][0];
    assert_eq!(
        result["counts"],
        json!([
            { "option": "东门", "ballots": 2 },
            { "option": "西门", "ballots": 0 },
            { "option": "都不装", "ballots": 1 },
        ])
    );
    // On the roll: the three and the demo's resident, who did not vote.
    assert_eq!(result["eligible"], 4);
    assert_eq!(result["turnout"], 3);
    assert_eq!(result["valid"], true);
    assert_eq!(
        result["digest"].as_str().expect("digest"),
        lines_digest(&closed["topic"]["ballots"]),
        "anyone recomputes the digest from the published list"
    );
    let late = w
        .app
        .graphql(
            Some(&voters[2].token),
            CAST,
            json!({ "t": topic, "c": [1] }),
        )
        .await;
    assert_eq!(error_code(&late), "CONFLICT", "closed: {late}");
    advance(&w.app, &w.staff, &topic, "PUBLISHED").await;
}

#[tokio::test]
async fn paper_and_app_ballots_exclude_each_other_and_only_the_roll_votes() {
    let w = World::new().await;
    let on_paper = voter(&w, "vote-paper", "建设街5号").await;
    let in_app = voter(&w, "vote-app", "建设街6号").await;
    let topic = open_topic(&w, json!({ "ballotKind": "YES_NO_ABSTAIN" })).await;
    let late_comer = voter(&w, "vote-late", "建设街7号").await;

    w.app
        .ok(
            &w.staff.token,
            PAPER,
            json!({ "t": topic, "u": on_paper.user_id, "c": [0] }),
        )
        .await;
    let twice = w
        .app
        .graphql(Some(&on_paper.token), CAST, json!({ "t": topic, "c": [1] }))
        .await;
    assert_eq!(error_code(&twice), "CONFLICT", "{twice}");
    w.app
        .ok(&in_app.token, CAST, json!({ "t": topic, "c": [1] }))
        .await;
    let paper_too = w
        .app
        .graphql(
            Some(&w.staff.token),
            PAPER,
            json!({ "t": topic, "u": in_app.user_id, "c": [0] }),
        )
        .await;
    assert_eq!(error_code(&paper_too), "CONFLICT", "{paper_too}");

    let not_on_roll = w
        .app
        .graphql(
            Some(&late_comer.token),
            CAST,
            json!({ "t": topic, "c": [0] }),
        )
        .await;
    assert_eq!(error_code(&not_on_roll), "FORBIDDEN", "{not_on_roll}");
    let no_such_option = w
        .app
        .graphql(Some(&in_app.token), CAST, json!({ "t": topic, "c": [3] }))
        .await;
    assert_eq!(error_code(&no_such_option), "BAD_USER_INPUT");
    let by_resident = w
        .app
        .graphql(
            Some(&in_app.token),
            PAPER,
            json!({ "t": topic, "u": in_app.user_id, "c": [0] }),
        )
        .await;
    assert_eq!(
        error_code(&by_resident),
        "FORBIDDEN",
        "STAFF enter paper ballots"
    );

    let outsider = w.app.login("vote-outsider").await;
    let elsewhere = w
        .app
        .graphql(
            Some(&outsider.token),
            RAISE,
            json!({ "input": {
                "communityId": w.demo.community, "title": "外人的议题", "body": "……",
                "ballotKind": "YES_NO_ABSTAIN",
                "votingStartsAt": Utc::now().to_rfc3339(),
                "votingEndsAt": (Utc::now() + Duration::hours(1)).to_rfc3339(),
            }}),
        )
        .await;
    assert_eq!(error_code(&elsewhere), "FORBIDDEN", "{elsewhere}");
}

#[tokio::test]
async fn the_close_job_seals_topics_whose_voting_time_is_over() {
    let w = World::new().await;
    let resident = voter(&w, "vote-job", "胜利街9号").await;
    let topic = open_topic(
        &w,
        json!({ "ballotKind": "YES_NO_ABSTAIN", "quorumPercent": 100 }),
    )
    .await;
    w.app
        .ok(&resident.token, CAST, json!({ "t": topic, "c": [0] }))
        .await;
    let now = Utc::now();
    assert_eq!(
        hongfan::consultations::close_due(&w.app.db, now)
            .await
            .expect("job"),
        0,
        "still open"
    );
    assert_eq!(
        hongfan::consultations::close_due(&w.app.db, now + Duration::hours(2))
            .await
            .expect("job"),
        1
    );
    let closed = w
        .app
        .ok(&resident.token, RESULT, json!({ "t": topic }))
        .await;
    assert_eq!(closed["topic"]["status"], "CLOSED");
    let result = &closed["topic"]["results"][0];
    assert_eq!(result["turnout"], 1);
    assert_eq!(result["valid"], false, "short of a 100 % quorum: {closed}");
}

/// A list of topics tells the voter where they stand on each with a fixed number of
/// statements, however many topics it shows, and shows each topic's own ballot.
#[tokio::test]
async fn a_topic_list_reads_the_voters_standing_in_one_go() {
    let w = World::new().await;
    let me = voter(&w, "list-voter", "3号楼2单元401").await;
    let list = "query($c: ID!) { topics(communityId: $c, first: 20) { edges { node { id canVote myBallot { choices } } } } }";
    let options = json!({ "ballotKind": "ONE_OF", "options": ["同意", "不同意", "弃权"] });
    let mut statements = Vec::new();
    let mut cast = Vec::new();
    for round in 0..2 {
        for _ in 0..[2, 3][round] {
            let topic = open_topic(&w, options.clone()).await;
            let choice = cast.len() as i64 % 3;
            w.app
                .ok(&me.token, CAST, json!({ "t": topic, "c": [choice] }))
                .await;
            cast.push((topic, choice));
        }
        w.app
            .ok(&me.token, list, json!({ "c": w.demo.community }))
            .await;
        let before = w.app.statements().await;
        let data = w
            .app
            .ok(&me.token, list, json!({ "c": w.demo.community }))
            .await;
        statements.push(w.app.statements().await - before);
        let edges = data["topics"]["edges"].as_array().expect("edges");
        assert_eq!(edges.len(), cast.len(), "{data}");
        for (topic, choice) in &cast {
            let node = &edges
                .iter()
                .find(|e| e["node"]["id"] == topic.as_str())
                .expect("listed")["node"];
            assert_eq!(node["canVote"], true, "{node}");
            assert_eq!(node["myBallot"]["choices"], json!([choice]), "{node}");
        }
    }
    assert_eq!(
        statements[0], statements[1],
        "2 topics vs 5: {statements:?}"
    );
}

/// governanceStats counts the topics raised in the period, those decided, their turnout and
/// the time to a decision.
#[tokio::test]
async fn consultation_figures_show_in_the_numbers() {
    let w = World::new().await;
    let me = voter(&w, "figures-voter", "7号楼1单元101").await;
    let decided = open_topic(&w, json!({ "ballotKind": "YES_NO_ABSTAIN" })).await;
    w.app
        .ok(&me.token, CAST, json!({ "t": decided, "c": [0] }))
        .await;
    advance(&w.app, &w.staff, &decided, "CLOSED").await;
    open_topic(&w, json!({ "ballotKind": "YES_NO_ABSTAIN" })).await;

    let sealed = w
        .app
        .ok(&w.staff.token, RESULT, json!({ "t": decided }))
        .await;
    let result = &sealed["topic"]["results"][0];
    let share = result["turnout"].as_f64().expect("turnout")
        / result["eligible"].as_f64().expect("eligible");
    let now = Utc::now();
    let stats = w
        .app
        .ok(
            &w.staff.token,
            "query($c: ID!, $f: DateTime!, $t: DateTime!) { governanceStats(scope: { communityId: $c }, from: $f, to: $t) { consultations { topics decided averageTurnout averageDaysToDecision } } }",
            json!({ "c": w.demo.community, "f": (now - Duration::days(1)).to_rfc3339(), "t": (now + Duration::days(1)).to_rfc3339() }),
        )
        .await;
    let figures = &stats["governanceStats"]["consultations"];
    assert_eq!(figures["topics"], 2, "{stats}");
    assert_eq!(figures["decided"], 1, "{stats}");
    assert_eq!(figures["averageTurnout"].as_f64(), Some(share), "{stats}");
    let days = figures["averageDaysToDecision"].as_f64().expect("days");
    assert!(
        (0.0..0.01).contains(&days),
        "decided within the test: {days}"
    );
}

/// After the close a result is corrected only by a further, visible row: with its reason and
/// who entered it, beside the sealed one, which stays as it was.
#[tokio::test]
async fn a_closed_result_is_corrected_by_a_visible_record_beside_the_sealed_one() {
    let w = World::new().await;
    let me = voter(&w, "correction-voter", "9号楼1单元101").await;
    let topic = open_topic(&w, json!({ "ballotKind": "YES_NO_ABSTAIN" })).await;
    w.app
        .ok(&me.token, CAST, json!({ "t": topic, "c": [1] }))
        .await;
    let correct = "mutation($t: ID!, $c: [Int!]!, $n: Int!) { correctTopicResult(topicId: $t, counts: $c, turnout: $n, reason: \"补录两张纸质选票\") { sequence counts { ballots } turnout reason correctedById } }";
    let corrected = json!({ "t": topic, "c": [2, 1, 0], "n": 1 });
    assert_eq!(
        w.app
            .refused(Some(&w.staff.token), correct, corrected.clone())
            .await,
        "CONFLICT",
        "not before the close"
    );
    advance(&w.app, &w.staff, &topic, "CLOSED").await;
    assert_eq!(
        w.app
            .refused(Some(&me.token), correct, corrected.clone())
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        w.app
            .refused(
                Some(&w.staff.token),
                correct,
                json!({ "t": topic, "c": [2, 1], "n": 1 })
            )
            .await,
        "BAD_USER_INPUT",
        "a count for each option"
    );
    let row = w.app.ok(&w.staff.token, correct, corrected).await["correctTopicResult"].clone();
    assert_eq!(row["sequence"], 2);
    assert_eq!(row["correctedById"], w.staff.user_id.as_str());

    let results =
        w.app.ok(&me.token, RESULT, json!({ "t": topic })).await["topic"]["results"].clone();
    let ballots = |row: &Value| -> Vec<i64> {
        row["counts"]
            .as_array()
            .expect("counts")
            .iter()
            .map(|c| c["ballots"].as_i64().expect("ballots"))
            .collect()
    };
    assert_eq!(results.as_array().expect("results").len(), 2);
    assert_eq!(
        ballots(&results[0]),
        vec![0, 1, 0],
        "the sealed result stays"
    );
    assert_eq!(ballots(&results[1]), vec![2, 1, 0]);
    assert_eq!(results[1]["sequence"], 2);
}

/// Residents discuss a topic while it is under DISCUSSION; STAFF hide a comment with a reason,
/// which then shows without its text to the other residents.
#[tokio::test]
async fn residents_discuss_a_topic_and_staff_moderate_it() {
    let w = World::new().await;
    let neighbour = voter(&w, "discussion-neighbour", "2号楼1单元101").await;
    let raised = w
        .app
        .ok(
            &w.staff.token,
            RAISE,
            json!({ "input": {
                "communityId": w.demo.community, "title": "小区是否增设充电桩",
                "body": "物业提议在地下车库增设充电桩。", "ballotKind": "YES_NO_ABSTAIN",
                "votingStartsAt": Utc::now().to_rfc3339(),
                "votingEndsAt": (Utc::now() + Duration::days(7)).to_rfc3339(),
            }}),
        )
        .await;
    let topic = raised["raiseTopic"]["id"].as_str().expect("id").to_owned();
    assert_eq!(
        error_code(&comment(&w, &w.staff, &topic, "草稿阶段").await),
        "CONFLICT",
        "not before DISCUSSION"
    );
    advance(&w.app, &w.staff, &topic, "DISCUSSION").await;
    let kind = comment(&w, &neighbour, &topic, "支持，电动车太多了").await;
    assert_eq!(kind["data"]["postTopicComment"]["mine"], true, "{kind}");
    let rude = comment(&w, &w.resident, &topic, "广告：低价出售车位").await;
    let rude = rude["data"]["postTopicComment"]["id"]
        .as_str()
        .expect("posted")
        .to_owned();

    let hide = "mutation($c: ID!) { hideTopicComment(commentId: $c, reason: \"与议题无关的广告\") { hidden hiddenReason } }";
    assert_eq!(
        w.app
            .refused(Some(&neighbour.token), hide, json!({ "c": rude }))
            .await,
        "FORBIDDEN"
    );
    let hidden = w.app.ok(&w.staff.token, hide, json!({ "c": rude })).await;
    assert_eq!(hidden["hideTopicComment"]["hidden"], true);
    assert_eq!(
        w.app
            .refused(Some(&w.staff.token), hide, json!({ "c": rude }))
            .await,
        "CONFLICT",
        "once"
    );

    let by_neighbour = comments_seen_by(&w, &neighbour, &topic).await;
    assert_eq!(by_neighbour.len(), 2);
    let hidden_there = by_neighbour
        .iter()
        .find(|c| c["id"] == rude.as_str())
        .expect("listed");
    assert!(hidden_there["body"].is_null(), "{hidden_there}");
    assert_eq!(hidden_there["hiddenReason"], "与议题无关的广告");
    let by_staff = comments_seen_by(&w, &w.staff, &topic).await;
    let hidden_for_staff = by_staff
        .iter()
        .find(|c| c["id"] == rude.as_str())
        .expect("listed");
    assert_eq!(hidden_for_staff["body"], "广告：低价出售车位");

    // STAFF put proposals (方案) to it, at most ten however many are sent at once; residents
    // may not, and proposals list apart from the comments.
    let propose = "mutation($t: ID!, $n: String!) { postTopicProposal(topicId: $t, title: $n, body: \"在地下车库B区安装20个慢充桩\") { id proposalTitle } }";
    assert_eq!(
        w.app
            .refused(
                Some(&neighbour.token),
                propose,
                json!({ "t": topic, "n": "居民方案" })
            )
            .await,
        "FORBIDDEN"
    );
    let burst = (0..12).map(|i| {
        w.app.graphql(
            Some(&w.staff.token),
            propose,
            json!({ "t": topic, "n": format!("方案{i}") }),
        )
    });
    let answers = futures::future::join_all(burst).await;
    let accepted = answers.iter().filter(|a| a["errors"].is_null()).count();
    assert_eq!(accepted, 10, "at most ten proposals: {answers:?}");
    assert!(
        answers
            .iter()
            .filter(|a| !a["errors"].is_null())
            .all(|a| error_code(a) == "CONFLICT"),
        "{answers:?}"
    );
    let proposals = w
        .app
        .ok(
            &neighbour.token,
            "query($t: ID!) { topic(id: $t) { proposals { proposalTitle body } } }",
            json!({ "t": topic }),
        )
        .await;
    let proposals = proposals["topic"]["proposals"]
        .as_array()
        .expect("proposals");
    assert_eq!(proposals.len(), 10);
    assert!(proposals.iter().all(|p| p["proposalTitle"].is_string()));
    assert_eq!(
        comments_seen_by(&w, &neighbour, &topic).await.len(),
        2,
        "proposals are not comments"
    );

    advance(&w.app, &w.staff, &topic, "VOTING").await;
    assert_eq!(
        error_code(&comment(&w, &neighbour, &topic, "投票开始了").await),
        "CONFLICT",
        "the discussion is over"
    );
    assert_eq!(
        w.app
            .refused(
                Some(&w.staff.token),
                propose,
                json!({ "t": topic, "n": "迟到的方案" })
            )
            .await,
        "CONFLICT",
        "proposals come before the vote"
    );
}

async fn comment(w: &World, who: &Login, topic: &str, body: &str) -> Value {
    let post = "mutation($t: ID!, $b: String!) { postTopicComment(topicId: $t, body: $b) { id body mine } }";
    w.app
        .graphql(Some(&who.token), post, json!({ "t": topic, "b": body }))
        .await
}

async fn comments_seen_by(w: &World, who: &Login, topic: &str) -> Vec<Value> {
    let list = "query($t: ID!) { topic(id: $t) { comments(first: 10) { edges { node { id body hidden hiddenReason } } } } }";
    let data = w.app.ok(&who.token, list, json!({ "t": topic })).await;
    data["topic"]["comments"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

const OBJECT: &str = "mutation($t: ID!, $r: String!) { objectToTopicResult(topicId: $t, reason: $r) { id mine answer } }";
const OBJECTIONS: &str = "query($t: ID!) { topic(id: $t) { publishedAt objectionsCloseAt objections(first: 20) { edges { node { id reason mine answer } } } } }";

#[tokio::test]
async fn a_published_result_tells_the_roll_and_takes_one_objection_each_within_its_window() {
    let w = World::new().await;
    let voters = [
        voter(&w, "notice-a", "光明路1号").await,
        voter(&w, "notice-b", "光明路2号").await,
    ];
    let topic = open_topic(&w, json!({ "ballotKind": "YES_NO_ABSTAIN" })).await;
    let outsider = voter(&w, "notice-late", "光明路3号").await;
    w.app
        .ok(&voters[0].token, CAST, json!({ "t": topic, "c": [0] }))
        .await;
    advance(&w.app, &w.staff, &topic, "CLOSED").await;
    let early = w
        .app
        .graphql(
            Some(&voters[0].token),
            OBJECT,
            json!({ "t": topic, "r": "票数不对" }),
        )
        .await;
    assert_eq!(error_code(&early), "CONFLICT", "not published yet: {early}");

    advance(&w.app, &w.staff, &topic, "PUBLISHED").await;
    let notice = w
        .app
        .ok(&voters[1].token, OBJECTIONS, json!({ "t": topic }))
        .await;
    let published =
        DateTime::parse_from_rfc3339(notice["topic"]["publishedAt"].as_str().expect("published"))
            .expect("time");
    let closes = DateTime::parse_from_rfc3339(
        notice["topic"]["objectionsCloseAt"]
            .as_str()
            .expect("closes"),
    )
    .expect("time");
    assert_eq!(
        closes - published,
        Duration::days(5),
        "the points notice's window"
    );
    for voter in &voters {
        let inbox = w
            .app
            .ok(
                &voter.token,
                "{ myInbox(first: 20) { edges { node { kind message } } } }",
                json!({}),
            )
            .await;
        let told = inbox["myInbox"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .any(|edge| {
                edge["node"]["kind"] == "RESULT_PUBLISHED"
                    && edge["node"]["message"]
                        .as_str()
                        .expect("message")
                        .contains("小区东门是否加装道闸")
            });
        assert!(
            told,
            "everyone on the roll hears of the notice, voted or not: {inbox}"
        );
    }

    let not_on_roll = w
        .app
        .graphql(
            Some(&outsider.token),
            OBJECT,
            json!({ "t": topic, "r": "我也要投票" }),
        )
        .await;
    assert_eq!(error_code(&not_on_roll), "FORBIDDEN", "{not_on_roll}");
    let objected = w
        .app
        .ok(
            &voters[0].token,
            OBJECT,
            json!({ "t": topic, "r": "纸质票漏计" }),
        )
        .await;
    assert_eq!(objected["objectToTopicResult"]["mine"], true);
    let again = w
        .app
        .graphql(
            Some(&voters[0].token),
            OBJECT,
            json!({ "t": topic, "r": "再提一次" }),
        )
        .await;
    assert_eq!(
        error_code(&again),
        "CONFLICT",
        "one objection each: {again}"
    );
    assert!(
        again["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("already filed"),
        "the unique index's refusal says which rule: {again}"
    );

    let listed = |data: &Value| {
        data["topic"]["objections"]["edges"]
            .as_array()
            .expect("edges")
            .len()
    };
    let staff_sees = w
        .app
        .ok(&w.staff.token, OBJECTIONS, json!({ "t": topic }))
        .await;
    assert_eq!(listed(&staff_sees), 1);
    assert_eq!(
        staff_sees["topic"]["objections"]["edges"][0]["node"]["mine"],
        false
    );
    let other_sees = w
        .app
        .ok(&voters[1].token, OBJECTIONS, json!({ "t": topic }))
        .await;
    assert_eq!(
        listed(&other_sees),
        0,
        "another resident sees only their own"
    );

    let answer = "mutation($o: ID!, $a: String!) { answerTopicObjection(objectionId: $o, answer: $a) { answer answeredAt } }";
    let objection = objected["objectToTopicResult"]["id"].clone();
    let by_resident = w
        .app
        .graphql(
            Some(&voters[1].token),
            answer,
            json!({ "o": objection, "a": "驳回" }),
        )
        .await;
    assert_eq!(error_code(&by_resident), "FORBIDDEN", "{by_resident}");
    let answered = w
        .app
        .ok(
            &w.staff.token,
            answer,
            json!({ "o": objection, "a": "已复核纸质票，将更正结果" }),
        )
        .await;
    assert_eq!(
        answered["answerTopicObjection"]["answer"],
        "已复核纸质票，将更正结果"
    );
    let twice = w
        .app
        .graphql(
            Some(&w.staff.token),
            answer,
            json!({ "o": objection, "a": "再答一次" }),
        )
        .await;
    assert_eq!(error_code(&twice), "CONFLICT", "answered once: {twice}");
    let mine = w
        .app
        .ok(&voters[0].token, OBJECTIONS, json!({ "t": topic }))
        .await;
    assert_eq!(
        mine["topic"]["objections"]["edges"][0]["node"]["answer"],
        "已复核纸质票，将更正结果"
    );

    // Once the window has passed, nobody may object any more.
    entity::topic::Entity::update_many()
        .col_expr(
            entity::topic::Column::ObjectionsCloseAt,
            sea_orm::sea_query::Expr::value(Utc::now() - Duration::minutes(1)),
        )
        .filter(sea_orm::ColumnTrait::eq(
            &entity::topic::Column::Id,
            topic.parse::<uuid::Uuid>().expect("uuid"),
        ))
        .exec(&w.app.db)
        .await
        .expect("window closed");
    let late = w
        .app
        .graphql(
            Some(&voters[1].token),
            OBJECT,
            json!({ "t": topic, "r": "我也有异议" }),
        )
        .await;
    assert_eq!(error_code(&late), "CONFLICT", "the window closed: {late}");
}

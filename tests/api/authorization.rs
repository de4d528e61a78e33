//! The authorization table, generated from the schema: every query and mutation that takes an
//! id is called, with real ids of objects in one community, by four outsiders from the other
//! community (a resident, a Party member, STAFF, a merchant's cashier). Each call must be
//! refused with FORBIDDEN or NOT_FOUND, or answer nothing (null, an empty list). A new field
//! is covered without touching this file; a new kind of id argument fails until it is named
//! in `object_for`.
use std::collections::HashMap;

use async_graphql::parser::{
    parse_schema,
    types::{BaseType, TypeDefinition, TypeKind, TypeSystemDefinition},
};
use entity::enums::Role;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::{Value, json};

use crate::helpers::{PUBLISH, World, merchant_with_cashier, offer_of};

/// Fields anyone logged in may call on another community's objects, and why.
const OPEN_TO_ALL: &[(&str, &str)] = &[
    ("community", "the administrative tree is public"),
    (
        "units",
        "approved units are a public list; only STAFF ask for the others",
    ),
    (
        "unit",
        "an approved unit's page is public; its phone is masked",
    ),
    (
        "confirmConsoleLogin",
        "lets the ticket's browser in as the caller themselves; no community's data is named",
    ),
    (
        "claimConsoleLogin",
        "answers only with the secret behind the ticket, which no other caller holds",
    ),
    ("activity", "activities are advertised to every volunteer"),
    ("activities", "activities are advertised to every volunteer"),
    ("signUpActivity", "anyone may volunteer, for themselves"),
    ("cancelSignUp", "acts on the caller's own sign-up only"),
    (
        "serviceCertificate",
        "certifies the caller's own records only; elsewhere they have none",
    ),
    (
        "volunteerLeaderboard",
        "a public notice; names follow each volunteer's privacy choice",
    ),
    ("communityPointsNotice", "a public notice (积分公示)"),
    ("merchant", "an approved merchant is a public listing"),
    (
        "redeemOffer",
        "any resident may spend their own points at an alliance merchant",
    ),
    (
        "updateServiceCategory",
        "categories are shared by every community: any STAFF looks after them",
    ),
    (
        "deedKinds",
        "the good deeds a community rewards are posted for all to see",
    ),
    (
        "wishFulfilment",
        "how many wishes came true is the wish wall's public tally",
    ),
    (
        "departments",
        "the departments a street escalates to are part of the public administrative tree",
    ),
    (
        "propertyRounds",
        "a street's property ratings are a public notice (公示); results show after the close",
    ),
    (
        "propertyRound",
        "a street's property ratings are a public notice (公示); results show after the close",
    ),
    (
        "rateProperty",
        "the round is the street's: a household anywhere in it rates its own community's company",
    ),
];

/// An optional id argument the probe leaves out, because another one names the object.
const OMIT: &str = "";

/// Which object of the victim community an id argument names.
fn object_for(field: &str, argument: &str) -> &'static str {
    match (field, argument) {
        (_, "orderId") => "order",
        (_, "assigneeId") => "member",
        ("removeMerchantStaff", "userId") => "cashier",
        (_, "userId") => "resident",
        (_, "toUserId") => "resident",
        ("confirmHousehold", "firstUserId" | "secondUserId") => "resident",
        (_, "communityId") => "community",
        (_, "applicationId") => "application",
        (_, "requestId") => "adjustmentRequest",
        (_, "entryId") => "entry",
        (_, "activityId") => "activity",
        (_, "merchantId") => "merchant",
        (_, "offerId") => "offer",
        (_, "districtId") => "district",
        (_, "gridId") => "grid",
        ("updateGrid", "id") => "grid",
        ("updateCommunity", "id") => "community",
        ("updateServiceCategory", "id") => "category",
        ("order", "id") => "order",
        ("community", "id") => "community",
        ("activity", "id") => "activity",
        ("merchant", "id") => "merchant",
        ("reviewServiceRecord", "id") => "serviceRecord",
        ("cancelRedemption", "id") => "redemption",
        ("resolveContentFlag", "id") => "contentFlag",
        ("objectToNotice", "recordId") => "serviceRecord",
        ("answerTopicObjection", "objectionId") => "topicObjection",
        ("answerPropertyObjection", "objectionId") => "propertyObjection",
        (_, "rectificationId") => "rectification",
        (_, "objectionId") => "objection",
        (_, "categoryId") => "category",
        // Probed as community grants; street and department grants are ADMIN's alone.
        ("grantRole" | "revokeRole", "streetId" | "departmentId") => OMIT,
        (_, "streetId") => "street",
        (_, "departmentId") => "department",
        (_, "escalationId") => "escalation",
        (_, "wishId") => "wish",
        (_, "topicId") => "topic",
        (_, "patrolId") => "patrol",
        ("patrol", "id") => "patrol",
        (_, "pointId" | "pointIds") => "patrolPoint",
        (_, "toWorkerId") => "resident",
        ("topic", "id") => "topic",
        (_, "unitId") => "unit",
        ("unit", "id") => "unit",
        (_, "kindId") => "deedKind",
        (_, "deedId") => "goodDeed",
        ("wish", "id") => "wish",
        ("escalation", "id") => "escalation",
        ("revokeOpen311Key", "id") => "open311Key",
        (_, "ticket") => "consoleTicket",
        (_, "roundId") => "propertyRound",
        (_, "commentId") => "topicComment",
        ("propertyRound", "id") => "propertyRound",
        (_, "companyId") => "merchant",
        _ => panic!("name the object that {field}({argument}) refers to in object_for"),
    }
}

struct Schema {
    types: HashMap<String, TypeKind>,
}

impl Schema {
    fn parse() -> Self {
        let document = parse_schema(hongfan::graphql::sdl()).expect("the SDL parses");
        let types = document
            .definitions
            .into_iter()
            .filter_map(|definition| match definition {
                TypeSystemDefinition::Type(ty) => {
                    let TypeDefinition { name, kind, .. } = ty.node;
                    Some((name.node.to_string(), kind))
                }
                _ => None,
            })
            .collect();
        Self { types }
    }

    /// A literal for a value of `ty`: a real id for ids, something well-formed otherwise.
    fn literal(
        &self,
        ty: &async_graphql::parser::types::Type,
        field: &str,
        argument: &str,
        ids: &HashMap<&str, String>,
    ) -> String {
        let name = match &ty.base {
            BaseType::List(item) => {
                return format!("[{}]", self.literal(item, field, argument, ids));
            }
            BaseType::Named(name) => name.as_str(),
        };
        match name {
            "ID" => format!("\"{}\"", ids[object_for(field, argument)]),
            "String" if argument == "month" => "\"2026-11\"".to_owned(),
            "String" => "\"authz-probe-0001\"".to_owned(),
            "Int" => "1".to_owned(),
            "Float" => "0.5".to_owned(),
            "Boolean" => "true".to_owned(),
            "DateTime" => format!("\"{}\"", chrono::Utc::now().to_rfc3339()),
            "NaiveDate" => format!("\"{}\"", chrono::Utc::now().date_naive()),
            other => match &self.types[other] {
                TypeKind::Enum(values) => values.values[0].node.value.node.to_string(),
                TypeKind::InputObject(input) => {
                    let fields: Vec<String> = input
                        .fields
                        .iter()
                        .filter(|f| !f.node.ty.node.nullable && f.node.default_value.is_none())
                        .map(|f| {
                            let name = f.node.name.node.as_str();
                            format!(
                                "{name}: {}",
                                self.literal(&f.node.ty.node, field, name, ids)
                            )
                        })
                        .collect();
                    format!("{{ {} }}", fields.join(", "))
                }
                _ => panic!("no literal for {other}"),
            },
        }
    }

    /// What to select of a field's value: a connection's edges, an object's type name.
    fn selection(&self, ty: &async_graphql::parser::types::Type) -> &'static str {
        match &ty.base {
            BaseType::List(item) => self.selection(item),
            BaseType::Named(name) => match self.types.get(name.as_str()) {
                Some(TypeKind::Object(object))
                    if object.fields.iter().any(|f| f.node.name.node == "edges") =>
                {
                    " { edges { __typename } }"
                }
                Some(TypeKind::Object(_) | TypeKind::Interface(_) | TypeKind::Union(_)) => {
                    " { __typename }"
                }
                _ => "",
            },
        }
    }

    /// Every root operation field that takes an id, as a document with real ids.
    fn probes(&self, ids: &HashMap<&str, String>) -> Vec<(String, String)> {
        let mut probes = Vec::new();
        for (root, keyword) in [("QueryRoot", "query"), ("MutationRoot", "mutation")] {
            let TypeKind::Object(object) = &self.types[root] else {
                panic!("{root} is an object");
            };
            for field in &object.fields {
                let field = &field.node;
                let name = field.name.node.as_str();
                let takes_id = field.arguments.iter().any(|argument| {
                    matches!(&argument.node.ty.node.base, BaseType::Named(n) if n == "ID")
                });
                if !takes_id {
                    continue;
                }
                let arguments: Vec<String> = field
                    .arguments
                    .iter()
                    .filter(|argument| {
                        let ty = &argument.node.ty.node;
                        let arg = argument.node.name.node.as_str();
                        let is_id = matches!(&ty.base, BaseType::Named(n) if n == "ID")
                            && object_for(name, arg) != OMIT;
                        is_id || (!ty.nullable && argument.node.default_value.is_none())
                    })
                    .map(|argument| {
                        let argument = &argument.node;
                        let arg = argument.name.node.as_str();
                        format!("{arg}: {}", self.literal(&argument.ty.node, name, arg, ids))
                    })
                    .collect();
                let document = format!(
                    "{keyword} {{ {name}({}){} }}",
                    arguments.join(", "),
                    self.selection(&field.ty.node)
                );
                probes.push((name.to_owned(), document));
            }
        }
        probes
    }
}

/// Whether an answer gives an outsider nothing.
fn gives_nothing(body: &Value, field: &str) -> bool {
    if let Some(code) = body["errors"][0]["extensions"]["code"].as_str() {
        return matches!(code, "FORBIDDEN" | "NOT_FOUND");
    }
    match &body["data"][field] {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(object) => object
            .get("edges")
            .is_some_and(|edges| edges.as_array().is_some_and(Vec::is_empty)),
        _ => false,
    }
}

/// Real objects of every kind in the demo's first community.
async fn victims(w: &World) -> HashMap<&'static str, String> {
    let app = &w.app;
    let community = w.demo.community.clone();
    let order = app
        .ok(
            &w.resident.token,
            "mutation($c: ID!) { placeOrder(input: { categoryId: $c, title: \"修门锁\", description: \"\", address: \"1号楼\", contactPhone: \"13800000001\" }) { id } }",
            json!({ "c": w.demo.repair }),
        )
        .await["placeOrder"]["id"]
        .as_str()
        .expect("order")
        .to_owned();
    app.ok(&w.staff.token, PUBLISH, json!({ "id": order }))
        .await;

    let console_ticket = app
        .graphql(
            None,
            "mutation { startConsoleLogin(challenge: \"0000000000000000000000000000000000000000000000000000000000000000\") { ticket } }",
            json!({}),
        )
        .await["data"]["startConsoleLogin"]["ticket"]
        .as_str()
        .expect("ticket")
        .to_owned();
    let entry = app
        .ok(
            &w.staff.token,
            "mutation($u: ID!) { adjustPoints(userId: $u, amount: 100, reason: \"志愿服务\") { id } }",
            json!({ "u": w.resident.user_id }),
        )
        .await["adjustPoints"]["id"]
        .as_str()
        .expect("entry")
        .to_owned();
    let request = app
        .ok(
            &w.staff.token,
            "mutation($u: ID!) { requestPointsAdjustment(userId: $u, amount: 5, reason: \"补录\") { id } }",
            json!({ "u": w.resident.user_id }),
        )
        .await["requestPointsAdjustment"]["id"]
        .as_str()
        .expect("request")
        .to_owned();

    let applicant = app.resident("authz-applicant", &community).await;
    let application = app
        .ok(
            &applicant.token,
            "mutation($c: ID!) { applyPartyMember(input: { branch: \"第一党支部\", employer: \"区税务局\", reportedCommunityId: $c }) { id } }",
            json!({ "c": community }),
        )
        .await["applyPartyMember"]["id"]
        .as_str()
        .expect("application")
        .to_owned();

    let now = chrono::Utc::now();
    let activity = app
        .ok(
            &w.staff.token,
            "mutation($input: CreateActivityInput!) { createActivity(input: $input) { id } }",
            json!({ "input": {
                "communityId": community, "title": "清理楼道", "place": "3号楼",
                "startsAt": (now - chrono::Duration::minutes(30)).to_rfc3339(),
                "endsAt": (now + chrono::Duration::hours(2)).to_rfc3339(), "capacity": 10,
            }}),
        )
        .await["createActivity"]["id"]
        .as_str()
        .expect("activity")
        .to_owned();
    app.ok(
        &w.resident.token,
        "mutation($a: ID!) { signUpActivity(activityId: $a) { status } }",
        json!({ "a": activity }),
    )
    .await;
    let record = app
        .ok(
            &w.staff.token,
            "mutation($a: ID!, $u: ID!) { confirmAttendance(activityId: $a, userId: $u, minutes: 60) { id } }",
            json!({ "a": activity, "u": w.resident.user_id }),
        )
        .await["confirmAttendance"]["id"]
        .as_str()
        .expect("record")
        .to_owned();

    let (merchant, cashier) = merchant_with_cashier(w, &community, &w.staff, "authz-a").await;
    let owner = app.login("authz-a-owner").await;
    let offer = offer_of(app, &owner, &merchant).await;
    let redemption = app
        .ok(
            &w.resident.token,
            "mutation($o: ID!) { redeemOffer(offerId: $o, idempotencyKey: \"authz-redeem-1\") { id } }",
            json!({ "o": offer }),
        )
        .await["redeemOffer"]["id"]
        .as_str()
        .expect("redemption")
        .to_owned();

    let tree = app
        .ok(
            &w.resident.token,
            "query($c: ID!) { community(id: $c) { grids { id } street { id district { id } } } }",
            json!({ "c": community }),
        )
        .await;
    let grid = tree["community"]["grids"][0]["id"]
        .as_str()
        .expect("grid")
        .to_owned();
    let district = tree["community"]["street"]["district"]["id"]
        .as_str()
        .expect("district")
        .to_owned();
    let street = tree["community"]["street"]["id"]
        .as_str()
        .expect("street")
        .to_owned();
    let department = app
        .ok(
            &w.staff.token,
            "query($s: ID!) { departments(streetId: $s) { id level } }",
            json!({ "s": street }),
        )
        .await["departments"]
        .as_array()
        .expect("departments")
        .iter()
        .find(|department| department["level"] == "STREET")
        .expect("a street department")["id"]
        .as_str()
        .expect("department")
        .to_owned();
    let wish = app
        .ok(
            &w.resident.token,
            "mutation($input: PostWishInput!) { postWish(input: $input) { id } }",
            json!({ "input": { "title": "想要一副老花镜", "neededBy": (chrono::Utc::now() + chrono::Duration::days(10)).to_rfc3339() } }),
        )
        .await["postWish"]["id"]
        .as_str()
        .expect("wish")
        .to_owned();
    let unit = app
        .ok(
            &w.member.token,
            "mutation($c: ID!) { registerUnit(input: { communityId: $c, name: \"税务局\", partyOrganisation: \"机关党支部\", contactName: \"赵\", contactPhone: \"13912345678\" }) { id } }",
            json!({ "c": community }),
        )
        .await["registerUnit"]["id"]
        .as_str()
        .expect("unit")
        .to_owned();
    app.ok(
        &w.staff.token,
        "mutation($u: ID!) { reviewUnit(unitId: $u, approve: true) { status } }",
        json!({ "u": unit }),
    )
    .await;
    let deed_kind = app
        .ok(
            &w.staff.token,
            "mutation($c: ID!) { setDeedKind(communityId: $c, name: \"垃圾分类\", basePoints: 5) { id } }",
            json!({ "c": community }),
        )
        .await["setDeedKind"][0]["id"]
        .as_str()
        .expect("deed kind")
        .to_owned();
    let good_deed = app
        .ok(
            &w.resident.token,
            "mutation($k: ID!, $when: DateTime!) { reportGoodDeed(kindId: $k, description: \"捡到钱包归还\", when: $when) { id } }",
            json!({ "k": deed_kind, "when": (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339() }),
        )
        .await["reportGoodDeed"]["id"]
        .as_str()
        .expect("good deed")
        .to_owned();
    let admin = app.login("demo-admin").await;
    let open311_key = app
        .ok(
            &admin.token,
            "mutation($c: ID!) { issueOpen311Key(communityId: $c, name: \"12345热线\") { key { id } } }",
            json!({ "c": community }),
        )
        .await["issueOpen311Key"]["key"]["id"]
        .as_str()
        .expect("key")
        .to_owned();
    let escalated = w.place().await;
    let escalation = app
        .ok(
            &w.staff.token,
            "mutation($o: ID!, $d: ID!) { escalateOrder(input: { orderId: $o, to: STREET, departmentId: $d, reason: \"需要城管执法\" }) { id } }",
            json!({ "o": escalated, "d": department }),
        )
        .await["escalateOrder"]["id"]
        .as_str()
        .expect("escalation")
        .to_owned();

    let topic = app
        .ok(
            &w.staff.token,
            "mutation($input: RaiseTopicInput!) { raiseTopic(input: $input) { id } }",
            json!({ "input": {
                "communityId": community, "title": "加装电梯", "body": "3号楼加装电梯的意见征集",
                "ballotKind": "YES_NO_ABSTAIN",
                "votingStartsAt": chrono::Utc::now().to_rfc3339(),
                "votingEndsAt": (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339(),
            }}),
        )
        .await["raiseTopic"]["id"]
        .as_str()
        .expect("topic")
        .to_owned();
    app.ok(
        &w.staff.token,
        "mutation($t: ID!) { advanceTopic(topicId: $t, to: VOTING) { status } }",
        json!({ "t": topic }),
    )
    .await;

    let worker = app.resident("authz-grid-worker", &community).await;
    app.ok(
        &w.staff.token,
        "mutation($g: ID!, $u: ID!) { updateGrid(id: $g, input: { workerId: $u }) { id } }",
        json!({ "g": grid, "u": worker.user_id }),
    )
    .await;
    let patrol_point = app
        .ok(
            &w.staff.token,
            "mutation($g: ID!) { addPatrolPoint(input: { gridId: $g, name: \"东门\", latitude: 36.55, longitude: 116.75 }) { id } }",
            json!({ "g": grid }),
        )
        .await["addPatrolPoint"]["id"]
        .as_str()
        .expect("patrol point")
        .to_owned();
    let patrol = app
        .ok(
            &w.staff.token,
            "mutation($g: ID!, $p: ID!, $from: DateTime!, $to: DateTime!) { schedulePatrol(gridId: $g, pointIds: [$p], windowStartsAt: $from, windowEndsAt: $to) { id } }",
            json!({ "g": grid, "p": patrol_point, "from": chrono::Utc::now().to_rfc3339(), "to": (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339() }),
        )
        .await["schedulePatrol"]["id"]
        .as_str()
        .expect("patrol")
        .to_owned();

    let street_staff = app.login("demo-street").await;
    let property_round = app
        .ok(
            &street_staff.token,
            "mutation($s: ID!, $at: DateTime!) { openPropertyRating(input: { streetId: $s, quarter: \"2026-Q4\", closesAt: $at }) { id } }",
            json!({ "s": street, "at": (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339() }),
        )
        .await["openPropertyRating"]["id"]
        .as_str()
        .expect("property round")
        .to_owned();

    let comment = entity::topic_comment::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        topic_id: Set(topic.parse().expect("uuid")),
        author_id: Set(w.resident.user_id.parse().expect("uuid")),
        body: Set("支持加装".into()),
        hidden_at: Set(None),
        hidden_by: Set(None),
        hidden_reason: Set(None),
        created_at: Set(chrono::Utc::now()),
        proposal_title: Set(None),
    }
    .insert(&app.db)
    .await
    .expect("comment");

    let objection_to = |subject: &str| entity::publication_objection::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        subject_id: Set(subject.parse().expect("uuid")),
        party_id: Set(w.resident.user_id.parse().expect("uuid")),
        objector_id: Set(w.resident.user_id.parse().expect("uuid")),
        reason: Set("结果不对".into()),
        created_at: Set(chrono::Utc::now()),
        answered_by: Set(None),
        answered_at: Set(None),
        answer: Set(None),
    };
    let topic_objection = objection_to(&topic)
        .insert(&app.db)
        .await
        .expect("topic objection");
    let property_objection = objection_to(&property_round)
        .insert(&app.db)
        .await
        .expect("property objection");
    let rectification = entity::property_rectification::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        round_id: Set(property_round.parse().expect("uuid")),
        company_id: Set(merchant.parse().expect("uuid")),
        status: Set(entity::enums::RectificationStatus::Open),
        due_at: Set(chrono::Utc::now() + chrono::Duration::days(30)),
        report: Set(None),
        reported_by: Set(None),
        reported_at: Set(None),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        review_note: Set(None),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(&app.db)
    .await
    .expect("rectification");

    let flag = entity::content_flag::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        author_id: Set(w.resident.user_id.parse().expect("uuid")),
        community_id: Set(Some(community.parse().expect("uuid"))),
        field: Set("title".into()),
        excerpt: Set("厨房漏水".into()),
        reason: Set("UNCHECKED".into()),
        created_at: Set(chrono::Utc::now()),
        resolved_by: Set(None),
        resolved_at: Set(None),
    }
    .insert(&app.db)
    .await
    .expect("flag");

    let objection = entity::notice_objection::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        record_id: Set(record.parse().expect("uuid")),
        community_id: Set(community.parse().expect("uuid")),
        month: Set("2026-10".into()),
        objector_id: Set(w.resident.user_id.parse().expect("uuid")),
        reason: Set("时长不对".into()),
        created_at: Set(chrono::Utc::now()),
        resolved_by: Set(None),
        resolved_at: Set(None),
        resolution: Set(None),
        reversed: Set(false),
    }
    .insert(&app.db)
    .await
    .expect("objection");

    HashMap::from([
        ("order", order),
        ("contentFlag", flag.id.to_string()),
        ("objection", objection.id.to_string()),
        ("grid", grid),
        ("district", district),
        ("street", street),
        ("department", department),
        ("escalation", escalation),
        ("wish", wish),
        ("topic", topic),
        ("patrol", patrol),
        ("patrolPoint", patrol_point),
        ("unit", unit),
        ("open311Key", open311_key),
        ("deedKind", deed_kind),
        ("goodDeed", good_deed),
        ("category", w.demo.repair.clone()),
        ("community", community),
        ("resident", w.resident.user_id.clone()),
        ("member", w.member.user_id.clone()),
        ("cashier", cashier.user_id),
        ("entry", entry),
        ("adjustmentRequest", request),
        ("application", application),
        ("activity", activity),
        ("serviceRecord", record),
        ("merchant", merchant),
        ("offer", offer),
        ("redemption", redemption),
        ("consoleTicket", console_ticket),
        ("propertyRound", property_round),
        ("topicComment", comment.id.to_string()),
        ("topicObjection", topic_objection.id.to_string()),
        ("propertyObjection", property_objection.id.to_string()),
        ("rectification", rectification.id.to_string()),
    ])
}

#[tokio::test]
async fn outsiders_get_nothing_from_any_field_that_takes_an_id() {
    let w = World::new().await;
    let ids = victims(&w).await;

    let elsewhere = w.demo.other_community.clone();
    let resident = w.app.resident("authz-outsider", &elsewhere).await;
    w.app
        .grant("authz-member", Role::PartyMember, Some(&elsewhere))
        .await;
    let member = w.app.login("authz-member").await;
    w.app
        .grant("authz-staff", Role::Staff, Some(&elsewhere))
        .await;
    let staff = w.app.login("authz-staff").await;
    let (_, cashier) = merchant_with_cashier(&w, &elsewhere, &staff, "authz-b").await;

    let schema = Schema::parse();
    let probes = schema.probes(&ids);
    assert!(
        probes.len() >= 30,
        "only {} fields take an id?",
        probes.len()
    );
    let mut leaks = Vec::new();
    for (field, document) in &probes {
        if OPEN_TO_ALL.iter().any(|(open, _)| open == field) {
            continue;
        }
        for (who, caller) in [
            ("resident", &resident),
            ("member", &member),
            ("staff", &staff),
            ("cashier", &cashier),
        ] {
            let body = w
                .app
                .graphql(Some(&caller.token), document, json!({}))
                .await;
            if !gives_nothing(&body, field) {
                leaks.push(format!(
                    "{who} of another community: {document}\n  → {body}"
                ));
            }
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
}

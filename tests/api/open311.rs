//! The Open311 GeoReport v2 facade: discovery, services and requests with the spec's field
//! names and no personal data; filing a request with an ADMIN-issued key.
use serde_json::{Value, json};

use crate::helpers::{CANCEL, World};

async fn get(w: &World, path: &str) -> (reqwest::StatusCode, Value) {
    let response = w
        .app
        .http
        .get(format!("{}/open311/v2/{path}", w.app.address))
        .send()
        .await
        .expect("open311");
    let status = response.status();
    (status, response.json().await.expect("json"))
}

async fn file(w: &World, form: &[(&str, &str)]) -> (reqwest::StatusCode, Value) {
    let response = w
        .app
        .http
        .post(format!("{}/open311/v2/requests.json", w.app.address))
        .form(form)
        .send()
        .await
        .expect("open311");
    let status = response.status();
    (status, response.json().await.expect("json"))
}

#[tokio::test]
async fn civic_tools_read_services_and_requests_without_personal_data() {
    let w = World::new().await;
    let (status, discovery) = get(&w, "discovery.json").await;
    assert_eq!(status, reqwest::StatusCode::OK);
    let endpoint = &discovery["endpoints"][0];
    assert_eq!(
        endpoint["specification"],
        "http://wiki.open311.org/GeoReport_v2"
    );
    assert!(
        endpoint["url"]
            .as_str()
            .expect("url")
            .ends_with("/open311/v2")
    );
    assert_eq!(endpoint["formats"], json!(["application/json"]));

    let (_, services) = get(&w, "services.json").await;
    let repair = services
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["service_code"] == "REPAIR")
        .expect("REPAIR")
        .clone();
    assert_eq!(repair["service_name"], "维修");
    assert_eq!(repair["metadata"], false);
    assert_eq!(repair["type"], "realtime");

    let open = w.place().await;
    let cancelled = w.place().await;
    w.app
        .ok(&w.resident.token, CANCEL, json!({ "id": cancelled }))
        .await;
    let (status, all) = get(&w, "requests.json").await;
    assert_eq!(status, reqwest::StatusCode::OK);
    let text = all.to_string();
    for personal in ["13800000001", "凤凰社区3号楼", "水槽下面", "张秀兰"] {
        assert!(!text.contains(personal), "{personal} in {text}");
    }
    let listed = all.as_array().expect("requests");
    assert_eq!(listed.len(), 2);
    let first = listed
        .iter()
        .find(|r| r["service_request_id"] == open.as_str())
        .expect("the open one");
    assert_eq!(first["status"], "open");
    assert_eq!(first["service_code"], "REPAIR");
    assert_eq!(first["description"], "厨房水管漏水");
    assert_eq!(first["agency_responsible"], "凤凰社区");
    for field in [
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
    ] {
        assert!(first[field].is_string(), "{field}");
    }
    let (_, closed) = get(&w, "requests.json?status=closed").await;
    assert_eq!(closed[0]["service_request_id"], cancelled.as_str());
    assert_eq!(closed.as_array().expect("closed").len(), 1);
    let (_, other) = get(&w, "requests.json?service_code=HEALTH_CHECK").await;
    assert_eq!(other, json!([]));
    let (status, bad) = get(&w, "requests.json?status=pending").await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(bad[0]["code"], 400);

    let (status, one) = get(&w, &format!("requests/{open}.json")).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert_eq!(one[0]["service_request_id"], open.as_str());
    let (status, _) = get(&w, &format!("requests/{}.json", uuid::Uuid::now_v7())).await;
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_hotline_files_requests_with_its_key_into_its_community() {
    let w = World::new().await;
    let issue = "mutation($c: ID!) { issueOpen311Key(communityId: $c, name: \"12345热线\") { apiKey key { id } } }";
    assert_eq!(
        w.app
            .refused(
                Some(&w.staff.token),
                issue,
                json!({ "c": w.demo.community })
            )
            .await,
        "FORBIDDEN"
    );
    let admin = w.app.login("demo-admin").await;
    let issued = w
        .app
        .ok(&admin.token, issue, json!({ "c": w.demo.community }))
        .await["issueOpen311Key"]
        .clone();
    let key = issued["apiKey"].as_str().expect("key").to_owned();
    let request = |api_key: &str, code: &str| {
        vec![
            ("api_key", api_key.to_owned()),
            ("service_code", code.to_owned()),
            ("description", "楼道灯坏了，晚上很黑".to_owned()),
            ("address_string", "凤凰社区5号楼".to_owned()),
            ("last_name", "王".to_owned()),
            ("first_name", "奶奶".to_owned()),
            ("phone", "13700009999".to_owned()),
        ]
    };
    let send = |fields: Vec<(&'static str, String)>| {
        let w = &w;
        async move {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            file(w, &pairs).await
        }
    };
    let (status, refused) = send(request("not-a-key", "REPAIR")).await;
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN);
    assert_eq!(refused[0]["code"], 403);
    let (status, _) = send(request(&key, "NO_SUCH_SERVICE")).await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    let (status, filed) = send(request(&key, "REPAIR")).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{filed}");
    let id = filed[0]["service_request_id"]
        .as_str()
        .expect("id")
        .to_owned();

    let seen = w
        .app
        .ok(
            &w.staff.token,
            "query($id: ID!) { order(id: $id) { channel residentName contactPhone address status community { id } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        seen["order"],
        json!({
            "channel": "HOTLINE", "residentName": "王奶奶", "contactPhone": "13700009999",
            "address": "凤凰社区5号楼", "status": "PENDING_DISPATCH",
            "community": { "id": w.demo.community },
        })
    );

    w.app
        .ok(
            &admin.token,
            "mutation($id: ID!) { revokeOpen311Key(id: $id) { revokedAt } }",
            json!({ "id": issued["key"]["id"] }),
        )
        .await;
    let (status, _) = send(request(&key, "REPAIR")).await;
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN, "revoked");
}

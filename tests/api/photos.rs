//! Photos through the real endpoint and real storage: local files on the SQLite half, the
//! S3-protocol server `scripts/test` starts on the PostgreSQL + Redis half.
use serde_json::{Value, json};

use crate::helpers::{Login, PLACE, TestApp, World, s3_endpoint};

const UPLOAD: &str = "mutation($p: PhotoPurpose!, $t: String!, $s: Int!) { createUploadUrl(purpose: $p, contentType: $t, byteSize: $s) { fileKey url method headers { name value } expiresAt } }";
const ORDER_PHOTOS: &str =
    "query($id: ID!) { order(id: $id) { photos { fileKey purpose url underReview } } }";

/// The first bytes of a real JPEG, padded: enough for the server's format check.
pub fn jpeg(len: usize) -> Vec<u8> {
    let mut bytes = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1,
    ];
    bytes.resize(len, 0x5A);
    bytes
}

/// Asks for an upload link and PUTs `bytes` to it; the file key and the storage's status.
pub async fn upload(
    app: &TestApp,
    who: &Login,
    purpose: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> (String, reqwest::StatusCode) {
    let ticket = ticket(app, who, purpose, content_type, bytes.len()).await;
    let status = put(app, &ticket, None, bytes).await;
    (ticket["fileKey"].as_str().expect("key").to_owned(), status)
}

/// An upload link for a photo of `size` bytes.
async fn ticket(
    app: &TestApp,
    who: &Login,
    purpose: &str,
    content_type: &str,
    size: usize,
) -> Value {
    let ticket = app
        .ok(
            &who.token,
            UPLOAD,
            json!({ "p": purpose, "t": content_type, "s": size }),
        )
        .await["createUploadUrl"]
        .clone();
    assert_eq!(ticket["method"], "PUT");
    ticket
}

/// PUTs `bytes` through the ticket's link with its headers, or with another content type.
async fn put(
    app: &TestApp,
    ticket: &Value,
    content_type: Option<&str>,
    bytes: Vec<u8>,
) -> reqwest::StatusCode {
    let mut request = app
        .http
        .put(ticket["url"].as_str().expect("url"))
        .body(bytes);
    for header in ticket["headers"].as_array().expect("headers") {
        let name = header["name"].as_str().expect("name");
        let value = match content_type {
            Some(other) if name.eq_ignore_ascii_case("content-type") => other,
            _ => header["value"].as_str().expect("value"),
        };
        request = request.header(name, value);
    }
    request.send().await.expect("upload").status()
}

pub async fn place_with_photos(w: &World, keys: &[&str]) -> Value {
    w.app
        .graphql(
            Some(&w.resident.token),
            PLACE,
            json!({ "input": {
                "categoryId": w.demo.repair, "title": "窗户玻璃裂了", "description": "",
                "address": "凤凰社区3号楼", "contactPhone": "13800000001", "photoKeys": keys,
            }}),
        )
        .await
}

pub async fn photos_seen_by(app: &TestApp, who: &Login, order: &str) -> Vec<Value> {
    app.ok(&who.token, ORDER_PHOTOS, json!({ "id": order }))
        .await["order"]["photos"]
        .as_array()
        .expect("photos")
        .clone()
}

#[tokio::test]
async fn an_uploaded_photo_reaches_those_who_may_see_the_order() {
    let w = World::new().await;
    let bytes = jpeg(300_000);
    let (key, status) = upload(
        &w.app,
        &w.resident,
        "ORDER_PHOTO",
        "image/jpeg",
        bytes.clone(),
    )
    .await;
    assert!(status.is_success(), "upload: {status}");
    let placed = place_with_photos(&w, &[&key]).await;
    let order = placed["data"]["placeOrder"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{placed}"))
        .to_owned();

    for viewer in [&w.resident, &w.staff] {
        let photos = photos_seen_by(&w.app, viewer, &order).await;
        assert_eq!(photos.len(), 1, "{photos:?}");
        assert_eq!(photos[0]["fileKey"], key.as_str());
        assert_eq!(photos[0]["purpose"], "ORDER_PHOTO");
        assert_eq!(photos[0]["underReview"], false);
        let url = photos[0]["url"].as_str().expect("url");
        let fetched = w.app.http.get(url).send().await.expect("download");
        assert!(fetched.status().is_success(), "{}", fetched.status());
        assert_eq!(
            fetched.bytes().await.expect("bytes").as_ref(),
            bytes.as_slice()
        );
    }
    // Someone not involved sees neither the order nor its photos.
    let stranger = w.app.login("stranger-photos").await;
    assert_eq!(
        w.app
            .refused(Some(&stranger.token), ORDER_PHOTOS, json!({ "id": order }))
            .await,
        "FORBIDDEN"
    );
    // One file shows in one place only.
    let again = place_with_photos(&w, &[&key]).await;
    assert_eq!(
        again["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{again}"
    );
}

#[tokio::test]
async fn only_real_images_of_the_caller_are_attached_and_nothing_is_half_written() {
    let w = World::new().await;
    let count_orders = || async {
        w.app
            .ok(
                &w.resident.token,
                "{ myOrders(first: 50) { edges { cursor } } }",
                json!({}),
            )
            .await["myOrders"]["edges"]
            .as_array()
            .expect("edges")
            .len()
    };
    let before = count_orders().await;
    let refused = |body: Value| {
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{body}"
        );
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };

    // Someone else's photo.
    let (members, _) = upload(&w.app, &w.member, "ORDER_PHOTO", "image/jpeg", jpeg(1000)).await;
    assert!(refused(place_with_photos(&w, &[&members]).await).contains("not a photo you uploaded"));
    // Asked for but never uploaded.
    let ticket = w
        .app
        .ok(
            &w.resident.token,
            UPLOAD,
            json!({ "p": "ORDER_PHOTO", "t": "image/png", "s": 1000 }),
        )
        .await;
    let missing = ticket["createUploadUrl"]["fileKey"].as_str().expect("key");
    assert!(refused(place_with_photos(&w, &[missing]).await).contains("not been uploaded"));
    // Text labelled as a JPEG.
    let (text, _) = upload(
        &w.app,
        &w.resident,
        "ORDER_PHOTO",
        "image/jpeg",
        b"<script>alert(1)</script> not an image at all".to_vec(),
    )
    .await;
    assert!(refused(place_with_photos(&w, &[&text]).await).contains("not the image/jpeg image"),);
    // A completion photo offered as the problem's photo.
    let (completion, _) = upload(
        &w.app,
        &w.resident,
        "COMPLETION_PHOTO",
        "image/jpeg",
        jpeg(1000),
    )
    .await;
    refused(place_with_photos(&w, &[&completion]).await);
    // A good photo beside a bad one attaches neither, and no order is placed.
    let (good, _) = upload(&w.app, &w.resident, "ORDER_PHOTO", "image/jpeg", jpeg(1000)).await;
    refused(place_with_photos(&w, &[&good, &text]).await);
    assert_eq!(count_orders().await, before);
    let placed = place_with_photos(&w, &[&good]).await;
    assert!(
        placed["errors"].is_null(),
        "the good photo is still free: {placed}"
    );

    // Bounds on what may be asked for.
    for (content_type, size) in [
        ("image/gif", 1000),
        ("image/jpeg", 10 * 1024 * 1024 + 1),
        ("image/jpeg", 0),
    ] {
        let code = w
            .app
            .refused(
                Some(&w.resident.token),
                UPLOAD,
                json!({ "p": "ORDER_PHOTO", "t": content_type, "s": size }),
            )
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{content_type} {size}");
    }
    let ten: Vec<String> = (0..10).map(|i| format!("photos/{i}.jpg")).collect();
    let too_many: Vec<&str> = ten.iter().map(String::as_str).collect();
    assert!(refused(place_with_photos(&w, &too_many).await).contains("less than or equal to 9"));
}

#[tokio::test]
async fn a_file_that_is_not_what_its_link_was_signed_for_is_never_attached() {
    let w = World::new().await;
    let local = s3_endpoint().is_none();
    let refused_on_placing = |placed: Value, why: &str| {
        assert_eq!(
            placed["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{why}: {placed}"
        );
    };
    // Announced at 1 KB, sent at 11 MB.
    let ticket_1k = ticket(&w.app, &w.resident, "ORDER_PHOTO", "image/jpeg", 1000).await;
    let status = put(&w.app, &ticket_1k, None, jpeg(11 * 1024 * 1024)).await;
    if local {
        // The length is part of the local link's signature.
        assert_eq!(status, reqwest::StatusCode::FORBIDDEN);
    }
    let key = ticket_1k["fileKey"].as_str().expect("key");
    refused_on_placing(place_with_photos(&w, &[key]).await, "longer than announced");
    // Announced as a PNG, a JPEG under the PNG's type.
    let (key, status) = upload(&w.app, &w.resident, "ORDER_PHOTO", "image/png", jpeg(1000)).await;
    assert!(status.is_success(), "{status}");
    let placed = place_with_photos(&w, &[&key]).await;
    refused_on_placing(placed.clone(), "another format");
    assert!(
        placed.to_string().contains("not the image/png image"),
        "{placed}"
    );
    // Sent as HTML through a JPEG's link: refused locally; wherever storage takes it, what
    // is shown goes out as the JPEG it was checked as.
    let as_html = ticket(&w.app, &w.resident, "ORDER_PHOTO", "image/jpeg", 1000).await;
    let status = put(&w.app, &as_html, Some("text/html"), jpeg(1000)).await;
    let key = as_html["fileKey"].as_str().expect("key");
    if local {
        assert_eq!(status, reqwest::StatusCode::FORBIDDEN);
        refused_on_placing(place_with_photos(&w, &[key]).await, "never stored");
    } else if status.is_success() {
        let placed = place_with_photos(&w, &[key]).await;
        let order = placed["data"]["placeOrder"]["id"].as_str().expect("placed");
        let url = photos_seen_by(&w.app, &w.resident, order).await[0]["url"]
            .as_str()
            .expect("url")
            .to_owned();
        let served = w.app.http.get(&url).send().await.expect("get");
        assert_eq!(served.headers()["content-type"], "image/jpeg");
    }
}

#[tokio::test]
async fn an_attached_photo_cannot_be_changed_through_its_upload_link() {
    let w = World::new().await;
    let local = s3_endpoint().is_none();
    let photo = jpeg(2000);
    let link = ticket(
        &w.app,
        &w.resident,
        "ORDER_PHOTO",
        "image/jpeg",
        photo.len(),
    )
    .await;
    assert!(put(&w.app, &link, None, photo.clone()).await.is_success());
    let mut swap = b"<html><script>alert(1)</script>".to_vec();
    swap.resize(photo.len(), b' ');
    if local {
        // A local link writes once.
        let again = put(&w.app, &link, None, swap.clone()).await;
        assert_eq!(again, reqwest::StatusCode::CONFLICT);
    }
    let key = link["fileKey"].as_str().expect("key");
    let placed = place_with_photos(&w, &[key]).await;
    let order = placed["data"]["placeOrder"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("placed: {placed}"))
        .to_owned();
    // After attaching, the link still answers (S3 cannot end a presigned PUT), but what it
    // writes is never what is shown.
    put(&w.app, &link, None, swap).await;
    for viewer in [&w.resident, &w.staff] {
        let url = photos_seen_by(&w.app, viewer, &order).await[0]["url"]
            .as_str()
            .expect("url")
            .to_owned();
        let served = w.app.http.get(&url).send().await.expect("get");
        assert_eq!(served.headers()["content-type"], "image/jpeg");
        if local {
            assert_eq!(served.headers()["x-content-type-options"], "nosniff");
        }
        assert_eq!(served.bytes().await.expect("bytes").to_vec(), photo);
    }
}

#[tokio::test]
async fn an_unsigned_upload_is_refused_before_its_body_is_read() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if s3_endpoint().is_some() {
        return; // S3 checks its own signatures; this covers the server's local route.
    }
    let w = World::new().await;
    let host = w.app.address.trim_start_matches("http://").to_owned();
    // 32 uploads announce 9.5 MB each and send none of it: each is answered at once, so the
    // server decided without waiting for (or holding) a single byte of the bodies.
    let attempts = (0..32).map(|i| {
        let host = host.clone();
        async move {
            let mut socket = tokio::net::TcpStream::connect(&host)
                .await
                .expect("connect");
            let head = format!(
                "PUT /files/uploads/orders/x/{i}.jpg?expires=4102444800&signature=AAAA HTTP/1.1\r\n\
                 Host: {host}\r\nContent-Type: image/jpeg\r\nContent-Length: 9961472\r\n\r\n"
            );
            socket.write_all(head.as_bytes()).await.expect("send");
            let mut answer = [0u8; 12];
            tokio::time::timeout(
                std::time::Duration::from_secs(10),
                socket.read_exact(&mut answer),
            )
            .await
            .expect("answered without the body")
            .expect("read");
            String::from_utf8_lossy(&answer).into_owned()
        }
    });
    for answer in futures::future::join_all(attempts).await {
        assert_eq!(answer, "HTTP/1.1 403");
    }
}

#[tokio::test]
async fn completion_photos_come_with_the_report() {
    let w = World::new().await;
    let order = w.place().await;
    w.app
        .ok(
            &w.staff.token,
            crate::helpers::PUBLISH,
            json!({ "id": order }),
        )
        .await;
    w.app
        .ok(
            &w.member.token,
            crate::helpers::TAKE,
            json!({ "id": order }),
        )
        .await;
    let (key, _) = upload(&w.app, &w.member, "COMPLETION_PHOTO", "image/webp", {
        let mut webp = b"RIFF\x10\0\0\0WEBPVP8 ".to_vec();
        webp.resize(2000, 1);
        webp
    })
    .await;
    let complete = "mutation($id: ID!, $k: [String!]!) { completeOrder(orderId: $id, input: { summary: \"换了玻璃\", minutesSpent: 30, photoKeys: $k }) { status photos { fileKey purpose } } }";
    let done = w
        .app
        .ok(
            &w.member.token,
            complete,
            json!({ "id": order, "k": [key] }),
        )
        .await;
    assert_eq!(done["completeOrder"]["photos"][0]["fileKey"], key.as_str());
    assert_eq!(
        done["completeOrder"]["photos"][0]["purpose"],
        "COMPLETION_PHOTO"
    );
    let seen = photos_seen_by(&w.app, &w.resident, &order).await;
    assert_eq!(seen.len(), 1);
}

#[tokio::test]
async fn local_file_links_cannot_be_forged() {
    if s3_endpoint().is_some() {
        return; // S3 checks its own signatures; this covers the server's local route.
    }
    let w = World::new().await;
    let (key, _) = upload(&w.app, &w.resident, "ORDER_PHOTO", "image/jpeg", jpeg(1000)).await;
    let placed = place_with_photos(&w, &[&key]).await;
    let order = placed["data"]["placeOrder"]["id"].as_str().expect("order");
    let url = photos_seen_by(&w.app, &w.resident, order).await[0]["url"]
        .as_str()
        .expect("url")
        .to_owned();
    let forged_key = url.replace("/files/photos/", "/files/photos/x");
    let forged_type = url.replace("type=image/jpeg", "type=text/html");
    let forged_signature = format!("{}A", url.trim_end_matches(|c: char| c != '='));
    for forged in [
        forged_key,
        forged_type,
        forged_signature,
        url.replace("expires=", "expires=9"),
    ] {
        let status = w.app.http.get(&forged).send().await.expect("get").status();
        assert_eq!(status, reqwest::StatusCode::FORBIDDEN, "{forged}");
    }
    // A read link does not allow writing.
    let status = w
        .app
        .http
        .put(&url)
        .body(jpeg(100))
        .send()
        .await
        .expect("put")
        .status();
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN);
}

mod with_wechat {
    use chrono::Utc;
    use sha1::{Digest, Sha1};

    use super::*;
    use crate::wechat_messages::{CODE_IMAGE, PUSH_TOKEN, app_with_wechat, start_fake};

    /// Signs a push the way WeChat does: sha1 of the sorted token, timestamp and nonce.
    fn signed(app: &TestApp, token: &str, timestamp: i64, nonce: &str) -> String {
        let timestamp = timestamp.to_string();
        let mut parts = [token, timestamp.as_str(), nonce];
        parts.sort_unstable();
        let signature: String = Sha1::digest(parts.concat().as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!(
            "{}/wechat/push?signature={signature}&timestamp={timestamp}&nonce={nonce}",
            app.address
        )
    }

    async fn push(app: &TestApp, url: String, trace: &str, suggest: &str) -> reqwest::StatusCode {
        let event = json!({
            "ToUserName": "gh_test", "FromUserName": "system", "CreateTime": Utc::now().timestamp(),
            "MsgType": "event", "Event": "wxa_media_check", "appid": "wx-app", "trace_id": trace,
            "version": 2, "result": { "suggest": suggest, "label": 100 },
        });
        let response = app.http.post(url).json(&event).send().await.expect("push");
        let status = response.status();
        if status.is_success() {
            assert_eq!(response.text().await.expect("text"), "success");
        }
        status
    }

    #[tokio::test]
    async fn a_photo_is_shown_to_others_only_once_wechat_clears_it() {
        let (base, fake) = start_fake().await;
        let w = World::on(app_with_wechat(&base).await).await;
        let bytes = jpeg(5000);
        let (cleared, _) = upload(
            &w.app,
            &w.resident,
            "ORDER_PHOTO",
            "image/jpeg",
            bytes.clone(),
        )
        .await;
        let (risky, _) = upload(&w.app, &w.resident, "ORDER_PHOTO", "image/jpeg", jpeg(6000)).await;
        let placed = place_with_photos(&w, &[&cleared, &risky]).await;
        let order = placed["data"]["placeOrder"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{placed}"))
            .to_owned();

        // Both were submitted with the uploader's openid and a link WeChat can fetch.
        let checks = fake.media_checks.lock().expect("checks").clone();
        assert_eq!(checks.len(), 2);
        assert!(checks.iter().all(|(_, openid)| openid == "demo-resident"));
        let fetched = w.app.http.get(&checks[0].0).send().await.expect("fetch");
        assert_eq!(
            fetched.bytes().await.expect("bytes").as_ref(),
            bytes.as_slice()
        );

        let own = photos_seen_by(&w.app, &w.resident, &order).await;
        assert_eq!(own.len(), 2);
        assert!(own.iter().all(|p| p["underReview"] == true));
        assert!(
            photos_seen_by(&w.app, &w.staff, &order).await.is_empty(),
            "hidden until the verdict"
        );

        let now = Utc::now().timestamp();
        // A push signed with another token is refused.
        assert_eq!(
            push(
                &w.app,
                signed(&w.app, "not-the-token", now, "n0"),
                "trace-0",
                "pass"
            )
            .await,
            reqwest::StatusCode::FORBIDDEN
        );
        assert!(photos_seen_by(&w.app, &w.staff, &order).await.is_empty());
        // The real verdict clears the first photo.
        assert!(
            push(
                &w.app,
                signed(&w.app, PUSH_TOKEN, now, "n1"),
                "trace-0",
                "pass"
            )
            .await
            .is_success()
        );
        let shown = photos_seen_by(&w.app, &w.staff, &order).await;
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0]["fileKey"], cleared.as_str());
        // A stale push and a replayed nonce change nothing.
        push(
            &w.app,
            signed(&w.app, PUSH_TOKEN, now - 600, "n2"),
            "trace-1",
            "risky",
        )
        .await;
        push(
            &w.app,
            signed(&w.app, PUSH_TOKEN, now, "n1"),
            "trace-1",
            "risky",
        )
        .await;
        assert_eq!(photos_seen_by(&w.app, &w.resident, &order).await.len(), 2);
        // The risky verdict hides the second from everyone and removes its file.
        push(
            &w.app,
            signed(&w.app, PUSH_TOKEN, now, "n3"),
            "trace-1",
            "risky",
        )
        .await;
        let own = photos_seen_by(&w.app, &w.resident, &order).await;
        assert_eq!(own.len(), 1);
        assert_eq!(own[0]["fileKey"], cleared.as_str());
        let gone = w
            .app
            .http
            .get(&checks[1].0)
            .send()
            .await
            .expect("fetch")
            .status();
        // S3 answers a presigned GET of a missing key with 403 once the link names a type.
        assert!(
            matches!(gone.as_u16(), 403 | 404),
            "the file is gone: {gone}"
        );

        // WeChat's URL check echoes only for our token.
        let echo = w
            .app
            .http
            .get(format!(
                "{}&echostr=hello",
                signed(&w.app, PUSH_TOKEN, now, "n4")
            ))
            .send()
            .await
            .expect("verify");
        assert_eq!(echo.text().await.expect("text"), "hello");
        let forged = w
            .app
            .http
            .get(format!(
                "{}&echostr=hello",
                signed(&w.app, "guess", now, "n5")
            ))
            .send()
            .await
            .expect("verify");
        assert_eq!(forged.status(), reqwest::StatusCode::FORBIDDEN);
    }

    #[tokio::test]
    async fn check_in_and_counter_codes_are_generated_once_and_kept() {
        let (base, fake) = start_fake().await;
        let w = World::on(app_with_wechat(&base).await).await;
        let now = Utc::now();
        let activity = w
            .app
            .ok(
                &w.staff.token,
                "mutation($input: CreateActivityInput!) { createActivity(input: $input) { id } }",
                json!({ "input": {
                    "communityId": w.demo.community, "title": "清理楼道", "place": "3号楼",
                    "startsAt": (now + chrono::Duration::days(2)).to_rfc3339(),
                    "endsAt": (now + chrono::Duration::days(2) + chrono::Duration::hours(2)).to_rfc3339(),
                    "capacity": 10,
                }}),
            )
            .await["createActivity"]["id"]
            .as_str()
            .expect("activity")
            .to_owned();
        let code = "query($a: ID!) { activityCheckInCode(activityId: $a) }";
        let mut links = Vec::new();
        for _ in 0..2 {
            links.push(
                w.app
                    .ok(&w.staff.token, code, json!({ "a": activity }))
                    .await["activityCheckInCode"]
                    .as_str()
                    .expect("link")
                    .to_owned(),
            );
        }
        let generated = fake.codes.lock().expect("codes").clone();
        assert_eq!(generated.len(), 1, "generated once, then kept");
        assert_eq!(
            generated[0],
            (
                activity.replace('-', ""),
                "pages/activity/check-in".to_owned(),
                "release".to_owned()
            )
        );
        let image = w.app.http.get(&links[1]).send().await.expect("image");
        assert_eq!(image.bytes().await.expect("bytes").as_ref(), CODE_IMAGE);
        assert_eq!(
            w.app
                .refused(Some(&w.resident.token), code, json!({ "a": activity }))
                .await,
            "FORBIDDEN"
        );

        let owner = w
            .app
            .resident("photo-merchant-owner", &w.demo.community)
            .await;
        let merchant = w
            .app
            .ok(
                &owner.token,
                "mutation($input: ApplyMerchantInput!) { applyMerchant(input: $input) { id } }",
                json!({ "input": {
                    "communityId": w.demo.community, "name": "老王理发", "category": "理发", "address": "文昌路1号",
                    "latitude": 36.6, "longitude": 117.0, "phone": "0531-86661234", "openingHours": "08:00-20:00",
                }}),
            )
            .await["applyMerchant"]["id"]
            .as_str()
            .expect("merchant")
            .to_owned();
        let counter = "query($m: ID!) { merchantCounterCode(merchantId: $m) }";
        w.app
            .ok(&owner.token, counter, json!({ "m": merchant }))
            .await;
        assert_eq!(
            fake.codes.lock().expect("codes")[1].1,
            "pages/merchant/counter"
        );
        assert_eq!(
            w.app
                .refused(Some(&w.member.token), counter, json!({ "m": merchant }))
                .await,
            "FORBIDDEN"
        );
    }
}

#[tokio::test]
async fn codes_need_wechat_credentials() {
    let w = World::new().await;
    let code = "query($a: ID!) { activityCheckInCode(activityId: $a) }";
    let now = chrono::Utc::now();
    let activity = w
        .app
        .ok(
            &w.staff.token,
            "mutation($input: CreateActivityInput!) { createActivity(input: $input) { id } }",
            json!({ "input": {
                "communityId": w.demo.community, "title": "义诊", "place": "社区中心",
                "startsAt": (now + chrono::Duration::days(1)).to_rfc3339(),
                "endsAt": (now + chrono::Duration::days(1) + chrono::Duration::hours(1)).to_rfc3339(),
                "capacity": 5,
            }}),
        )
        .await["createActivity"]["id"]
        .clone();
    assert_eq!(
        w.app
            .refused(Some(&w.staff.token), code, json!({ "a": activity }))
            .await,
        "SERVICE_UNAVAILABLE"
    );
}

#[tokio::test]
async fn the_owner_replaces_storefront_photos_and_removed_files_are_deleted() {
    let w = World::new().await;
    let owner = w.app.resident("storefront-owner", &w.demo.community).await;
    let merchant = w
        .app
        .ok(
            &owner.token,
            "mutation($input: ApplyMerchantInput!) { applyMerchant(input: $input) { id } }",
            json!({ "input": {
                "communityId": w.demo.community, "name": "街角面馆", "category": "餐饮", "address": "文昌路2号",
                "latitude": 36.6, "longitude": 117.0, "phone": "0531-86661235", "openingHours": "10:00-21:00",
            }}),
        )
        .await["applyMerchant"]["id"]
        .as_str()
        .expect("merchant")
        .to_owned();
    let set = "mutation($m: ID!, $k: [String!]!) { setMerchantPhotos(merchantId: $m, photoKeys: $k) { photos { fileKey url } } }";
    let mut keys = Vec::new();
    for _ in 0..3 {
        keys.push(
            upload(&w.app, &owner, "MERCHANT_PHOTO", "image/png", {
                let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
                png.resize(4000, 7);
                png
            })
            .await
            .0,
        );
    }
    let shown = |data: &Value| -> Vec<(String, String)> {
        data["setMerchantPhotos"]["photos"]
            .as_array()
            .expect("photos")
            .iter()
            .map(|p| {
                (
                    p["fileKey"].as_str().expect("key").to_owned(),
                    p["url"].as_str().expect("url").to_owned(),
                )
            })
            .collect()
    };
    let first = shown(
        &w.app
            .ok(
                &owner.token,
                set,
                json!({ "m": merchant, "k": [keys[0], keys[1]] }),
            )
            .await,
    );
    assert_eq!(
        first.iter().map(|(k, _)| k).collect::<Vec<_>>(),
        [&keys[0], &keys[1]]
    );
    let second = shown(
        &w.app
            .ok(
                &owner.token,
                set,
                json!({ "m": merchant, "k": [keys[1], keys[2]] }),
            )
            .await,
    );
    assert_eq!(
        second.iter().map(|(k, _)| k).collect::<Vec<_>>(),
        [&keys[1], &keys[2]]
    );
    // The first photo's file is gone; the kept one still loads.
    let removed = w
        .app
        .http
        .get(&first[0].1)
        .send()
        .await
        .expect("get")
        .status();
    // S3 answers a presigned GET of a missing key with 403 once the link names a type.
    assert!(
        matches!(removed.as_u16(), 403 | 404),
        "the file is gone: {removed}"
    );
    let kept = w
        .app
        .http
        .get(&second[0].1)
        .send()
        .await
        .expect("get")
        .status();
    assert!(kept.is_success(), "{kept}");
    // Only the owner sets them.
    assert_eq!(
        w.app
            .refused(Some(&w.staff.token), set, json!({ "m": merchant, "k": [] }))
            .await,
        "FORBIDDEN"
    );
}

//! A business's files to WhatsApp through the local stack: an upload URL, the PUT, then
//! `POST /api/whatsapp/media`, or the file as the body; every kind WhatsApp takes, each limit,
//! and what the stack refuses (wrong type, another bot's upload, a PUT off its signed terms).

use intaj_dev::simulator::InboundMessage;
use intaj_tests::StackClient;
use serde_json::{Value, json};

const CUSTOMER: &str = "15551234567";
const KEY: &str = "dev-api-key";
const KB: usize = 1024;
const MB: usize = 1024 * 1024;

/// `head` followed by filler up to `size` bytes (text filler for text, else binary).
fn file(head: &[u8], size: usize) -> Vec<u8> {
    let mut bytes = head.to_vec();
    let text = head.is_ascii() && !head.starts_with(b"%PDF") && !head.starts_with(b"#!AMR");
    bytes.extend((bytes.len()..size).map(|i| {
        if text {
            b'a' + (i % 26) as u8
        } else {
            (i % 251) as u8
        }
    }));
    bytes
}

fn webp(animated: bool) -> Vec<u8> {
    let mut bytes = b"RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00".to_vec();
    bytes.push(if animated { 0x02 } else { 0x00 });
    bytes.extend_from_slice(&[0; 9]);
    bytes
}

fn iso(brand: &[u8; 4]) -> Vec<u8> {
    let mut bytes = b"\x00\x00\x00\x20ftyp".to_vec();
    bytes.extend_from_slice(brand);
    bytes.extend_from_slice(&[0; 20]);
    bytes
}

fn ogg_opus() -> Vec<u8> {
    let mut bytes = b"OggS".to_vec();
    bytes.resize(28, 0);
    bytes.extend_from_slice(b"OpusHead");
    bytes
}

/// `POST /api/whatsapp/media` with the file as the body.
async fn post_file(
    stack: &StackClient,
    content_type: &str,
    bytes: Vec<u8>,
    query: &str,
) -> (u16, Value) {
    let response = stack
        .http
        .post(format!(
            "{}/api/whatsapp/media{query}",
            stack.stack.base_url
        ))
        .bearer_auth(KEY)
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

/// `POST /api/whatsapp/media/uploads` with `declared`.
async fn new_upload(stack: &StackClient, key: &str, declared: Value) -> (u16, Value) {
    stack
        .call("POST", "/api/whatsapp/media/uploads", key, Some(declared))
        .await
}

/// `POST /api/whatsapp/media` `{"uploadId"}`.
async fn send_upload(stack: &StackClient, key: &str, upload_id: &str) -> (u16, Value) {
    let body = json!({"uploadId": upload_id});
    stack
        .call("POST", "/api/whatsapp/media", key, Some(body))
        .await
}

/// An upload URL for `declared`, the PUT of `bytes` with the answered headers: the upload id
/// and the PUT's status.
async fn upload(stack: &StackClient, key: &str, declared: Value, bytes: Vec<u8>) -> (String, u16) {
    let (status, made) = new_upload(stack, key, declared).await;
    assert_eq!(status, 201, "{made}");
    let mut put = stack.http.put(made["url"].as_str().unwrap()).body(bytes);
    for (name, value) in made["headers"].as_object().unwrap() {
        put = put.header(name, value.as_str().unwrap());
    }
    let status = put.send().await.unwrap().status().as_u16();
    (made["uploadId"].as_str().unwrap().to_owned(), status)
}

#[tokio::test]
async fn a_pdf_uploaded_through_its_url_reaches_whatsapp_and_goes_out_as_a_document() {
    let stack = StackClient::start_silent().await;
    let pdf = file(b"%PDF-1.7\n", 7 * MB);
    let (status, made) = new_upload(
        &stack,
        KEY,
        json!({"mimeType": "application/pdf", "size": pdf.len(), "filename": "Invoice 42.pdf"}),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["method"], "PUT");
    assert_eq!(made["headers"]["content-type"], "application/pdf");
    let now = intaj_shared::clock::unix_now();
    let expires_at = made["expiresAt"].as_i64().unwrap();
    assert!(
        (now + 890..=now + 910).contains(&expires_at),
        "15 minutes: {made}"
    );

    // Before the PUT there is nothing to send.
    let upload_id = made["uploadId"].as_str().unwrap();
    let (status, early) = send_upload(&stack, KEY, upload_id).await;
    assert_eq!(
        (status, &early["error"]["code"]),
        (404, &json!("upload_not_found"))
    );

    let put = stack
        .http
        .put(made["url"].as_str().unwrap())
        .header("content-type", "application/pdf")
        .body(pdf.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);

    let (status, sent) = send_upload(&stack, KEY, upload_id).await;
    assert_eq!(status, 201, "{sent}");
    assert_eq!(
        (&sent["mimeType"], &sent["kind"], &sent["size"]),
        (
            &json!("application/pdf"),
            &json!("document"),
            &json!(pdf.len())
        )
    );
    let media_id = sent["mediaId"].as_str().unwrap();
    let kept = stack.sim().media(media_id).expect("WhatsApp has the file");
    assert_eq!(kept.mime_type, "application/pdf");
    assert_eq!(kept.filename.as_deref(), Some("Invoice 42.pdf"));
    assert!(kept.bytes == pdf, "the very bytes uploaded");

    // The customer writes; the business answers with the document by its media id.
    let inbound = InboundMessage::text(CUSTOMER, "my invoice?");
    assert_eq!(
        stack.sim().inbound(inbound).await.unwrap().webhook_status,
        Some(200)
    );
    let (status, accepted) = stack
        .send(json!({"to": CUSTOMER, "type": "document",
                     "content": {"id": media_id, "filename": "Invoice 42.pdf"}}))
        .await;
    assert_eq!(status, 200, "{accepted}");
    let outbox = stack.sim().outbox();
    let document = &outbox.last().unwrap().request["document"];
    assert_eq!(document["id"], media_id);
    stack.stack.shutdown().await;
}

#[tokio::test]
async fn every_kind_whatsapp_takes_goes_through_with_its_real_type() {
    let stack = StackClient::start_silent().await;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "image/jpeg",
            file(b"\xFF\xD8\xFF\xE0\x00\x10JFIF", 40 * KB),
            "image",
        ),
        (
            "image/png",
            file(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", 40 * KB),
            "image",
        ),
        ("image/webp", file(&webp(false), 90 * KB), "sticker"),
        ("image/webp", file(&webp(true), 400 * KB), "sticker"),
        (
            "audio/aac",
            file(b"\xFF\xF1\x50\x80\x02\x1F\xFC", 30 * KB),
            "audio",
        ),
        ("audio/amr", file(b"#!AMR\n", 30 * KB), "audio"),
        (
            "audio/mpeg",
            file(b"ID3\x04\x00\x00\x00\x00\x00\x00", 30 * KB),
            "audio",
        ),
        ("audio/mp4", file(&iso(b"M4A "), 30 * KB), "audio"),
        (
            "audio/ogg; codecs=opus",
            file(&ogg_opus(), 30 * KB),
            "audio",
        ),
        ("video/mp4", file(&iso(b"isom"), 60 * KB), "video"),
        ("video/3gpp", file(&iso(b"3gp5"), 60 * KB), "video"),
        (
            "text/plain",
            file(b"Order 42 shipped.\n", 2 * KB),
            "document",
        ),
        ("application/pdf", file(b"%PDF-1.4\n", 20 * KB), "document"),
        (
            "application/msword",
            file(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 20 * KB),
            "document",
        ),
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            file(b"PK\x03\x04\x14\x00\x06\x00", 20 * KB),
            "document",
        ),
    ];
    for (content_type, bytes, kind) in cases {
        let (status, sent) = post_file(&stack, content_type, bytes.clone(), "").await;
        assert_eq!(status, 201, "{content_type}: {sent}");
        assert_eq!(sent["kind"], kind, "{content_type}");
        let kept = stack
            .sim()
            .media(sent["mediaId"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            kept.mime_type,
            content_type.split(';').next().unwrap(),
            "{content_type}"
        );
        assert!(kept.bytes == bytes, "{content_type}: the same bytes");
    }
    // Unlabelled bytes that name one type go as that type.
    let (status, sent) = post_file(
        &stack,
        "application/octet-stream",
        file(b"%PDF-1.7\n", KB),
        "?filename=a.pdf",
    )
    .await;
    assert_eq!(
        (status, &sent["mimeType"]),
        (201, &json!("application/pdf")),
        "{sent}"
    );
    let kept = stack
        .sim()
        .media(sent["mediaId"].as_str().unwrap())
        .unwrap();
    assert_eq!(kept.filename.as_deref(), Some("a.pdf"));
    stack.stack.shutdown().await;
}

#[tokio::test]
async fn each_limit_and_type_rule_is_enforced_and_named() {
    let stack = StackClient::start_silent().await;
    let declare = |mime: &str, size: usize| json!({"mimeType": mime, "size": size});
    let limits = [
        ("image/jpeg", 5 * MB, "5 MB"),
        ("image/png", 5 * MB, "5 MB"),
        ("audio/mpeg", 16 * MB, "16 MB"),
        ("video/mp4", 16 * MB, "16 MB"),
        ("application/pdf", 100 * MB, "100 MB"),
        ("image/webp", 500 * KB, "500 KB"),
    ];
    for (mime, limit, named) in limits {
        let (status, made) = new_upload(&stack, KEY, declare(mime, limit)).await;
        assert_eq!(status, 201, "{mime} at its limit: {made}");
        let (status, refused) = new_upload(&stack, KEY, declare(mime, limit + 1)).await;
        assert_eq!(
            (status, &refused["error"]["code"]),
            (413, &json!("media_too_large")),
            "{mime}"
        );
        let message = refused["error"]["message"].as_str().unwrap();
        assert!(message.contains(named), "{message}");
    }
    let (status, gif) = new_upload(&stack, KEY, declare("image/gif", 10)).await;
    assert_eq!(
        (status, &gif["error"]["code"]),
        (415, &json!("unsupported_media_type"))
    );
    assert!(
        gif["error"]["message"]
            .as_str()
            .unwrap()
            .contains("image/jpeg"),
        "{gif}"
    );

    // A static sticker passes the declared check (animation is not known yet) but not its own.
    let sticker = file(&webp(false), 150 * KB);
    let (upload_id, put) = upload(&stack, KEY, declare("image/webp", sticker.len()), sticker).await;
    assert_eq!(put, 200);
    let (status, refused) = send_upload(&stack, KEY, &upload_id).await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (413, &json!("media_too_large"))
    );
    assert_eq!(
        refused["error"]["message"],
        "a static sticker (image/webp) (sticker) may be at most 100 KB on WhatsApp; this file is 150 KB"
    );

    // The bytes decide the type: a JPEG declared a PDF is refused, naming both.
    let jpeg = file(b"\xFF\xD8\xFF\xE0", 10 * KB);
    let (upload_id, put) = upload(
        &stack,
        KEY,
        declare("application/pdf", jpeg.len()),
        jpeg.clone(),
    )
    .await;
    assert_eq!(put, 200);
    let (status, refused) = send_upload(&stack, KEY, &upload_id).await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (415, &json!("unsupported_media_type"))
    );
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("application/pdf") && message.contains("JPEG"),
        "{message}"
    );
    let (status, _) = post_file(&stack, "application/pdf", jpeg, "").await;
    assert_eq!(status, 415);

    // A body over 5 MB goes through an upload instead; an image over 5 MB nowhere.
    let (status, big) = post_file(
        &stack,
        "application/pdf",
        file(b"%PDF-1.7\n", 5 * MB + 1),
        "",
    )
    .await;
    assert_eq!(
        (status, &big["error"]["code"]),
        (413, &json!("media_too_large"))
    );
    assert!(
        big["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/api/whatsapp/media/uploads")
    );
    let (status, empty) = post_file(&stack, "image/png", Vec::new(), "").await;
    assert_eq!(
        (status, &empty["error"]["code"]),
        (422, &json!("empty_media"))
    );
    let (status, bad_name) = post_file(
        &stack,
        "application/pdf",
        file(b"%PDF-1.7\n", KB),
        "?filename=..%2Fx.pdf",
    )
    .await;
    assert_eq!(
        (status, &bad_name["error"]["code"]),
        (422, &json!("invalid_filename"))
    );
    let (status, positional) = new_upload(&stack, KEY, json!(["application/pdf", 1024])).await;
    assert_eq!(
        (status, &positional["error"]["code"]),
        (400, &json!("invalid_json")),
        "an array is not read field by field"
    );
    assert!(stack.sim().outbox().is_empty(), "nothing was sent");
    stack.stack.shutdown().await;
}

#[tokio::test]
async fn an_upload_is_its_bots_alone_and_its_put_must_keep_the_signed_terms() {
    let stack = StackClient::start_silent().await;
    let pdf = file(b"%PDF-1.7\n", 20 * KB);
    let declared = json!({"mimeType": "application/pdf", "size": pdf.len()});
    let (status, made) = new_upload(&stack, KEY, declared.clone()).await;
    assert_eq!(status, 201, "{made}");
    let url = made["url"].as_str().unwrap();

    // Another type, or more bytes than declared, is refused as S3 refuses a presigned PUT.
    let retyped = stack
        .http
        .put(url)
        .header("content-type", "image/png")
        .body(pdf.clone());
    assert_eq!(retyped.send().await.unwrap().status(), 403);
    let mut longer = pdf.clone();
    longer.push(b'!');
    let longer = stack
        .http
        .put(url)
        .header("content-type", "application/pdf")
        .body(longer);
    assert_eq!(longer.send().await.unwrap().status(), 403);
    let forged = format!("{}0", url.trim_end_matches(|c: char| c != '.'));
    let forged = stack
        .http
        .put(forged)
        .header("content-type", "application/pdf")
        .body(pdf.clone());
    assert_eq!(forged.send().await.unwrap().status(), 403);

    let (upload_id, put) = upload(&stack, KEY, declared, pdf).await;
    assert_eq!(put, 200);
    let shop_key = stack.connect_bot("shop", "100000000000002").await;
    let (status, other) = send_upload(&stack, &shop_key, &upload_id).await;
    assert_eq!(
        (status, &other["error"]["code"]),
        (404, &json!("upload_not_found"))
    );
    let (status, made_up) = send_upload(&stack, KEY, "../../media/demo/1").await;
    assert_eq!(
        (status, &made_up["error"]["code"]),
        (404, &json!("upload_not_found"))
    );
    let (status, wrong_method) = stack
        .call("GET", "/api/whatsapp/media/uploads", KEY, None)
        .await;
    assert_eq!(
        (status, &wrong_method["error"]["code"]),
        (405, &json!("method_not_allowed"))
    );
    stack.stack.shutdown().await;
}

//! The Rust client against the local stack: the integration guide's sends, reads, templates a
//! page at a time, the connections, and the retry, idempotency and error behaviour.

use std::time::Duration;

use intaj_dev::simulator::InboundMessage;
use intaj_sdk::{Intaj, IntajError, SendRequest, TemplateQuery};
use intaj_tests::{DEMO_API_KEY, StackClient};
use serde_json::json;

const CUSTOMER: &str = "15551234567";

async fn stack() -> (StackClient, Intaj) {
    let stack = StackClient::start_silent().await;
    let intaj = Intaj::builder()
        .base_url(&stack.stack.base_url)
        .api_key(DEMO_API_KEY)
        .admin_token(&stack.stack.settings.admin_token)
        .build()
        .unwrap();
    (stack, intaj)
}

#[tokio::test]
async fn the_guides_three_sends_and_the_reads() {
    let (stack, intaj) = stack().await;
    // The customer writes first: free-form messages need their 24-hour window.
    stack
        .sim()
        .inbound(InboundMessage::text(CUSTOMER, "hi"))
        .await
        .unwrap();
    let whatsapp = intaj.whatsapp();
    let text = whatsapp
        .send(&SendRequest::text(CUSTOMER, "Hello from Intaj!"))
        .await
        .unwrap();
    assert_eq!(
        (text.status.as_str(), text.to.as_str()),
        ("accepted", CUSTOMER)
    );
    assert!(text.rate_limit.limit.is_some() && text.rate_limit.remaining.is_some());
    let image = SendRequest {
        to: Some(CUSTOMER.into()),
        kind: Some("image".into()),
        content: Some(
            json!({"url": "https://example.com/image.jpg", "caption": "Check this out!"}),
        ),
        ..SendRequest::default()
    };
    whatsapp.send(&image).await.unwrap();
    let reminder = json!({"name": "appointment_reminder", "language": "en", "components": [
        {"type": "body", "parameters": [{"type": "text", "text": "John"}, {"type": "text", "text": "2:30 PM"}]}]});
    whatsapp.send_template(CUSTOMER, reminder).await.unwrap();
    let sent: Vec<String> = stack
        .sim()
        .outbox()
        .iter()
        .map(|m| m.kind.clone())
        .collect();
    assert_eq!(sent, ["text", "image", "template"]);

    let message = whatsapp.get_message(&text.message_id).await.unwrap();
    assert_eq!(message.direction.as_deref(), Some("outbound"));
    assert_eq!(message.kind.as_deref(), Some("text"));
    let conversation = whatsapp.get_conversation(CUSTOMER).await.unwrap();
    assert!(conversation.window_open && !conversation.responder_paused);
    let paused = whatsapp.set_responder(CUSTOMER, true, None).await.unwrap();
    assert!(paused.responder_paused);

    let inbound = stack
        .sim()
        .inbound(InboundMessage::text(CUSTOMER, "thanks"))
        .await
        .unwrap()
        .message_id;
    whatsapp.mark_read(&inbound, true).await.unwrap();
    assert!(
        stack
            .sim()
            .read_receipts()
            .iter()
            .any(|r| r.message_id == inbound && r.typing_indicator)
    );

    let missing = whatsapp.get_message("wamid.NOTHING").await.unwrap_err();
    assert_eq!(
        (missing.status(), missing.code()),
        (Some(404), Some("message_not_found"))
    );
}

#[tokio::test]
async fn a_customers_image_is_read_back_by_its_url() {
    let (stack, intaj) = stack().await;
    let bytes: Vec<u8> = (0..50_000u32).map(|i| (i % 253) as u8).collect();
    let media_id = stack
        .sim()
        .add_media("100000000000001", "image/jpeg", bytes.clone());
    stack
        .sim()
        .inbound(InboundMessage::of_type(
            CUSTOMER,
            "image",
            json!({"id": media_id}),
        ))
        .await
        .unwrap();
    let media = intaj.whatsapp().get_media(&media_id).await.unwrap();
    assert_eq!(
        (media.mime_type.as_str(), media.size),
        ("image/jpeg", 50_000)
    );
    assert!(media.rate_limit.limit.is_some());
    let file = stack.http.get(&media.url).send().await.unwrap();
    assert_eq!(file.bytes().await.unwrap().as_ref(), bytes.as_slice());
    let missing = intaj.whatsapp().get_media("424242").await.unwrap_err();
    assert_eq!(
        (missing.status(), missing.code()),
        (Some(404), Some("media_not_found"))
    );
}

#[tokio::test]
async fn the_business_uploads_a_large_pdf_and_a_small_image() {
    let (stack, intaj) = stack().await;
    let mut pdf: Vec<u8> = (0..6 * 1024 * 1024u32)
        .map(|i| b' ' + (i % 90) as u8)
        .collect();
    pdf[..9].copy_from_slice(b"%PDF-1.7\n");
    let sent = intaj
        .whatsapp()
        .upload_media(pdf.clone(), "application/pdf", Some("Invoice 42.pdf"))
        .await
        .unwrap();
    assert_eq!(
        (sent.kind.as_str(), sent.mime_type.as_str(), sent.size),
        ("document", "application/pdf", pdf.len() as u64)
    );
    let kept = stack.sim().media(&sent.media_id).unwrap();
    assert_eq!(kept.filename.as_deref(), Some("Invoice 42.pdf"));
    assert!(kept.bytes == pdf, "the same bytes, through an upload URL");

    let mut png = vec![0u8; 3_000];
    png[..8].copy_from_slice(b"\x89PNG\r\n\x1a\n");
    let image = intaj
        .whatsapp()
        .upload_media(png.clone(), "image/png", None)
        .await
        .unwrap();
    assert_eq!(image.kind, "image");
    assert!(image.rate_limit.limit.is_some());
    assert!(stack.sim().media(&image.media_id).unwrap().bytes == png);

    let refused = intaj
        .whatsapp()
        .upload_media(png, "application/pdf", None)
        .await
        .unwrap_err();
    assert_eq!(
        (refused.status(), refused.code()),
        (Some(415), Some("unsupported_media_type"))
    );
}

#[tokio::test]
async fn templates_come_a_page_at_a_time() {
    let (_stack, intaj) = stack().await;
    let report = intaj.whatsapp().sync_templates().await.unwrap();
    let mut pages = intaj.whatsapp().list_templates(TemplateQuery {
        limit: Some(3),
        ..TemplateQuery::default()
    });
    let mut names = Vec::new();
    let mut count = 0;
    while let Some(page) = pages.next_page().await.unwrap() {
        assert!(page.templates.len() <= 3);
        names.extend(page.templates.into_iter().map(|t| (t.name, t.language)));
        count += 1;
    }
    assert!(count > 1, "several pages");
    assert_eq!(names.len() as u64, report.fetched, "every template once");
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "in name, then language order");
}

#[tokio::test]
async fn a_send_meta_refuses_for_a_while_is_retried_under_one_idempotency_key() {
    let (stack, intaj) = stack().await;
    stack
        .sim()
        .inbound(InboundMessage::text(CUSTOMER, "hi"))
        .await
        .unwrap();
    // Meta fails every call for longer than the API's own retries: the API answers 503 with
    // Retry-After, the client waits and sends again, and Meta takes it then.
    stack.sim().fail_next(6, 2);
    let sent = intaj
        .whatsapp()
        .send(&SendRequest::text(CUSTOMER, "once"))
        .await
        .unwrap();
    let delivered: Vec<_> = stack
        .sim()
        .outbox()
        .into_iter()
        .filter(|m| m.id == sent.message_id)
        .collect();
    assert_eq!(delivered.len(), 1);

    // The same key again: the first answer, replayed; nothing sent twice.
    let key = "rust-sdk-test-key-1";
    let first = intaj
        .whatsapp()
        .send_with_key(&SendRequest::text(CUSTOMER, "twice?"), key)
        .await
        .unwrap();
    let again = intaj
        .whatsapp()
        .send_with_key(&SendRequest::text(CUSTOMER, "twice?"), key)
        .await
        .unwrap();
    assert_eq!(first.message_id, again.message_id);
    assert!(!first.replayed && again.replayed);
    assert_eq!(stack.sim().outbox().len(), 2);

    // A refusal is not retried: it comes back at once with the API's code.
    let no_retries = Intaj::builder()
        .base_url(&stack.stack.base_url)
        .api_key(DEMO_API_KEY)
        .max_retries(0)
        .build()
        .unwrap();
    stack.sim().fail_next(6, 2);
    let unavailable = no_retries
        .whatsapp()
        .send(&SendRequest::text(CUSTOMER, "now or never"))
        .await
        .unwrap_err();
    assert_eq!(unavailable.code(), Some("upstream_unavailable"));
    assert!(matches!(
        unavailable,
        IntajError::Api {
            retry_after: Some(_),
            ..
        }
    ));
    let invalid = intaj
        .whatsapp()
        .send(&SendRequest::text(
            "recipient_phone_number",
            "Hello from Intaj!",
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (invalid.status(), invalid.code()),
        (Some(422), Some("invalid_phone_number"))
    );
}

#[tokio::test]
async fn a_closed_port_is_a_connection_error_after_the_retries() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let intaj = Intaj::builder()
        .base_url(closed)
        .api_key("k")
        .max_retries(1)
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let error = intaj
        .whatsapp()
        .get_conversation(CUSTOMER)
        .await
        .unwrap_err();
    assert!(matches!(error, IntajError::Connection(_)), "{error}");
    let no_key = Intaj::builder()
        .base_url("http://127.0.0.1:1")
        .build()
        .unwrap();
    assert!(matches!(
        no_key.connections().get("demo").await,
        Err(IntajError::Configuration(_))
    ));
}

#[tokio::test]
async fn connections_are_made_read_listed_and_deleted_with_the_admin_token() {
    let (stack, intaj) = stack().await;
    let settings = &stack.stack.settings;
    let shown = intaj.connections().get(&settings.bot_id).await.unwrap();
    assert_eq!(shown.phone_number_id, settings.phone_number_id);
    let page = intaj.connections().list(Some(10), None).await.unwrap();
    assert!(page.connections.iter().any(|c| c.bot_id == settings.bot_id));
    let updated = intaj
        .connections()
        .update(&json!({"botId": settings.bot_id, "rateLimitPerSecond": 5}))
        .await
        .unwrap();
    assert_eq!(updated.rate_limit_per_second, 5);
    assert_eq!((updated.api_key, updated.responder_secret), (None, None));
    // Creating a bot connected already shows no secret: an error that says how to get new ones.
    let again = json!({"botId": settings.bot_id, "businessAccountId": settings.waba_id,
                       "phoneNumberId": settings.phone_number_id,
                       "accessToken": settings.access_token,
                       "appSecret": settings.app_secret});
    let exists = intaj.connections().create(&again).await.unwrap_err();
    assert_eq!(exists.code(), Some("connection_exists"));
    assert!(
        exists.to_string().contains("rotateResponderSecret"),
        "{exists}"
    );
    let rotated = intaj
        .connections()
        .update(&json!({"botId": settings.bot_id, "rotateApiKey": true,
                        "rotateResponderSecret": true}))
        .await
        .unwrap();
    assert!(rotated.api_key.is_some() && rotated.responder_secret.is_some());
    let deleted = intaj.connections().delete(&settings.bot_id).await.unwrap();
    assert!(deleted.deleted && deleted.api_keys_revoked >= 1);
    let gone = intaj.connections().get(&settings.bot_id).await.unwrap_err();
    assert_eq!(gone.code(), Some("unknown_bot"));
    let refused = intaj
        .whatsapp()
        .get_conversation(CUSTOMER)
        .await
        .unwrap_err();
    assert_eq!(
        (refused.status(), refused.code()),
        (Some(401), Some("unauthorized"))
    );
}

/// An API that answers each connection with the next of `answers` (status, headers, body), as
/// HTTP/1.1, and counts the requests.
async fn scripted_api(answers: Vec<(u16, &'static str, &'static str)>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        for (status, headers, body) in answers {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buffer = [0; 4096];
            // The whole request: its headers, then the body its content-length names.
            loop {
                let read = socket.read(&mut buffer).await.unwrap();
                request.extend_from_slice(&buffer[..read]);
                let text = String::from_utf8_lossy(&request).to_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
                assert!(read > 0, "the client hung up");
            }
            let answer = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n{headers}\
                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(answer.as_bytes()).await.unwrap();
        }
    });
    url
}

#[tokio::test]
async fn a_send_whose_first_request_is_still_running_is_repeated_after_retry_after() {
    let api = scripted_api(vec![
        (
            409,
            "retry-after: 1\r\n",
            r#"{"error":{"code":"idempotency_in_progress","message":"still running"}}"#,
        ),
        (
            200,
            "idempotent-replayed: true\r\n",
            r#"{"messageId":"wamid.FIRST","status":"accepted","to":"15551234567"}"#,
        ),
    ])
    .await;
    let intaj = Intaj::builder().base_url(api).api_key("k").build().unwrap();
    let started = std::time::Instant::now();
    let sent = intaj
        .whatsapp()
        .send(&SendRequest::text(CUSTOMER, "once"))
        .await
        .unwrap();
    assert_eq!(sent.message_id, "wamid.FIRST");
    assert!(sent.replayed, "the first request's answer");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After waited for"
    );

    // Another 409 is the caller's to resolve: not repeated.
    let api = scripted_api(vec![(
        409,
        "",
        r#"{"error":{"code":"phone_number_taken","message":"taken"}}"#,
    )])
    .await;
    let intaj = Intaj::builder().base_url(api).api_key("k").build().unwrap();
    let refused = intaj
        .whatsapp()
        .send(&SendRequest::text(CUSTOMER, "once"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("phone_number_taken"));
}

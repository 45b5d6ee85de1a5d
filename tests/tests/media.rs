//! `GET /api/whatsapp/media/{mediaId}` through the local stack: a customer's image goes from
//! the simulator (Meta) through the webhook, is copied once into the stack's media folder and
//! read back by the URL the route answers; expired, corrupt and other bots' media are refused.

use intaj_dev::simulator::InboundMessage;
use intaj_dev::stack::StackSettings;
use intaj_tests::{LocalServices, StackClient, unique};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const CUSTOMER: &str = "15551234567";
const KEY: &str = "dev-api-key";
const DEMO_NUMBER: &str = "100000000000001";

/// A customer of `phone_number_id` sends an image whose media id is `media_id`.
async fn customer_sends_image(stack: &StackClient, phone_number_id: &str, media_id: &str) {
    let mut message = InboundMessage::of_type(
        CUSTOMER,
        "image",
        json!({"id": media_id, "mime_type": "image/jpeg", "caption": "look"}),
    );
    message.phone_number_id = Some(phone_number_id.to_owned());
    let outcome = stack.sim().inbound(message).await.unwrap();
    assert_eq!(outcome.webhook_status, Some(200), "{outcome:?}");
}

async fn get_media(stack: &StackClient, key: &str, media_id: &str) -> (u16, Value) {
    stack
        .call("GET", &format!("/api/whatsapp/media/{media_id}"), key, None)
        .await
}

fn image_bytes(seed: u8) -> Vec<u8> {
    let mut bytes = vec![0xff, 0xd8, 0xff, 0xe0];
    bytes.extend((0..200_000u32).map(|i| (i % 251) as u8 ^ seed));
    bytes
}

#[tokio::test]
async fn an_inbound_image_is_copied_once_and_read_back_by_its_url() {
    let stack = StackClient::start_silent().await;
    let bytes = image_bytes(1);
    let media_id = stack
        .sim()
        .add_media(DEMO_NUMBER, "image/jpeg", bytes.clone());
    customer_sends_image(&stack, DEMO_NUMBER, &media_id).await;

    let (status, first) = get_media(&stack, KEY, &media_id).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["mediaId"], media_id.as_str());
    assert_eq!(first["mimeType"], "image/jpeg");
    assert_eq!(first["size"], bytes.len());
    assert_eq!(first["sha256"], hex::encode(Sha256::digest(&bytes)));
    assert!(first["expiresAt"].as_i64().unwrap() > intaj_shared::clock::unix_now());
    assert_eq!(stack.sim().media_downloads(), 1);

    // The URL needs no API key; it serves the very bytes the customer sent.
    let url = first["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/_media/", stack.stack.base_url)),
        "{url}"
    );
    let response = stack.http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert_eq!(response.bytes().await.unwrap().as_ref(), bytes.as_slice());

    // A second request reuses the kept copy: WhatsApp is not asked for the file again.
    let (status, second) = get_media(&stack, KEY, &media_id).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["sha256"], first["sha256"]);
    assert_eq!(stack.sim().media_downloads(), 1);

    // A tampered token is refused.
    let forged = format!("{}0", url.trim_end_matches(|c: char| c != '.'));
    let refused = stack.http.get(forged).send().await.unwrap();
    assert_eq!(refused.status(), 404);

    let (status, wrong_method) = stack
        .call(
            "POST",
            &format!("/api/whatsapp/media/{media_id}"),
            KEY,
            None,
        )
        .await;
    assert_eq!(
        (status, &wrong_method["error"]["code"]),
        (405, &json!("method_not_allowed"))
    );
    let (status, _) = get_media(&stack, "not-a-key", &media_id).await;
    assert_eq!(status, 401);
    stack.stack.shutdown().await;
}

#[tokio::test]
async fn unknown_expired_and_corrupt_media_are_refused_and_nothing_corrupt_is_kept() {
    let stack = StackClient::start_silent().await;

    // Never received by this bot.
    let (status, unknown) = get_media(&stack, KEY, "424242").await;
    assert_eq!(
        (status, &unknown["error"]["code"]),
        (404, &json!("media_not_found"))
    );

    // Received, but WhatsApp no longer keeps it: Meta's "Object with ID … does not exist".
    customer_sends_image(&stack, DEMO_NUMBER, "987654321").await;
    let (status, expired) = get_media(&stack, KEY, "987654321").await;
    assert_eq!(
        (status, &expired["error"]["code"]),
        (410, &json!("media_expired")),
        "{expired}"
    );
    assert_eq!(expired["error"]["upstream"]["code"], 100);

    // The download does not match Meta's sha256: 502 and nothing kept, so the next request
    // downloads again and succeeds.
    let bytes = image_bytes(2);
    let media_id = stack
        .sim()
        .add_media(DEMO_NUMBER, "image/jpeg", bytes.clone());
    customer_sends_image(&stack, DEMO_NUMBER, &media_id).await;
    stack.sim().set_corrupt_media_downloads(true);
    let (status, corrupt) = get_media(&stack, KEY, &media_id).await;
    assert_eq!(
        (status, &corrupt["error"]["code"]),
        (502, &json!("media_corrupt")),
        "{corrupt}"
    );
    assert_eq!(stack.sim().media_downloads(), 1);
    stack.sim().set_corrupt_media_downloads(false);
    let (status, kept) = get_media(&stack, KEY, &media_id).await;
    assert_eq!(status, 200, "{kept}");
    assert_eq!(
        stack.sim().media_downloads(),
        2,
        "downloaded again: nothing was kept"
    );
    let served = stack
        .http
        .get(kept["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(served.bytes().await.unwrap().as_ref(), bytes.as_slice());
    stack.stack.shutdown().await;
}

#[tokio::test]
async fn another_bots_media_reads_as_not_found() {
    let stack = StackClient::start_silent().await;
    let shop_number = "100000000000002";
    let shop_key = stack.connect_bot("shop", shop_number).await;

    let media_id = stack
        .sim()
        .add_media(shop_number, "image/jpeg", image_bytes(3));
    customer_sends_image(&stack, shop_number, &media_id).await;

    let (status, refused) = get_media(&stack, KEY, &media_id).await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (404, &json!("media_not_found"))
    );
    assert_eq!(
        stack.sim().media_downloads(),
        0,
        "nothing asked of WhatsApp"
    );
    let (status, shops) = get_media(&stack, &shop_key, &media_id).await;
    assert_eq!(status, 200, "{shops}");
    stack.stack.shutdown().await;
}

#[tokio::test]
async fn on_dynamodb_the_image_is_found_by_its_media_id() {
    let Some(services) = LocalServices::from_env("media on DynamoDB") else {
        return;
    };
    let stack = StackClient::start_with(StackSettings {
        dynamodb_endpoint: Some(services.dynamodb.clone()),
        table_name: unique("media"),
        demo_responder: false,
        ..StackSettings::ephemeral()
    })
    .await;
    let bytes = image_bytes(4);
    let media_id = stack
        .sim()
        .add_media(DEMO_NUMBER, "image/jpeg", bytes.clone());
    customer_sends_image(&stack, DEMO_NUMBER, &media_id).await;
    // gsi1 is eventually consistent: a message recorded a moment ago may take a moment.
    let mut answer = get_media(&stack, KEY, &media_id).await;
    for _ in 0..20 {
        if answer.0 != 404 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        answer = get_media(&stack, KEY, &media_id).await;
    }
    let (status, body) = answer;
    assert_eq!(status, 200, "{body}");
    let served = stack
        .http
        .get(body["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(served.bytes().await.unwrap().as_ref(), bytes.as_slice());
    let (status, unknown) = get_media(&stack, KEY, "424242").await;
    assert_eq!(
        (status, &unknown["error"]["code"]),
        (404, &json!("media_not_found"))
    );
    stack.stack.shutdown().await;
}

#[tokio::test]
async fn every_kind_a_customer_sends_is_copied_and_read_back() {
    let stack = StackClient::start_silent().await;
    let kinds = [
        ("image", "image/jpeg"),
        ("audio", "audio/ogg"),
        ("video", "video/mp4"),
        ("document", "application/pdf"),
        ("sticker", "image/webp"),
    ];
    for (seed, (kind, mime_type)) in kinds.into_iter().enumerate() {
        let bytes = image_bytes(10 + seed as u8);
        let media_id = stack.sim().add_media(DEMO_NUMBER, mime_type, bytes.clone());
        let message = InboundMessage::of_type(
            CUSTOMER,
            kind,
            json!({"id": media_id, "mime_type": mime_type}),
        );
        let outcome = stack.sim().inbound(message).await.unwrap();
        assert_eq!(outcome.webhook_status, Some(200), "{kind}: {outcome:?}");
        let (status, media) = get_media(&stack, KEY, &media_id).await;
        assert_eq!(status, 200, "{kind}: {media}");
        assert_eq!(media["mimeType"], mime_type, "{kind}");
        let served = stack
            .http
            .get(media["url"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(served.headers()["content-type"], mime_type, "{kind}");
        assert_eq!(
            served.bytes().await.unwrap().as_ref(),
            bytes.as_slice(),
            "{kind}"
        );
    }
    stack.stack.shutdown().await;
}

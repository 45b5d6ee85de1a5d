//! The media function's table permissions in `template.yaml` are exactly the DynamoDB operations
//! its handler makes: a customer's media fetched and read again, an unknown id, an upload URL
//! and its file sent to WhatsApp, a file posted as the body, refusals; on DynamoDB Local, with
//! the WhatsApp simulator as Meta and the local stack's media folder as the bucket.

use std::time::{Duration, Instant};

use intaj_media::{MediaDeps, handle};
use intaj_shared::clock::unix_now;
use intaj_shared::domain::{CustomerIds, InboundMessage};
use intaj_tests::{
    CountedTable, DEMO_API_KEY, LocalServices, StackClient, api_request, json_body, status_and_json,
};
use lambda_http::Body;
use serde_json::{Value, json};

/// The media function's handler on a counted table.
struct CountedMedia {
    deps: MediaDeps,
    table: CountedTable,
}

impl CountedMedia {
    /// `method path` with `key` as the Bearer API key, if any, and a body of `content_type`:
    /// the status and the JSON answer.
    async fn call(
        &mut self,
        method: &str,
        path: &str,
        key: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let request = api_request(method, path, key).header("content-type", content_type);
        let body = if body.is_empty() {
            Body::Empty
        } else {
            Body::from(body)
        };
        let response = handle(request.body(body).unwrap(), &self.deps).await;
        self.table.collect();
        status_and_json(&response)
    }

    /// `method path` with the demo key and a JSON body (none for `null`).
    async fn json(&mut self, method: &str, path: &str, body: Value) -> (u16, Value) {
        // The type tells `{"uploadId"}` from a file posted as the body.
        let request = api_request(method, path, Some(DEMO_API_KEY))
            .header("content-type", "application/json");
        let response = handle(request.body(json_body(&body)).unwrap(), &self.deps).await;
        self.table.collect();
        status_and_json(&response)
    }
}

/// A PDF of `size` bytes.
fn pdf(size: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.resize(size, b'a');
    bytes
}

#[tokio::test]
async fn the_media_functions_table_permissions_are_exactly_the_operations_it_makes() {
    let Some(services) = LocalServices::from_env("media permissions") else {
        return;
    };
    let meta = StackClient::start_silent().await;
    let table = CountedTable::with_demo_connection(&services, "intaj-media-permissions").await;
    // A customer sent an image, which the webhook recorded.
    let image = vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4];
    let media_id = meta
        .sim()
        .add_media("100000000000001", "image/jpeg", image.clone());
    table
        .store
        .record_customer_message(
            "demo",
            InboundMessage {
                message_id: "wamid.IMAGE".into(),
                customer: CustomerIds::new(Some("15551234567"), None),
                phone_number_id: "100000000000001".into(),
                kind: "image".into(),
                timestamp: unix_now(),
                profile_name: None,
                content: json!({"type": "image",
                                "image": {"id": media_id, "mime_type": "image/jpeg"}})
                .to_string(),
            },
        )
        .await
        .unwrap();
    table.forget();
    let mut f = CountedMedia {
        deps: MediaDeps::new(
            table.store.clone(),
            table.secrets.clone(),
            meta.stack.graph.clone(),
            meta.stack.media.clone(),
        ),
        table,
    };

    // Refused: no key, and a media id no message of the bot has.
    let no_key = f
        .call("GET", "/api/whatsapp/media/424242", None, "", Vec::new())
        .await;
    assert_eq!(no_key.0, 401, "{}", no_key.1);
    let unknown = f
        .json("GET", "/api/whatsapp/media/424242", Value::Null)
        .await;
    assert_eq!(unknown.0, 404, "{}", unknown.1);
    // The customer's image: copied from Meta once, then answered from the bucket. gsi1 is
    // eventually consistent, so the first read may not find it yet.
    let path = format!("/api/whatsapp/media/{media_id}");
    let deadline = Instant::now() + Duration::from_secs(5);
    let (status, fetched) = loop {
        let answer = f.json("GET", &path, Value::Null).await;
        if answer.0 != 404 || Instant::now() > deadline {
            break answer;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status, 200, "{fetched}");
    let again = f.json("GET", &path, Value::Null).await;
    assert_eq!(again.0, 200, "{}", again.1);
    let served = meta
        .http
        .get(again.1["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(served.bytes().await.unwrap().as_ref(), image.as_slice());

    // A business's file: an upload URL, the PUT, then the file sent to WhatsApp.
    let file = pdf(4096);
    let declared = json!({"mimeType": "application/pdf", "size": file.len(), "filename": "a.pdf"});
    let (status, made) = f
        .json("POST", "/api/whatsapp/media/uploads", declared)
        .await;
    assert_eq!(status, 201, "{made}");
    let mut put = meta
        .http
        .put(made["url"].as_str().unwrap())
        .body(file.clone());
    for (name, value) in made["headers"].as_object().unwrap() {
        put = put.header(name, value.as_str().unwrap());
    }
    assert!(put.send().await.unwrap().status().is_success());
    let upload = json!({"uploadId": made["uploadId"]});
    let (status, sent) = f.json("POST", "/api/whatsapp/media", upload).await;
    assert_eq!(status, 201, "{sent}");
    // An upload id that was never made, and a file posted as the body.
    let unmade = json!({"uploadId": "no-such-upload"});
    let (status, answer) = f.json("POST", "/api/whatsapp/media", unmade).await;
    assert_eq!(status, 404, "{answer}");
    let (status, sent) = f
        .call(
            "POST",
            "/api/whatsapp/media",
            Some(DEMO_API_KEY),
            "application/pdf",
            file,
        )
        .await;
    assert_eq!(status, 201, "{sent}");

    f.table.assert_exactly_allowed_by("MediaFunction");
    meta.stack.shutdown().await;
}

//! The real `media` binary under `cargo lambda watch`, its media in an S3 bucket on moto, its
//! table on DynamoDB Local and the WhatsApp simulator as Meta, invoked with the `events/` files:
//! a business's file through an upload URL to WhatsApp, and a customer's image read back.

use intaj_shared::domain::{CustomerIds, InboundMessage};
use intaj_shared::ports::MessageStore;
use intaj_tests::{DemoBot, LocalServices, WatchedFunction, answer_body, sample_event, unique};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// What `events/media-upload.json` declares.
const UPLOAD_SIZE: usize = 734_003;
/// The upload id of `events/media-send-upload.json` and the media id of `events/media-get.json`.
const SAMPLE_UPLOAD_ID: &str = "6f1c0e5a9b3d47e2a8c4d1f07b2e9a35";
const SAMPLE_MEDIA_ID: &str = "1037543291543636";

/// A sample event with the ids it names replaced by the ones the test made.
fn naming(event: &str, sample_id: &str, id: &str) -> Value {
    let text = sample_event(event).to_string().replace(sample_id, id);
    serde_json::from_str(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_media_binary_takes_an_upload_to_whatsapp_and_reads_back_a_customers_image() {
    let Some(services) = LocalServices::from_env("media_lambda") else {
        return;
    };
    let mut demo = DemoBot::connect(&services, "media-e2e").await;
    let bucket = unique("media-e2e");
    let s3 = intaj_shared::bootstrap::s3_client(&services.moto_config().await, true);
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    demo.env.push(format!("MEDIA_BUCKET={bucket}"));
    let simulator = demo.simulator.handle();
    let mut function = WatchedFunction::start("intaj-media", "media", &demo.env);

    // Nothing was PUT for the sample's upload id.
    let missing = function.first_answer("media-send-upload.json");
    assert_eq!(missing["statusCode"], 404, "{missing}");
    assert_eq!(answer_body(&missing)["error"]["code"], "upload_not_found");

    // An upload URL for the declared PDF, presigned for moto's S3.
    let terms = function
        .answer("media-upload.json")
        .expect("the upload answered");
    assert_eq!(terms["statusCode"], 201, "{terms}");
    let terms = answer_body(&terms);
    let url = terms["url"].as_str().expect("an upload URL");
    assert!(url.starts_with(&services.moto), "{url}");
    let upload_id = terms["uploadId"].as_str().expect("an upload id");
    // What the PUT must carry as signed, and nothing of the invocation's own (under Lambda and
    // cargo lambda the SDK adds the invocation's trace id to every request it makes).
    let mut to_send: Vec<&str> = terms["headers"]
        .as_object()
        .expect("headers to send")
        .keys()
        .map(String::as_str)
        .collect();
    to_send.sort_unstable();
    assert_eq!(to_send, ["content-type", "x-amz-meta-filename"], "{terms}");

    // The business PUTs its file as the answer says, with no credentials of its own.
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.resize(UPLOAD_SIZE, b'x');
    let http = intaj_shared::http_clients::http_client();
    let mut put = http.put(url).body(pdf.clone());
    for (name, value) in terms["headers"].as_object().expect("headers to send") {
        put = put.header(name.as_str(), value.as_str().unwrap());
    }
    let put = put.send().await.unwrap();
    assert!(put.status().is_success(), "{:?}", put.text().await);

    // The file goes from S3 to Meta (the simulator).
    let sent = function
        .answer_to(&naming(
            "media-send-upload.json",
            SAMPLE_UPLOAD_ID,
            upload_id,
        ))
        .expect("the send answered");
    assert_eq!(sent["statusCode"], 201, "{sent}");
    let sent = answer_body(&sent);
    assert_eq!(sent["kind"], "document", "{sent}");
    assert_eq!(sent["size"], UPLOAD_SIZE);
    let media_id = sent["mediaId"].as_str().expect("Meta's media id");
    let at_meta = simulator.media(media_id).expect("the file reached Meta");
    assert_eq!(at_meta.mime_type, "application/pdf");
    assert_eq!(at_meta.filename.as_deref(), Some("Invoice 42.pdf"));
    assert!(at_meta.bytes == pdf, "Meta got other bytes");

    // A customer's image, recorded as the webhook records it: copied from Meta into S3 once,
    // and read back by the presigned URL the route answers.
    let image = [&[0xff, 0xd8, 0xff, 0xe0][..], &[7; 40_000]].concat();
    let image_id = simulator.add_media(
        &demo.connection.phone_number_id,
        "image/jpeg",
        image.clone(),
    );
    let message = InboundMessage {
        message_id: unique("wamid.IMG"),
        customer: CustomerIds::new(Some("15551234567"), None),
        phone_number_id: demo.connection.phone_number_id.clone(),
        kind: "image".into(),
        timestamp: intaj_shared::clock::unix_now(),
        profile_name: None,
        content: format!(r#"{{"type":"image","image":{{"id":"{image_id}"}}}}"#),
    };
    demo.store.record_inbound("demo", message).await.unwrap();
    let get_image = naming("media-get.json", SAMPLE_MEDIA_ID, &image_id);
    for _ in 0..2 {
        let read = function.answer_to(&get_image).expect("the read answered");
        assert_eq!(read["statusCode"], 200, "{read}");
        let read = answer_body(&read);
        assert_eq!(read["mimeType"], "image/jpeg", "{read}");
        assert_eq!(read["sha256"], hex::encode(Sha256::digest(&image)));
        let url = read["url"].as_str().expect("a URL to read it");
        let got = http.get(url).send().await.unwrap();
        assert!(got.status().is_success(), "{url}");
        assert!(got.bytes().await.unwrap() == image, "other bytes at {url}");
    }
    assert_eq!(simulator.media_downloads(), 1, "copied from Meta once");
}

/// Without `MEDIA_BUCKET` the binary exits at start, and an invoke would wait for it until its
/// deadline: the test stops at once, with the function's own words.
#[test]
fn a_function_that_cannot_start_stops_its_test_at_once_with_its_own_error() {
    if LocalServices::from_env("media_lambda").is_none() {
        return;
    }
    let env = ["TABLE_NAME=unused".to_owned()];
    let mut function = WatchedFunction::start("intaj-media", "media", &env);
    let stopped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        function.first_answer("media-get.json")
    }));
    let panic = stopped.expect_err("a function that exited answered");
    let message = panic
        .downcast_ref::<String>()
        .expect("a panic with a message");
    assert!(
        message.contains("MEDIA_BUCKET must name the media bucket"),
        "{message}"
    );
}

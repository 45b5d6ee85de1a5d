//! The real `webhook` binary under `cargo lambda watch`, backed by DynamoDB Local and moto
//! through the AWS SDK's endpoint variables, invoked with the `events/` files.

use intaj_shared::domain::MessageStatus;
use intaj_shared::ports::{MessageStore, WindowStore};
use intaj_tests::{DemoBot, LocalServices, WatchedFunction, answer_body};

#[tokio::test(flavor = "multi_thread")]
async fn the_webhook_binary_verifies_and_stores_under_cargo_lambda() {
    let Some(services) = LocalServices::from_env("webhook_lambda") else {
        return;
    };
    let demo = DemoBot::connect(&services, "webhook-e2e").await;
    let store = &demo.store;
    let mut webhook = WatchedFunction::start("intaj-webhook", "webhook", &demo.env);

    let verified = webhook.first_answer("webhook-verify.json");
    assert_eq!(verified["statusCode"], 200, "{verified}");
    assert_eq!(verified["body"], "1158201444");

    let received = webhook
        .answer("webhook-receive.json")
        .expect("POST answered");
    assert_eq!(received["statusCode"], 200, "{received}");
    assert_eq!(
        answer_body(&received),
        serde_json::json!({"received": true})
    );

    // What the function stored, read straight from DynamoDB.
    let id = "wamid.HBgMOTcxNTAxMjM0NTY3FQIAEhggQTFCMkMzRDRFNUY2MDcwODA5MEExQjJDM0Q0RTVGNgA=";
    let record = store
        .message("demo", id)
        .await
        .unwrap()
        .expect("message stored in DynamoDB");
    assert_eq!(record.kind.as_deref(), Some("text"));
    assert!(record.status.is_none() || record.status == Some(MessageStatus::Accepted));
    let window = store
        .window("demo", "971501234567")
        .await
        .unwrap()
        .expect("window opened");
    assert_eq!(window.expires_at, 1764000000 + 24 * 3600);

    // Meta's redelivery of the same event changes nothing.
    let again = webhook
        .answer("webhook-receive.json")
        .expect("redelivery answered");
    assert_eq!(again["statusCode"], 200);
    assert_eq!(store.message("demo", id).await.unwrap(), Some(record));

    if let Some(peak) = peak_memory_of("webhook") {
        eprintln!("webhook function peak resident memory (VmHWM): {peak}");
    }
}

/// The high-water mark of resident memory of the running process named `name` (Linux only).
fn peak_memory_of(name: &str) -> Option<String> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let comm = std::fs::read_to_string(entry.path().join("comm")).ok()?;
            if comm.trim() != name {
                return None;
            }
            let status = std::fs::read_to_string(entry.path().join("status")).ok()?;
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            Some(line.trim_start_matches("VmHWM:").trim().to_owned())
        })
}

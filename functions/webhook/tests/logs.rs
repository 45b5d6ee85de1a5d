//! What the webhook function logs, line by line, as CloudWatch receives it.
//!
//! Alone in its test binary, with the process's own subscriber: tracing remembers per log site,
//! for the whole process, whether anyone listens. A site first reached on another test's thread,
//! while a per-thread subscriber is being set here, can stay silent for good (seen in CI).

use intaj_test_support::LogLines;
use intaj_webhook::handle;
use serde_json::Value;

#[allow(dead_code)] // the bench's helpers; the typed-parse floor is not used here
#[path = "../benches/support/mod.rs"]
mod support;

use support::{APP_SECRET, demo_deps, fixture, signed_request};

/// The lines logged since the last call, each read as JSON.
fn logged(lines: &LogLines) -> Vec<Value> {
    let text = String::from_utf8(lines.take()).unwrap();
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[tokio::test]
async fn each_webhook_logs_one_summary_naming_only_what_it_carried() {
    // Written as the deployed function writes them.
    let lines = LogLines::default();
    let writer = lines.clone();
    tracing::subscriber::set_global_default(intaj_shared::bootstrap::json_log_lines(
        "info",
        move || writer.clone(),
    ))
    .expect("the only subscriber of this binary");
    let deps = demo_deps().await;
    let summary = |counts: &Value| {
        let mut fields = serde_json::json!({"message": "webhook recorded", "bot_id": "demo"});
        fields
            .as_object_mut()
            .unwrap()
            .extend(counts.as_object().unwrap().clone());
        fields
    };
    let cases = [
        ("status_sent.json", serde_json::json!({"statuses_new": 1})),
        (
            "status_sent.json",
            serde_json::json!({"statuses_duplicate": 1}),
        ),
        ("text.json", serde_json::json!({"messages_new": 1})),
        ("text.json", serde_json::json!({"messages_duplicate": 1})),
        (
            "mixed_batch.json",
            serde_json::json!({"messages_new": 1, "statuses_new": 2}),
        ),
        (
            "unknown_field_change.json",
            serde_json::json!({"ignored_changes": 1}),
        ),
    ];
    let app_secret = std::str::from_utf8(APP_SECRET).unwrap();
    for (name, counts) in cases {
        let response = handle(signed_request(fixture(name)), &deps).await;
        assert_eq!(response.status(), 200, "{name}");
        let logged = logged(&lines);
        let summaries: Vec<&Value> = logged
            .iter()
            .filter(|line| line["fields"]["message"] == "webhook recorded")
            .collect();
        assert_eq!(
            summaries,
            [&serde_json::json!({"level": "INFO", "fields": summary(&counts)})],
            "{name}"
        );
        // A new message has a line of its own, by its id.
        let new_messages = logged
            .iter()
            .filter(|line| line["fields"]["message"] == "inbound message recorded")
            .filter(|line| {
                line["fields"]["message_id"]
                    .as_str()
                    .unwrap()
                    .starts_with("wamid.")
            })
            .count();
        let expected = counts["messages_new"].as_u64().unwrap_or(0);
        assert_eq!(new_messages as u64, expected, "{name}");
        for line in &logged {
            let text = line.to_string();
            assert!(
                !text.contains(app_secret) && !text.contains("dev-access-token"),
                "{text}"
            );
        }
    }
}

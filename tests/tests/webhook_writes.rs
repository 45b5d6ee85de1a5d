//! The webhook's DynamoDB write budget, counted on DynamoDB Local (issue 8's targets that are met
//! so far; `BENCHMARKS.md` has every event's figures).

use intaj_tests::{CountedWebhook, LocalServices};

#[tokio::test]
async fn a_status_costs_one_write_and_a_duplicate_at_most_one() {
    let Some(services) = LocalServices::from_env("webhook writes") else {
        return;
    };
    let webhook = CountedWebhook::start(&services).await;
    let new = webhook.post("status_sent.json").await;
    assert_eq!(new.write_requests, 1, "{new:?}");
    let duplicate = webhook.post("status_sent.json").await;
    assert!(duplicate.write_requests <= 1, "{duplicate:?}");
    let next = webhook.post("status_delivered.json").await;
    assert_eq!(next.write_requests, 1, "{next:?}");

    let batch = webhook.post("batch_100_statuses.json").await;
    assert_eq!(batch.write_requests, 100, "one per status: {batch:?}");
    let again = webhook.post("batch_100_statuses.json").await;
    assert!(again.write_requests <= 100, "{again:?}");
}

//! The webhook's DynamoDB write budget, counted on DynamoDB Local (issue 8's write targets;
//! `BENCHMARKS.md` has every event's figures).

use intaj_tests::{CountedWebhook, LocalServices, fixture_body, next_message};

#[tokio::test]
async fn an_inbound_message_costs_two_writes_and_a_redelivery_one() {
    let Some(services) = LocalServices::from_env("webhook writes") else {
        return;
    };
    let webhook = CountedWebhook::start(&services).await;
    for fixture in ["text.json", "bsuid_and_phone.json"] {
        let first = webhook.post(fixture).await;
        // The first message of a customer known by both ids also links them, once.
        let links = usize::from(fixture == "bsuid_and_phone.json");
        assert_eq!(first.write_requests, 2 + links, "{fixture}: {first:?}");
        let redelivered = webhook.post(fixture).await;
        assert_eq!(redelivered.write_requests, 1, "{fixture}: {redelivered:?}");
        // Besides, one read: the window under the customer's stable id, to heal a lost raise.
        assert_eq!(redelivered.requests, 2, "{fixture}: {redelivered:?}");
        let next = webhook.post_body(fixture, next_message(fixture)).await;
        assert!(next.write_requests <= 2, "{fixture}: {next:?}");
        // Warm, the whole path is those writes: the number's owner is remembered.
        assert!(next.sequential_round_trips <= 2, "{fixture}: {next:?}");
    }
    // Both ids still find the window the messages opened.
    let store = &webhook.store;
    let by_wa_id = store.window("demo", "15557654321").await.unwrap();
    let by_bsuid = store
        .window("demo", "US.10293847561029384756")
        .await
        .unwrap();
    assert!(by_wa_id.is_some());
    assert_eq!(by_wa_id, by_bsuid);
}

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

    // The same message moving on, with the same conversation and pricing each time (as Meta
    // sends them): its head stays under 1 KB, one write unit a status.
    for status in ["delivered", "read"] {
        let body = String::from_utf8(fixture_body("status_sent.json"))
            .unwrap()
            .replacen(
                "\"status\": \"sent\"",
                &format!("\"status\": \"{status}\""),
                1,
            );
        let cost = webhook.post_body(status, body.into_bytes()).await;
        assert_eq!(cost.write_requests, 1, "{status}: {cost:?}");
        assert_eq!(cost.write_units, 1.0, "{status}: {cost:?}");
    }

    let batch = webhook.post("batch_100_statuses.json").await;
    assert_eq!(batch.write_requests, 100, "one per status: {batch:?}");
    let again = webhook.post("batch_100_statuses.json").await;
    assert!(again.write_requests <= 100, "{again:?}");
}

#[tokio::test]
async fn a_cold_function_notes_the_bots_arrivals_once_beside_the_first_webhook() {
    let Some(services) = LocalServices::from_env("webhook writes") else {
        return;
    };
    let webhook = CountedWebhook::start_cold(&services).await;
    let first = webhook.post("status_sent.json").await;
    // The status and `lastWebhookAt`; the latter beside the receipt, so the path stays a cold
    // function's three round trips (the number's owner, its connection, the status).
    assert_eq!(first.write_requests, 2, "{first:?}");
    assert!(first.sequential_round_trips <= 3, "{first:?}");
    let noted = webhook.store.connection("demo").await.unwrap().unwrap();
    assert!(noted.last_webhook_at.is_some(), "{noted:?}");
    let next = webhook.post("status_delivered.json").await;
    assert_eq!(
        next.write_requests, 1,
        "noted once every few minutes: {next:?}"
    );
}

#[tokio::test]
async fn a_media_message_costs_the_writes_of_a_text_and_one_index_unit() {
    let Some(services) = LocalServices::from_env("webhook writes") else {
        return;
    };
    let webhook = CountedWebhook::start(&services).await;
    let text = webhook.post("text.json").await;
    let image = webhook.post("image.json").await;
    // The media route finds the message by its media id on gsi1: the head carries the keys, so
    // no write request is added; DynamoDB charges the index's copy of the head (one unit).
    assert_eq!(
        image.write_requests, text.write_requests,
        "{image:?} vs {text:?}"
    );
    assert_eq!(
        image.write_units,
        text.write_units + 1.0,
        "{image:?} vs {text:?}"
    );
}

//! `DYNAMODB_ENDPOINT` switches the local stack from memory to DynamoDB (Local), creating the
//! table from the same definition as `template.yaml`; its responder then reads the table's
//! stream, as the deployed triggers do.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use intaj_shared::responding::SIGNATURE_HEADER;
use intaj_tests::StackClient;
use serde_json::{Value, json};

use intaj_dev::simulator::{InboundMessage, TemplateStatusUpdate};
use intaj_dev::stack::{self, StackSettings, stream_feed};
use intaj_shared::adapters::DynamoDbStore;
use intaj_shared::ports::{MessageStore, WindowStore};
use intaj_tests::{LocalServices, unique};

#[tokio::test]
async fn the_local_stack_records_into_dynamodb_when_told_to() {
    let Some(services) = LocalServices::from_env("local_stack_dynamodb") else {
        return;
    };
    let settings = StackSettings {
        dynamodb_endpoint: Some(services.dynamodb.clone()),
        table_name: unique("stack"),
        ..StackSettings::ephemeral()
    };
    let table = settings.table_name.clone();
    let running = stack::start(settings).await.unwrap();
    let sim = running.simulator.as_ref().unwrap().handle();
    let outcome = sim
        .inbound(InboundMessage::text("15551234567", "hello"))
        .await
        .unwrap();
    assert_eq!(outcome.webhook_status, Some(200));

    // Read back with a store of our own, straight from DynamoDB Local.
    let store = DynamoDbStore::new(services.dynamodb().await, table);
    let record = store.message("demo", &outcome.message_id).await.unwrap();
    assert_eq!(
        record.expect("stored in DynamoDB").kind.as_deref(),
        Some("text")
    );
    assert!(store.window("demo", "15551234567").await.unwrap().is_some());
    running.shutdown().await;
}

/// What the business's server received: (route, event), each signed.
type Received = Arc<Mutex<Vec<(String, Value)>>>;

async fn business_server() -> (String, Received) {
    let received: Received = Arc::default();
    let app = axum::Router::new()
        .route(
            "/{route}",
            post(
                |State(received): State<Received>,
                 Path(route): Path<String>,
                 headers: HeaderMap,
                 body: String| async move {
                    assert!(headers.contains_key(SIGNATURE_HEADER));
                    let event = serde_json::from_str(&body).unwrap();
                    received.lock().unwrap().push((route, event));
                },
            ),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

#[tokio::test]
async fn on_dynamodb_the_stream_drives_the_bot_and_the_status_events() {
    let Some(services) = LocalServices::from_env("local_stack_dynamodb") else {
        return;
    };
    let stack = StackClient::start_with(StackSettings {
        dynamodb_endpoint: Some(services.dynamodb.clone()),
        table_name: unique("stack-stream"),
        ..StackSettings::ephemeral()
    })
    .await;
    let (business, received) = business_server().await;
    let admin = stack.stack.settings.admin_token.clone();
    let (status, updated) = stack
        .call(
            "POST",
            "/api/whatsapp/connections",
            &admin,
            Some(json!({"botId": "demo", "eventsUrl": format!("{business}/events")})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");

    // The demo bot's rules answer a greeting: the inbound item's stream record reached them.
    let customer = "15551234567";
    stack
        .sim()
        .inbound(InboundMessage::text(customer, "hello"))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !stack
        .sim()
        .outbox()
        .iter()
        .any(|m| m.to.as_deref() == Some(customer) && m.kind == "interactive")
    {
        assert!(
            Instant::now() < deadline,
            "no answer: {:?}",
            stack.sim().outbox()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A send's statuses: each new one on its head's stream record, told to both URLs.
    let (status, sent) = stack
        .send(
            json!({"to": customer, "type": "text", "content": "Your order shipped",
            "statusCallbackUrl": format!("{business}/callback")}),
        )
        .await;
    assert_eq!(status, 200, "{sent}");
    let id = sent["messageId"].as_str().unwrap().to_owned();
    let wanted: Vec<(String, String)> = ["events", "callback"]
        .iter()
        .flat_map(|route| {
            let id = &id;
            ["sent", "delivered", "read"]
                .iter()
                .map(move |s| (route.to_string(), format!("{id}:{s}")))
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let got: Vec<(String, String)> = received
            .lock()
            .unwrap()
            .iter()
            .map(|(route, e)| {
                (
                    route.clone(),
                    e["eventId"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        if wanted.iter().all(|w| got.contains(w)) {
            // Each change once per URL: the stream brings each status once.
            for w in &wanted {
                assert_eq!(got.iter().filter(|g| *g == w).count(), 1, "{got:?}");
            }
            break;
        }
        assert!(Instant::now() < deadline, "status events: {got:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Meta pauses a synced template: its item's change on the stream becomes a template event.
    let update = TemplateStatusUpdate {
        status: "PAUSED".into(),
        reason: None,
        other_info: None,
    };
    let waba = stack.stack.settings.waba_id.clone();
    let outcome = stack
        .sim()
        .set_template_status(&waba, "appointment_reminder", "en", update)
        .await
        .unwrap();
    assert_eq!(outcome.delivered(), 1, "{:?}", outcome.webhooks);
    let deadline = Instant::now() + Duration::from_secs(15);
    while !received.lock().unwrap().iter().any(|(route, e)| {
        route == "events" && e["type"] == "template.status" && e["status"] == "PAUSED"
    }) {
        assert!(
            Instant::now() < deadline,
            "no template event: {:?}",
            received.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    filters_pick_what_the_responder_acts_on(&services, &stack.stack.settings.table_name).await;
    stack.stack.shutdown().await;
}

/// Every record the table's stream now holds (inbound messages, sends, statuses, templates,
/// windows, keys, …) through `template.yaml`'s filters: the pipe takes exactly the new inbound
/// messages, grouped by conversation and deduplicated by message id; the stream trigger takes
/// every record that brings a status event and no inbound message.
async fn filters_pick_what_the_responder_acts_on(services: &LocalServices, table: &str) {
    use intaj_shared::adapters::dynamodb::stream::{conversation_key, recorded_of_stream_record};
    use intaj_shared::domain::Recorded;
    use intaj_tests::event_pattern::{at_path, matches};

    let template: serde_norway::Value = serde_norway::from_str(
        &std::fs::read_to_string(intaj_tests::workspace_root().join("template.yaml")).unwrap(),
    )
    .unwrap();
    let resources = &template["Resources"];
    let patterns = |filters: &serde_norway::Value| -> Vec<String> {
        filters["FilterCriteria"]["Filters"]
            .as_sequence()
            .expect("filters")
            .iter()
            .map(|f| f["Pattern"].as_str().unwrap().to_owned())
            .collect()
    };
    let pipe = &resources["ResponderPipe"]["Properties"];
    let pipe_patterns = patterns(&pipe["SourceParameters"]);
    let queue = &pipe["TargetParameters"]["SqsQueueParameters"];
    let (group_path, dedupe_path) = (
        queue["MessageGroupId"].as_str().unwrap(),
        queue["MessageDeduplicationId"].as_str().unwrap(),
    );
    let trigger_patterns = patterns(
        &resources["ResponderFunction"]["Properties"]["Events"]["StatusChanges"]["Properties"],
    );

    let mut seen = (0, 0, 0);
    for record in stream_records(services, table).await {
        let recorded = recorded_of_stream_record(&record).unwrap();
        let to_pipe = pipe_patterns.iter().any(|p| matches(p, &record));
        let to_trigger = trigger_patterns.iter().any(|p| matches(p, &record));
        let inbound = recorded.iter().find_map(|r| match r {
            Recorded::Inbound(bot, message) => Some((bot, message)),
            _ => None,
        });
        assert_eq!(to_pipe, inbound.is_some(), "pipe filter on {record}");
        if let Some((bot, message)) = inbound {
            seen.0 += 1;
            assert!(!to_trigger, "an inbound message is not a status: {record}");
            let group = conversation_key(bot, &message.customer).unwrap();
            assert_eq!(at_path(group_path, &record), Some(&json!(group)));
            assert_eq!(
                at_path(dedupe_path, &record),
                Some(&json!(message.message_id))
            );
        }
        for told in &recorded {
            match told {
                Recorded::Status(_) => seen.1 += 1,
                Recorded::TemplateStatus(_) => seen.2 += 1,
                Recorded::Inbound(..) => continue,
            }
            assert!(to_trigger, "stream trigger filter misses {record}");
        }
    }
    assert!(seen.0 >= 1 && seen.1 >= 6 && seen.2 >= 1, "seen {seen:?}");
}

/// The table's whole stream, each record as Lambda hands it over.
async fn stream_records(services: &LocalServices, table: &str) -> Vec<Value> {
    use aws_sdk_dynamodbstreams::types::ShardIteratorType;

    let arn = services
        .dynamodb()
        .await
        .describe_table()
        .table_name(table)
        .send()
        .await
        .unwrap()
        .table()
        .unwrap()
        .latest_stream_arn()
        .unwrap()
        .to_owned();
    let config = aws_sdk_dynamodbstreams::config::Builder::from(&services.sdk_config().await)
        .endpoint_url(&services.dynamodb)
        .build();
    let streams = aws_sdk_dynamodbstreams::Client::from_conf(config);
    let described = streams
        .describe_stream()
        .stream_arn(&arn)
        .send()
        .await
        .unwrap();
    let mut records = Vec::new();
    for shard in described.stream_description().unwrap().shards() {
        let mut iterator = streams
            .get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(shard.shard_id().unwrap())
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap()
            .shard_iterator
            .unwrap();
        loop {
            let page = streams
                .get_records()
                .shard_iterator(&iterator)
                .send()
                .await
                .unwrap();
            if page.records().is_empty() {
                break;
            }
            records.extend(page.records().iter().map(stream_feed::lambda_json));
            match page.next_shard_iterator() {
                Some(next) => iterator = next.to_owned(),
                None => break,
            }
        }
    }
    records
}

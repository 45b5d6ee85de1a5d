//! `DYNAMODB_ENDPOINT` switches the local stack from memory to DynamoDB (Local), creating the
//! table from the same definition as `template.yaml`.

use intaj_dev::simulator::InboundMessage;
use intaj_dev::stack::{self, StackSettings};
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

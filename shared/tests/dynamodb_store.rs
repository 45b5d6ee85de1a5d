//! The DynamoDB store against the conformance suite, on DynamoDB Local (skipped when it is not
//! running, unless `INTAJ_TEST_REQUIRE_SERVICES=1`).

mod conformance;

use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, StreamViewType, TimeToLiveStatus};
use intaj_shared::adapters::DynamoDbStore;
use intaj_shared::adapters::dynamodb::{create_table_if_missing, table_definition};
use intaj_shared::domain::{Claim, ConversationWindow, CustomerIds, MessageStatus, StatusEvent};
use intaj_shared::ports::{ConnectionStore, MessageStore, Store, StoreError, WindowStore};
use intaj_test_support::LocalServices;

/// A client for DynamoDB Local, or `None` (with a notice) when it is not running.
async fn client() -> Option<Client> {
    Some(LocalServices::from_env("dynamodb_store")?.dynamodb().await)
}

/// One table per test process, shared by its tests (each test has its own ids).
fn table_name() -> String {
    format!("intaj-conformance-{}", conformance::run_id())
}

async fn dynamodb_store() -> Option<Arc<dyn Store>> {
    let client = client().await?;
    create_table_if_missing(&client, &table_name())
        .await
        .expect("create the test table");
    Some(Arc::new(DynamoDbStore::new(client, table_name())))
}

conformance::conformance_suite!(dynamodb_store());

#[tokio::test]
async fn table_is_created_as_defined_and_creation_is_repeatable() {
    let Some(client) = client().await else { return };
    let name = format!("intaj-definition-{}", conformance::run_id());
    create_table_if_missing(&client, &name).await.unwrap();
    create_table_if_missing(&client, &name)
        .await
        .expect("a second run finds the table");

    let described = client
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .unwrap();
    let table = described.table().unwrap();
    let definition = table_definition();
    let key: Vec<_> = table
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name(), k.key_type().as_str()))
        .collect();
    let expected: Vec<_> = definition
        .key_schema
        .iter()
        .map(|k| (k.name.as_str(), k.key_type.as_str()))
        .collect();
    assert_eq!(key, expected);
    let indexes: Vec<_> = table
        .global_secondary_indexes()
        .iter()
        .filter_map(|i| i.index_name())
        .collect();
    assert_eq!(indexes, ["gsi1"]);
    assert_eq!(
        table
            .stream_specification()
            .and_then(|s| s.stream_view_type()),
        Some(&StreamViewType::NewAndOldImages)
    );
    let ttl = client
        .describe_time_to_live()
        .table_name(&name)
        .send()
        .await
        .unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(ttl.attribute_name(), Some("expiresAt"));
    assert!(matches!(
        ttl.time_to_live_status(),
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
    ));
    client
        .delete_table()
        .table_name(&name)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_malformed_item_is_corrupt_and_a_missing_table_is_unavailable() {
    let Some(client) = client().await else { return };
    let table = table_name();
    create_table_if_missing(&client, &table).await.unwrap();
    let bot = format!("{}-corrupt", conformance::run_id());
    client
        .put_item()
        .table_name(&table)
        .item("pk", AttributeValue::S(format!("BOT#{bot}")))
        .item("sk", AttributeValue::S("CONNECTION".into()))
        .item("botId", AttributeValue::S(bot.clone()))
        .item("createdAt", AttributeValue::S("not a number".into()))
        .send()
        .await
        .unwrap();
    let store = DynamoDbStore::new(client.clone(), table);
    let err = store.connection(&bot).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");

    let missing = DynamoDbStore::new(client, "intaj-no-such-table");
    let err = missing.connection(&bot).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}

/// Messages written by the earlier layout (each status an item `STATUS#{status}` of the
/// message's partition, the current status raised on the head) still read the same, and a
/// status recorded now (an attribute of the head) joins their history.
#[tokio::test]
async fn statuses_of_the_earlier_layout_still_read() {
    let Some(client) = client().await else { return };
    let table = table_name();
    create_table_if_missing(&client, &table).await.unwrap();
    let bot = format!("{}-legacy", conformance::run_id());
    let message = "wamid.LEGACY";
    let pk = format!("BOT#{bot}#MSG#{message}");
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let n = |v: i64| AttributeValue::N(v.to_string());
    client
        .put_item()
        .table_name(&table)
        .item("pk", s(&pk))
        .item("sk", s("MESSAGE"))
        .item("entity", s("message"))
        .item("botId", s(&bot))
        .item("messageId", s(message))
        .item("direction", s("outbound"))
        .item("customerWaId", s("15551234567"))
        .item("phoneNumberId", s("100000000000001"))
        .item("kind", s("text"))
        .item("createdAt", n(100))
        .item("content", s("{}"))
        .item("currentStatus", s("delivered"))
        .item("statusRank", n(2))
        .send()
        .await
        .unwrap();
    for (status, at) in [("sent", 101), ("delivered", 102)] {
        client
            .put_item()
            .table_name(&table)
            .item("pk", s(&pk))
            .item("sk", s(&format!("STATUS#{status}")))
            .item("entity", s("status"))
            .item("botId", s(&bot))
            .item("messageId", s(message))
            .item("status", s(status))
            .item("timestamp", n(at))
            .item("recipientWaId", s("15551234567"))
            .send()
            .await
            .unwrap();
    }
    let store = DynamoDbStore::new(client, table);
    let record = store.message(&bot, message).await.unwrap().unwrap();
    assert_eq!(record.status, Some(MessageStatus::Delivered));
    let history: Vec<_> = record.statuses.iter().map(|e| e.status.clone()).collect();
    assert_eq!(history, [MessageStatus::Sent, MessageStatus::Delivered]);

    let read = StatusEvent {
        message_id: message.into(),
        status: MessageStatus::Read,
        timestamp: 103,
        recipient: CustomerIds::new(Some("15551234567"), None),
        errors: None,
        conversation: None,
        pricing: None,
        biz_opaque_callback_data: None,
    };
    assert_eq!(store.record_status(&bot, &read).await.unwrap(), Claim::New);
    assert_eq!(
        store.record_status(&bot, &read).await.unwrap(),
        Claim::Duplicate
    );
    let record = store.message(&bot, message).await.unwrap().unwrap();
    assert_eq!(record.status, Some(MessageStatus::Read));
    let history: Vec<_> = record.statuses.iter().map(|e| e.status.clone()).collect();
    assert_eq!(
        history,
        [
            MessageStatus::Sent,
            MessageStatus::Delivered,
            MessageStatus::Read
        ]
    );
}

/// Windows written by the earlier layout (a WINDOW item under each id, LINK items both ways)
/// still read by either id, and a message recorded now keeps them whole.
#[tokio::test]
async fn windows_of_the_earlier_layout_still_read() {
    let Some(client) = client().await else { return };
    let table = table_name();
    create_table_if_missing(&client, &table).await.unwrap();
    let bot = format!("{}-legacy-window", conformance::run_id());
    let (wa_id, bsuid) = ("15550001111", "US.5550001111");
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let n = |v: i64| AttributeValue::N(v.to_string());
    for (id, other) in [(wa_id, bsuid), (bsuid, wa_id)] {
        let pk = format!("BOT#{bot}#CUSTOMER#{id}");
        client
            .put_item()
            .table_name(&table)
            .item("pk", s(&pk))
            .item("sk", s("WINDOW"))
            .item("entity", s("window"))
            .item("botId", s(&bot))
            .item("customerId", s(id))
            .item("windowExpiresAt", n(1_000 + 86_400))
            .item("lastInboundAt", n(1_000))
            .send()
            .await
            .unwrap();
        client
            .put_item()
            .table_name(&table)
            .item("pk", s(&pk))
            .item("sk", s("LINK"))
            .item("entity", s("customerLink"))
            .item("botId", s(&bot))
            .item("customerId", s(id))
            .item("otherId", s(other))
            .send()
            .await
            .unwrap();
    }
    let store = DynamoDbStore::new(client, table);
    let opened = |at| Some(ConversationWindow::opened_by(at));
    assert_eq!(store.window(&bot, wa_id).await.unwrap(), opened(1_000));
    assert_eq!(store.window(&bot, bsuid).await.unwrap(), opened(1_000));

    // A later phone-only message (kept under the wa_id) is seen by the BSUID through the link.
    store
        .extend_window(&bot, &CustomerIds::new(Some(wa_id), None), 2_000)
        .await
        .unwrap();
    assert_eq!(store.window(&bot, bsuid).await.unwrap(), opened(2_000));
    // And a later one with both ids (kept under the BSUID) by the wa_id.
    store
        .extend_window(&bot, &CustomerIds::new(Some(wa_id), Some(bsuid)), 3_000)
        .await
        .unwrap();
    assert_eq!(store.window(&bot, wa_id).await.unwrap(), opened(3_000));
    assert_eq!(store.window(&bot, bsuid).await.unwrap(), opened(3_000));
}

//! What `template.yaml` lets a function do to the table, to hold against the DynamoDB requests
//! its handler was seen to make.

use std::collections::BTreeSet;
use std::sync::Arc;

use intaj_dev::simulator::{InboundMessage as CustomerMessage, SimulatorHandle};
use intaj_shared::adapters::MemorySecrets;
use intaj_shared::clock::unix_now;
use intaj_shared::connecting::connect;
use intaj_shared::domain::{CustomerIds, InboundMessage};
use intaj_shared::ports::Store;
use serde_norway::Value;

use crate::{DynamoDbRequests, LocalServices, SentRequest, demo_connection, workspace_root};

/// What a function's policies let it do to the table: each DynamoDB operation allowed, on the
/// table (`GetItem`) or on an index (`Query on gsi1`). Panics on a DynamoDB policy template
/// (`DynamoDBCrudPolicy`, …), which would allow more than any list says, and on an index
/// wildcard.
pub fn allowed_table_access(function: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    let template: Value = serde_norway::from_str(&text).unwrap();
    let policies = template["Resources"][function]["Properties"]["Policies"]
        .as_sequence()
        .unwrap_or_else(|| panic!("the policies of {function}"));
    let mut allowed = BTreeSet::new();
    for policy in policies {
        let Some(statements) = policy["Statement"].as_sequence() else {
            // A SAM policy template or a managed policy: about the table only if DynamoDB's.
            let name = match policy {
                Value::Mapping(template) => template.keys().next().and_then(Value::as_str),
                other => other.as_str(),
            };
            assert!(
                !name.unwrap_or_default().contains("DynamoDB"),
                "{function}: {policy:?} allows more than any list says; write its statement"
            );
            continue;
        };
        for statement in statements {
            assert_eq!(statement["Effect"], "Allow");
            for action in one_or_many(&statement["Action"]) {
                let Some(operation) = action.as_str().unwrap().strip_prefix("dynamodb:") else {
                    continue;
                };
                for resource in one_or_many(&statement["Resource"]) {
                    allowed.insert(access(operation, index_of(resource).as_deref()));
                }
            }
        }
    }
    allowed
}

/// What one request did, in [`allowed_table_access`]'s terms (a transaction: each kind of
/// item it holds).
pub fn access_of(request: &SentRequest) -> impl Iterator<Item = String> + '_ {
    request
        .actions
        .iter()
        .map(|action| access(action, request.index.as_deref()))
}

fn access(operation: &str, index: Option<&str>) -> String {
    match index {
        Some(index) => format!("{operation} on {index}"),
        None => operation.to_owned(),
    }
}

fn one_or_many(value: &Value) -> Vec<&Value> {
    match value {
        Value::Sequence(values) => values.iter().collect(),
        value => vec![value],
    }
}

/// The index a resource names (`${Table.Arn}/index/gsi1`), or none for the table itself.
fn index_of(resource: &Value) -> Option<String> {
    let text = format!("{resource:?}");
    let (_, rest) = text.split_once("/index/")?;
    let name: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .collect();
    assert!(!name.is_empty(), "name the index, not a wildcard: {text}");
    Some(name)
}

/// A function's table on DynamoDB Local with the demo connection (SPEC §9), every request counted:
/// what a function's handler does to it, set against what its policy allows.
pub struct CountedTable {
    pub store: Arc<dyn Store>,
    pub secrets: Arc<MemorySecrets>,
    requests: DynamoDbRequests,
    /// What the function was seen to do, in [`allowed_table_access`]'s terms.
    seen: BTreeSet<String>,
}

impl CountedTable {
    pub async fn with_demo_connection(services: &LocalServices, name: &str) -> Self {
        let (store, requests) = crate::counted_store(services, name).await;
        let secrets = Arc::new(MemorySecrets::new());
        connect(
            store.as_ref(),
            secrets.as_ref(),
            &demo_connection(),
            unix_now(),
        )
        .await
        .unwrap();
        let table = Self {
            store,
            secrets,
            requests,
            seen: BTreeSet::new(),
        };
        table.forget();
        table
    }

    /// `customer` writes to the demo number: Meta (the simulator) knows them, and their message
    /// is recorded as the webhook records it, which opens their window. Not counted as the
    /// function's. Returns the message's id.
    pub async fn customer_wrote(&self, meta: &SimulatorHandle, customer: &str) -> String {
        let written = meta
            .inbound(CustomerMessage::text(customer, "hi"))
            .await
            .unwrap();
        let message = InboundMessage {
            message_id: written.message_id.clone(),
            customer: CustomerIds::new(Some(customer), None),
            phone_number_id: "100000000000001".into(),
            kind: "text".into(),
            timestamp: unix_now(),
            profile_name: None,
            content: serde_json::json!({"type": "text", "text": {"body": "hi"}}).to_string(),
        };
        self.store
            .record_customer_message("demo", message)
            .await
            .unwrap();
        self.forget();
        written.message_id
    }

    /// Every request to the table, as the counter records it.
    pub fn requests(&self) -> &DynamoDbRequests {
        &self.requests
    }

    /// Counts the requests made since the last call as the function's.
    pub fn collect(&mut self) {
        self.seen
            .extend(self.requests.sent().iter().flat_map(access_of));
        self.requests.reset();
    }

    /// Drops the requests made since the last call: the test's own set-up, not the function's.
    pub fn forget(&self) {
        self.requests.reset();
    }

    /// The function's policies in `template.yaml` allow exactly what it was seen to do.
    pub fn assert_exactly_allowed_by(&mut self, function: &str) {
        self.collect();
        assert_eq!(self.seen, allowed_table_access(function), "{function}");
    }
}

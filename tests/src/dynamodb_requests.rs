//! Counts the DynamoDB requests a client sends, by operation and by the keys they write, and the
//! write units DynamoDB charged for them, so that tests can hold the store to its write budget
//! (DynamoDB writes are most of a deployment's bill).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use serde_json::Value;

/// One request as sent: its operation (`UpdateItem`, …), the index it reads if any, the
/// `(pk, sk)` of every item it writes (none for reads), when it went out and its answer came
/// back, and the write units DynamoDB reported for it (`None` for reads and refused writes,
/// which DynamoDB Local reports nothing for).
#[derive(Debug, Clone, PartialEq)]
pub struct SentRequest {
    pub operation: String,
    /// The IAM actions it needs: its operation's own, or for a transaction each of its items'
    /// (`PutItem`, `UpdateItem`, `DeleteItem`, `ConditionCheckItem`).
    pub actions: Vec<String>,
    pub index: Option<String>,
    pub writes: Vec<(String, String)>,
    pub started: Instant,
    pub ended: Option<Instant>,
    pub write_units: Option<f64>,
}

/// An interceptor to add to a DynamoDB client's config; clones share one record.
#[derive(Debug, Default, Clone)]
pub struct DynamoDbRequests {
    sent: Arc<Mutex<Vec<SentRequest>>>,
}

impl DynamoDbRequests {
    /// A client of `config` that records through this counter.
    pub fn client(&self, config: aws_sdk_dynamodb::Config) -> aws_sdk_dynamodb::Client {
        let config = config.to_builder().interceptor(self.clone()).build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    pub fn sent(&self) -> Vec<SentRequest> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn reset(&self) {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Write requests sent (a batch counts once).
    pub fn write_requests(&self) -> usize {
        self.sent().iter().filter(|r| !r.writes.is_empty()).count()
    }

    /// Requests one after another: requests that overlap in time count as one round trip.
    pub fn sequential_round_trips(&self) -> usize {
        round_trips(self.sent())
    }

    /// The same, counting write requests only.
    pub fn sequential_write_round_trips(&self) -> usize {
        round_trips(
            self.sent()
                .into_iter()
                .filter(|r| !r.writes.is_empty())
                .collect(),
        )
    }

    /// Write units DynamoDB charged for the writes it accepted.
    pub fn write_units(&self) -> f64 {
        self.sent()
            .iter()
            .filter_map(|r| r.write_units)
            .fold(0.0, |total, units| total + units)
    }

    /// Write requests DynamoDB refused (a failed condition), which it charges by the item's
    /// size too (at least one unit each) but DynamoDB Local reports nothing for.
    pub fn refused_writes(&self) -> usize {
        self.sent()
            .iter()
            .filter(|r| !r.writes.is_empty() && r.write_units.is_none())
            .count()
    }

    /// Items written whose sort key satisfies `sk` (a batch counts each item).
    pub fn items_written(&self, sk: impl Fn(&str) -> bool) -> usize {
        self.sent()
            .iter()
            .flat_map(|r| &r.writes)
            .filter(|(_, item_sk)| sk(item_sk))
            .count()
    }
}

fn round_trips(mut sent: Vec<SentRequest>) -> usize {
    sent.sort_by_key(|r| r.started);
    let mut trips = 0;
    let mut last_end: Option<Instant> = None;
    for request in sent {
        let ended = request.ended.unwrap_or(request.started);
        match last_end {
            Some(end) if request.started <= end => last_end = Some(end.max(ended)),
            _ => {
                trips += 1;
                last_end = Some(ended);
            }
        }
    }
    trips
}

impl Intercept for DynamoDbRequests {
    fn name(&self) -> &'static str {
        "DynamoDbRequests"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let operation = request
            .headers()
            .get("x-amz-target")
            .and_then(|target| target.rsplit('.').next())
            .unwrap_or_default()
            .to_owned();
        let body: Value = request
            .body()
            .bytes()
            .and_then(|bytes| serde_json::from_slice(bytes).ok())
            .unwrap_or(Value::Null);
        let writes = written_keys(&operation, &body);
        let actions = iam_actions(&operation, &body);
        let mut sent = self.sent.lock().unwrap_or_else(PoisonError::into_inner);
        // The attempt's own config bag carries its index to the other end of the attempt.
        cfg.interceptor_state().store_put(SentIndex(sent.len()));
        sent.push(SentRequest {
            operation,
            actions,
            index: body["IndexName"].as_str().map(str::to_owned),
            writes,
            started: Instant::now(),
            ended: None,
            write_units: None,
        });
        Ok(())
    }

    /// Asks DynamoDB to report the capacity each write consumed (before signing: it is part of
    /// the signed body).
    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let is_write = request
            .headers()
            .get("x-amz-target")
            .and_then(|target| target.rsplit('.').next())
            .is_some_and(|operation| WRITE_OPERATIONS.contains(&operation));
        let Some(mut body) = request
            .body()
            .bytes()
            .and_then(|bytes| serde_json::from_slice::<Value>(bytes).ok())
        else {
            return Ok(());
        };
        if !is_write || body.get("ReturnConsumedCapacity").is_some() {
            return Ok(());
        }
        body["ReturnConsumedCapacity"] = Value::from("TOTAL");
        let bytes = serde_json::to_vec(&body)?;
        request
            .headers_mut()
            .insert("content-length", bytes.len().to_string());
        *request.body_mut() = SdkBody::from(bytes);
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let units = context
            .response()
            .body()
            .bytes()
            .and_then(|bytes| serde_json::from_slice::<Value>(bytes).ok())
            .and_then(|body| consumed_units(&body["ConsumedCapacity"]));
        if let (Some(units), Some(SentIndex(index))) = (units, cfg.load::<SentIndex>()) {
            let mut sent = self.sent.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(entry) = sent.get_mut(*index) {
                entry.write_units = Some(units);
            }
        }
        Ok(())
    }

    fn read_after_attempt(
        &self,
        _: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(SentIndex(index)) = cfg.load::<SentIndex>() {
            let mut sent = self.sent.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(entry) = sent.get_mut(*index) {
                entry.ended = Some(Instant::now());
            }
        }
        Ok(())
    }
}

/// Which [`SentRequest`] an attempt is, kept in the attempt's config bag.
#[derive(Debug, Clone)]
struct SentIndex(usize);

impl Storable for SentIndex {
    type Storer = StoreReplace<Self>;
}

const WRITE_OPERATIONS: &[&str] = &[
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
];

/// `ConsumedCapacity` of one table (single-item writes) or a list of them (batches).
fn consumed_units(capacity: &Value) -> Option<f64> {
    match capacity {
        Value::Object(_) => capacity["CapacityUnits"].as_f64(),
        Value::Array(tables) => tables.iter().map(|t| t["CapacityUnits"].as_f64()).sum(),
        _ => None,
    }
}

/// IAM authorises a transaction by the actions of its items, not by its own name (DynamoDB
/// developer guide, "Using IAM with DynamoDB transactions").
fn iam_actions(operation: &str, body: &Value) -> Vec<String> {
    if operation != "TransactWriteItems" {
        return vec![operation.to_owned()];
    }
    let mut actions: Vec<String> = body["TransactItems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| {
            let kind = item.as_object()?.keys().next()?;
            Some(match kind.as_str() {
                "ConditionCheck" => "ConditionCheckItem".to_owned(),
                kind => format!("{kind}Item"),
            })
        })
        .collect();
    actions.sort();
    actions.dedup();
    actions
}

/// The keys a write request writes, from its JSON body.
fn written_keys(operation: &str, body: &Value) -> Vec<(String, String)> {
    let key = |item: &Value| {
        let s = |name: &str| item[name]["S"].as_str().unwrap_or_default().to_owned();
        (s("pk"), s("sk"))
    };
    match operation {
        "PutItem" => vec![key(&body["Item"])],
        "UpdateItem" | "DeleteItem" => vec![key(&body["Key"])],
        "BatchWriteItem" => body["RequestItems"]
            .as_object()
            .into_iter()
            .flat_map(|tables| tables.values())
            .flat_map(|requests| requests.as_array().into_iter().flatten())
            .map(|request| match request.get("PutRequest") {
                Some(put) => key(&put["Item"]),
                None => key(&request["DeleteRequest"]["Key"]),
            })
            .collect(),
        "TransactWriteItems" => body["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|item| {
                if let Some(put) = item.get("Put") {
                    Some(key(&put["Item"]))
                } else {
                    ["Update", "Delete"]
                        .iter()
                        .find_map(|kind| item.get(*kind).map(|write| key(&write["Key"])))
                }
            })
            .collect(),
        _ => Vec::new(),
    }
}

//! What the request tests of every kind share.

use serde_json::{Value, json};

use super::{SendRequest, ValidatedSend, ValidationError};

pub(super) fn send(body: Value) -> Result<ValidatedSend, ValidationError> {
    serde_json::from_value::<SendRequest>(body)
        .expect("the envelope parses")
        .validate()
}

pub(super) fn meta(body: Value) -> Value {
    let sent = send(body.clone()).unwrap_or_else(|e| panic!("{body}: {e:?}"));
    serde_json::to_value(&sent.outbound).unwrap()
}

pub(super) fn envelope(kind: &str, object: Value) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "15551234567",
        "type": kind,
        kind: object,
    })
}

pub(super) fn chars(n: usize) -> String {
    "a".repeat(n)
}

pub(super) fn assert_sends(cases: Vec<(Value, Value)>) {
    for (body, want) in cases {
        assert_eq!(meta(body.clone()), want, "{body}");
    }
}

pub(super) fn assert_refused(cases: Vec<(&str, Value)>) {
    for (code, body) in cases {
        match send(body.clone()) {
            Ok(sent) => panic!("{body} was accepted as {:?}, want {code}", sent.outbound),
            Err(e) => assert_eq!(e.code, code, "{body}: {}", e.message),
        }
    }
}

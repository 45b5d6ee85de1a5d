//! The receipt's one-pass typed parse (`shared/src/whatsapp/webhook.rs`: `MessagesPayload`, then
//! each message's `MessageEnvelope`, as `functions/webhook/benches/support::typed_parse` runs
//! it), written twice: once over serde_json, once over sonic-rs. The types are a copy of the
//! product's; the one difference is the verbatim part of a message or status, serde_json's
//! `&RawValue` there and sonic-rs's `LazyValue` here (each parser reads only its own).

use std::borrow::Cow;

use serde::Deserialize;

macro_rules! one_pass_types {
    ($module:ident, $verbatim:ty) => {
        pub mod $module {
            use super::*;

            #[derive(Debug, Deserialize)]
            pub struct MessagesPayload<'a> {
                #[serde(borrow)]
                pub object: Cow<'a, str>,
                #[serde(default, borrow)]
                pub entry: Vec<MessagesEntry<'a>>,
            }

            #[derive(Debug, Deserialize)]
            pub struct MessagesEntry<'a> {
                #[serde(default, borrow)]
                pub changes: Vec<MessagesChange<'a>>,
            }

            #[derive(Debug, Deserialize)]
            pub struct MessagesChange<'a> {
                #[serde(borrow)]
                pub field: Cow<'a, str>,
                #[serde(borrow)]
                pub value: MessagesValue<'a>,
            }

            #[derive(Debug, Deserialize)]
            pub struct MessagesValue<'a> {
                #[serde(default, borrow)]
                pub messaging_product: Option<Cow<'a, str>>,
                #[serde(borrow)]
                pub metadata: Metadata<'a>,
                #[serde(default, borrow)]
                pub contacts: Vec<ContactProfile<'a>>,
                #[serde(default, borrow)]
                pub messages: Vec<$verbatim>,
                #[serde(default, borrow)]
                pub statuses: Vec<Status<'a>>,
                #[serde(default, borrow)]
                pub errors: Vec<MetaError<'a>>,
            }

            #[derive(Debug, Deserialize)]
            pub struct Metadata<'a> {
                #[serde(default, borrow)]
                pub display_phone_number: Option<Cow<'a, str>>,
                #[serde(borrow)]
                pub phone_number_id: Cow<'a, str>,
            }

            #[derive(Debug, Deserialize)]
            pub struct ContactProfile<'a> {
                #[serde(default, borrow)]
                pub wa_id: Option<Cow<'a, str>>,
                #[serde(default, borrow)]
                pub user_id: Option<Cow<'a, str>>,
                #[serde(default, borrow)]
                pub profile: Option<Profile<'a>>,
            }

            #[derive(Debug, Deserialize)]
            pub struct Profile<'a> {
                #[serde(default, borrow)]
                pub name: Option<Cow<'a, str>>,
            }

            #[derive(Debug, Deserialize)]
            pub struct MessageEnvelope<'a> {
                #[serde(borrow)]
                pub id: Cow<'a, str>,
                #[serde(default, borrow)]
                pub from: Option<Cow<'a, str>>,
                #[serde(default, borrow)]
                pub from_user_id: Option<Cow<'a, str>>,
                #[serde(default, borrow)]
                pub timestamp: Option<Cow<'a, str>>,
                #[serde(rename = "type", borrow)]
                pub kind: Cow<'a, str>,
            }

            #[derive(Debug, Deserialize)]
            pub struct Status<'a> {
                #[serde(borrow)]
                pub id: Cow<'a, str>,
                #[serde(borrow)]
                pub status: Cow<'a, str>,
                #[serde(default, borrow)]
                pub timestamp: Option<Cow<'a, str>>,
                #[serde(default, borrow)]
                pub recipient_id: Option<Cow<'a, str>>,
                #[serde(default, borrow)]
                pub recipient_user_id: Option<Cow<'a, str>>,
                #[serde(default, borrow)]
                pub biz_opaque_callback_data: Option<Cow<'a, str>>,
                #[serde(default, borrow)]
                pub conversation: Option<$verbatim>,
                #[serde(default, borrow)]
                pub pricing: Option<$verbatim>,
                #[serde(default, borrow)]
                pub errors: Option<$verbatim>,
            }

            #[derive(Debug, Deserialize)]
            pub struct MetaError<'a> {
                pub code: i64,
                #[serde(default, borrow)]
                pub title: Option<Cow<'a, str>>,
                #[serde(default, borrow)]
                pub message: Option<Cow<'a, str>>,
                #[serde(default, borrow)]
                pub href: Option<Cow<'a, str>>,
            }
        }
    };
}

one_pass_types!(with_serde_json, &'a serde_json::value::RawValue);
one_pass_types!(with_sonic_rs, sonic_rs::LazyValue<'a>);

/// What a parse found, to hold the two parsers to the same reading: each message's id, type
/// and verbatim text, each status's id and status, in order. `None` where the one-pass read
/// does not apply (the receipt then reads the body layered).
#[derive(Debug, PartialEq, Eq)]
pub struct Read {
    pub messages: Vec<(String, String, String)>,
    pub statuses: Vec<(String, String)>,
}

/// The bench's floor, as `typed_parse` runs it: the body checked as UTF-8 once, then parsed.
pub fn serde_json_parse(body: &[u8]) -> Option<Read> {
    use with_serde_json::{MessageEnvelope, MessagesPayload};
    let text = std::str::from_utf8(body).ok()?;
    let payload: MessagesPayload = serde_json::from_str(text).ok()?;
    let mut read = Read {
        messages: Vec::new(),
        statuses: Vec::new(),
    };
    for change in payload.entry.iter().flat_map(|e| &e.changes) {
        for message in &change.value.messages {
            let envelope: MessageEnvelope = serde_json::from_str(message.get()).ok()?;
            read.messages.push((
                envelope.id.into(),
                envelope.kind.into(),
                message.get().into(),
            ));
        }
        for status in &change.value.statuses {
            read.statuses
                .push((status.id.to_string(), status.status.to_string()));
        }
    }
    Some(read)
}

/// The same over sonic-rs, which checks UTF-8 as it parses.
pub fn sonic_rs_parse(body: &[u8]) -> Option<Read> {
    use with_sonic_rs::{MessageEnvelope, MessagesPayload};
    let payload: MessagesPayload = sonic_rs::from_slice(body).ok()?;
    let mut read = Read {
        messages: Vec::new(),
        statuses: Vec::new(),
    };
    for change in payload.entry.iter().flat_map(|e| &e.changes) {
        for message in &change.value.messages {
            let envelope: MessageEnvelope = sonic_rs::from_str(message.as_raw_str()).ok()?;
            read.messages.push((
                envelope.id.into(),
                envelope.kind.into(),
                message.as_raw_str().into(),
            ));
        }
        for status in &change.value.statuses {
            read.statuses
                .push((status.id.to_string(), status.status.to_string()));
        }
    }
    Some(read)
}

/// A body of `shared/tests/fixtures/webhooks`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../shared/tests/fixtures/webhooks/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(path).expect("a fixture of shared/tests/fixtures/webhooks")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every fixture is read alike by both, verbatim parts included, or by neither.
    #[test]
    fn both_parsers_read_every_fixture_alike() {
        let dir = format!(
            "{}/../../shared/tests/fixtures/webhooks",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut one_pass = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if !name.ends_with(".json") {
                continue;
            }
            let body = fixture(&name);
            let read = serde_json_parse(&body);
            one_pass += usize::from(read.is_some());
            assert_eq!(sonic_rs_parse(&body), read, "{name}");
        }
        assert!(one_pass > 30, "only {one_pass} fixtures read in one pass");
    }
}

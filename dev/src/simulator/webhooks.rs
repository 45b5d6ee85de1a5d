//! Outgoing webhooks: Meta's payloads, encoded the way Meta encodes them (non-ASCII as `\uXXXX`,
//! `/` as `\/`), signed with `X-Hub-Signature-256` under the number's app secret, and delivered
//! with a few retries. Status webhooks (sent → delivered → read, or failed) run in a background
//! task per accepted message.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use intaj_shared::whatsapp::signature::{SIGNATURE_HEADER, sign};
use serde::Serialize;
use tokio::sync::watch;

use super::config::SimulatedNumber;
use super::errors::{WebhookError, webhook_error};
use super::ids;
use super::state::{Conversation, State, lock};
use super::validation::Recipient;

/// `object` of every WhatsApp webhook.
const OBJECT: &str = "whatsapp_business_account";
const CONVERSATION_LIFETIME_SECS: u64 = 24 * 60 * 60;

#[derive(Debug, Serialize)]
pub(crate) struct WebhookPayload<V> {
    object: &'static str,
    entry: Vec<Entry<V>>,
}

#[derive(Debug, Serialize)]
struct Entry<V> {
    id: String,
    /// Unix seconds; Meta sends it on account-level changes such as template status updates.
    #[serde(skip_serializing_if = "Option::is_none")]
    time: Option<u64>,
    changes: Vec<Change<V>>,
}

#[derive(Debug, Serialize)]
struct Change<V> {
    value: V,
    field: &'static str,
}

/// `value.metadata`: which business number the change is about.
#[derive(Debug, Serialize)]
pub(crate) struct Metadata {
    display_phone_number: String,
    phone_number_id: String,
}

impl Metadata {
    pub fn of(number: &SimulatedNumber) -> Self {
        Self {
            display_phone_number: number.display_phone_number.clone(),
            phone_number_id: number.phone_number_id.clone(),
        }
    }
}

/// Wraps a `messages` change value in Meta's envelope for `number`'s WABA.
pub(crate) fn envelope<V: Serialize>(number: &SimulatedNumber, value: V) -> WebhookPayload<V> {
    WebhookPayload {
        object: OBJECT,
        entry: vec![Entry {
            id: number.waba_id.clone(),
            time: None,
            changes: vec![Change {
                value,
                field: "messages",
            }],
        }],
    }
}

/// Wraps an account-level change (e.g. `message_template_status_update`) of `waba_id` in Meta's
/// envelope, with the entry's `time`.
pub(crate) fn account_envelope<V: Serialize>(
    waba_id: &str,
    field: &'static str,
    value: V,
) -> WebhookPayload<V> {
    WebhookPayload {
        object: OBJECT,
        entry: vec![Entry {
            id: waba_id.to_owned(),
            time: Some(ids::unix_now()),
            changes: vec![Change { value, field }],
        }],
    }
}

#[derive(Debug, Serialize)]
struct StatusValue {
    messaging_product: &'static str,
    metadata: Metadata,
    statuses: Vec<StatusObject>,
}

#[derive(Debug, Serialize)]
struct StatusObject {
    id: String,
    status: &'static str,
    timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient_user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conversation: Option<ConversationObject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pricing: Option<Pricing>,
    #[serde(skip_serializing_if = "Option::is_none")]
    biz_opaque_callback_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<WebhookError>>,
}

#[derive(Debug, Serialize)]
struct ConversationObject {
    id: String,
    /// Only on `sent`, as Meta does.
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration_timestamp: Option<String>,
    origin: Origin,
}

#[derive(Debug, Serialize)]
struct Origin {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Debug, Serialize)]
struct Pricing {
    billable: bool,
    pricing_model: &'static str,
    category: String,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// Serialises like Meta: `\uXXXX` for every non-ASCII character, `\/` for `/`. The signature
/// covers these exact bytes, so receivers must not re-serialise before checking it.
struct MetaFormatter;

impl serde_json::ser::Formatter for MetaFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (index, character) in fragment.char_indices() {
            if character.is_ascii() && character != '/' {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..index])?;
            if character == '/' {
                writer.write_all(b"\\/")?;
            } else {
                let mut units = [0u16; 2];
                for unit in character.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
            }
            start = index + character.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// The exact bytes Meta would post for `payload`.
pub(crate) fn encode<T: Serialize>(payload: &T) -> Vec<u8> {
    let mut body = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut body, MetaFormatter);
    payload
        .serialize(&mut serializer)
        .expect("webhook payloads are plain data and always serialise");
    body
}

/// POSTs `body` to `url`, signed with `app_secret`; answers the receiver's status.
pub(crate) async fn post_signed(
    state: &State,
    url: &str,
    app_secret: &str,
    body: Vec<u8>,
) -> Result<StatusCode, reqwest::Error> {
    let signature = sign(app_secret.as_bytes(), &body);
    let response = state
        .http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(body)
        .send()
        .await?;
    Ok(StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY))
}

/// Sleeps `duration` unless the simulator shuts down first; answers whether it is still running.
async fn pause(duration: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    if duration.is_zero() {
        return !*shutdown.borrow();
    }
    let stopped = tokio::select! {
        () = tokio::time::sleep(duration) => false,
        _ = shutdown.wait_for(|stopped| *stopped) => true,
    };
    !stopped && !*shutdown.borrow()
}

/// How the last attempt of a webhook delivery went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DeliveryOutcome {
    /// The receiver's HTTP status (2xx, or the last refusal).
    Answered(StatusCode),
    /// The receiver could not be reached, or the simulator stopped first.
    Failed(String),
}

/// Delivers with up to `state.webhook_attempts` tries while the receiver answers non-2xx or
/// cannot be reached, backing off between tries.
pub(crate) async fn deliver_with_retry(
    state: &State,
    number: &SimulatedNumber,
    url: &str,
    body: Vec<u8>,
) -> DeliveryOutcome {
    let mut shutdown = state.shutdown.subscribe();
    let mut backoff = state.webhook_retry_backoff;
    let mut outcome = DeliveryOutcome::Failed("the simulator is stopping".to_owned());
    for attempt in 1..=state.webhook_attempts {
        match post_signed(state, url, &number.app_secret, body.clone()).await {
            Ok(status) if status.is_success() => return DeliveryOutcome::Answered(status),
            Ok(status) => {
                tracing::warn!(%url, %status, attempt, "webhook refused");
                outcome = DeliveryOutcome::Answered(status);
            }
            Err(error) => {
                tracing::warn!(%url, %error, attempt, "webhook not delivered");
                outcome = DeliveryOutcome::Failed(error.to_string());
            }
        }
        if attempt == state.webhook_attempts || !pause(backoff, &mut shutdown).await {
            break;
        }
        backoff = backoff.saturating_mul(2);
    }
    tracing::warn!(%url, attempts = state.webhook_attempts, "webhook given up");
    outcome
}

/// A message the simulator accepted, as its status webhooks need it.
#[derive(Debug, Clone)]
pub(crate) struct AcceptedMessage {
    pub id: String,
    pub phone_number_id: String,
    pub recipient: Recipient,
    /// `service` for a free-form message, else the template's category (lowercase).
    pub category: String,
    pub biz_opaque_callback_data: Option<String>,
    /// A failure to report asynchronously instead of sent / delivered / read.
    pub failure_code: Option<u32>,
}

/// Starts the background task that reports `message`'s statuses in order.
pub(crate) fn spawn_status_updates(state: Arc<State>, message: AcceptedMessage) {
    tokio::spawn(async move {
        let mut shutdown = state.shutdown.subscribe();
        let steps: &[&'static str] = if message.failure_code.is_some() {
            &["failed"]
        } else {
            &["sent", "delivered", "read"]
        };
        for &status in steps {
            if !pause(state.settings().status_delay, &mut shutdown).await {
                return;
            }
            state.set_outbox_status(&message.id, status);
            // Read the number again: its webhook URL may have changed since the message was sent.
            let Some(number) = state.number(&message.phone_number_id) else {
                return;
            };
            let Some(url) = number.webhook_url.clone() else {
                continue;
            };
            let value = status_value(&state, &number, &message, status);
            let body = encode(&envelope(&number, value));
            deliver_with_retry(&state, &number, &url, body).await;
        }
    });
}

fn status_value(
    state: &State,
    number: &SimulatedNumber,
    message: &AcceptedMessage,
    status: &'static str,
) -> StatusValue {
    let (recipient_id, recipient_user_id) = match &message.recipient {
        Recipient::Phone(digits) => (Some(digits.clone()), None),
        Recipient::UserId(user_id) => (None, Some(user_id.clone())),
    };
    let billing = matches!(status, "sent" | "delivered");
    let conversation = billing.then(|| {
        let conversation = conversation(
            state,
            &message.phone_number_id,
            message.recipient.key(),
            &message.category,
        );
        ConversationObject {
            id: conversation.id,
            expiration_timestamp: (status == "sent").then(|| conversation.expires_at.to_string()),
            origin: Origin {
                kind: message.category.clone(),
            },
        }
    });
    let service = message.category == "service";
    let pricing = billing.then(|| Pricing {
        // Under per-message pricing, free-form replies inside the customer service window are free.
        billable: !service,
        pricing_model: "PMP",
        category: message.category.clone(),
        kind: if service {
            "free_customer_service"
        } else {
            "regular"
        },
    });
    StatusValue {
        messaging_product: "whatsapp",
        metadata: Metadata::of(number),
        statuses: vec![StatusObject {
            id: message.id.clone(),
            status,
            timestamp: ids::unix_now().to_string(),
            recipient_id,
            recipient_user_id,
            conversation,
            pricing,
            biz_opaque_callback_data: message.biz_opaque_callback_data.clone(),
            errors: message.failure_code.map(|code| vec![webhook_error(code)]),
        }],
    }
}

/// The open conversation of (number, recipient, category), opened for 24 hours when none is.
fn conversation(
    state: &State,
    phone_number_id: &str,
    recipient: &str,
    category: &str,
) -> Conversation {
    let now = ids::unix_now();
    let mut conversations = lock(&state.conversations);
    let key = (
        phone_number_id.to_owned(),
        recipient.to_owned(),
        category.to_owned(),
    );
    let conversation = conversations.entry(key).or_insert_with(|| Conversation {
        id: ids::conversation_id(),
        expires_at: now + CONVERSATION_LIFETIME_SECS,
    });
    if conversation.expires_at <= now {
        *conversation = Conversation {
            id: ids::conversation_id(),
            expires_at: now + CONVERSATION_LIFETIME_SECS,
        };
    }
    conversation.clone()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn encoding_escapes_like_meta() {
        let body = encode(&json!({"text": "café 👍 https://x.y/z \"q\""}));
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"text":"caf\u00e9 \ud83d\udc4d https:\/\/x.y\/z \"q\""}"#
        );
    }

    #[test]
    fn escaped_bodies_still_parse_to_the_same_text() {
        let original = json!({"text": "مرحبا / hello"});
        let parsed: serde_json::Value = serde_json::from_slice(&encode(&original)).unwrap();
        assert_eq!(parsed, original);
    }
}

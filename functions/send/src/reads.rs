//! `GET /api/whatsapp/messages/{messageId}`, `GET /api/whatsapp/conversations/{phone}`, and
//! `PUT /api/whatsapp/conversations/{phone}/responder` (a person takes the conversation over).

use http::StatusCode;
use intaj_shared::api::{ApiError, json};
use intaj_shared::domain::{Direction, MessageRecord, ResponderPause};
use intaj_shared::ports::{MessageStore, WindowStore};
use intaj_shared::whatsapp::phone::Recipient;
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MessageView<'a> {
    message_id: &'a str,
    direction: Option<Direction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<&'a str>,
    #[serde(rename = "type")]
    kind: Option<&'a str>,
    status: Option<&'a str>,
    statuses: Vec<StatusView<'a>>,
    /// Unix seconds.
    created_at: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusView<'a> {
    status: &'a str,
    timestamp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<serde_json::Value>,
}

pub async fn message(
    messages: &dyn MessageStore,
    bot_id: &str,
    message_id: &str,
) -> Result<http::Response<String>, ApiError> {
    let record = messages.message(bot_id, message_id).await?;
    // Another bot's message is indistinguishable from one that does not exist.
    let record = record.ok_or_else(|| {
        ApiError::not_found(
            "message_not_found",
            format!("no message {message_id} for this API key"),
        )
    })?;
    Ok(json(StatusCode::OK, &view(&record)))
}

fn view(record: &MessageRecord) -> MessageView<'_> {
    let customer = record.customer.stable_id();
    // Meta sends statuses only for messages the business sent: a message known only by its
    // statuses was sent from elsewhere (WhatsApp Manager, another tool), so it is outbound.
    let direction = record
        .direction
        .or_else(|| (!record.statuses.is_empty()).then_some(Direction::Outbound));
    let (from, to) = match direction {
        Some(Direction::Inbound) => (customer, None),
        _ => (
            None,
            customer.or_else(|| record.statuses.iter().find_map(|s| s.recipient.stable_id())),
        ),
    };
    MessageView {
        message_id: &record.message_id,
        direction,
        from,
        to,
        kind: record.kind.as_deref(),
        // Meta reports no delivery states for what customers send: it was received.
        status: match direction {
            Some(Direction::Inbound) => Some("received"),
            _ => record.status.as_ref().map(|s| s.as_str()),
        },
        statuses: record
            .statuses
            .iter()
            .map(|s| StatusView {
                status: s.status.as_str(),
                timestamp: s.timestamp,
                errors: s
                    .errors
                    .as_deref()
                    .and_then(|e| serde_json::from_str(e).ok()),
            })
            .collect(),
        created_at: record
            .created_at
            .or_else(|| record.statuses.iter().map(|s| s.timestamp).min()),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConversationView {
    phone: String,
    window_open: bool,
    window_expires_at: Option<i64>,
    last_inbound_at: Option<i64>,
    /// The bot does not answer this customer now (a person took over).
    responder_paused: bool,
    /// Until when, when the pause has an end (unix seconds).
    responder_paused_until: Option<i64>,
}

pub async fn conversation(
    windows: &dyn WindowStore,
    bot_id: &str,
    phone: &str,
    now: i64,
) -> Result<http::Response<String>, ApiError> {
    let customer = customer_id(phone)?;
    Ok(json(
        StatusCode::OK,
        &conversation_view(windows, bot_id, customer, now).await?,
    ))
}

/// A pause with an end is at most this long; a longer `until` is a time in milliseconds.
const MAX_PAUSE_SECONDS: i64 = 366 * 24 * 60 * 60;

/// `{"paused":true,"until"?:<unix seconds>}` pauses the bot for this customer (messages are
/// still recorded); `{"paused":false}` resumes it.
#[derive(Deserialize)]
#[serde(expecting = "a JSON object")]
#[serde(deny_unknown_fields)]
struct ResponderChange {
    paused: bool,
    #[serde(default)]
    until: Option<i64>,
}

pub async fn set_responder(
    windows: &dyn WindowStore,
    bot_id: &str,
    phone: &str,
    body: &[u8],
    now: i64,
) -> Result<http::Response<String>, ApiError> {
    let customer = customer_id(phone)?;
    let change: ResponderChange = intaj_shared::api::json_object(body).map_err(|_| {
        ApiError::bad_request(
            "invalid_json",
            "the body must be {\"paused\":true|false,\"until\"?:<unix seconds>}",
        )
    })?;
    let pause = match change {
        ResponderChange { paused: false, .. } => None,
        ResponderChange {
            until: Some(until), ..
        } if until <= now => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_until",
                "until must be a time in the future (unix seconds); leave it out to pause until resumed",
            ));
        }
        ResponderChange {
            until: Some(until), ..
        } if until > now + MAX_PAUSE_SECONDS => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_until",
                format!(
                    "until is {until}, more than a year ahead: it is unix seconds, not \
                     milliseconds; leave it out to pause until resumed"
                ),
            ));
        }
        ResponderChange { until, .. } => Some(ResponderPause {
            paused_at: now,
            until,
        }),
    };
    windows
        .set_responder_pause(bot_id, &customer, pause)
        .await?;
    tracing::info!(
        bot_id,
        paused = pause.is_some(),
        "responder of a conversation changed"
    );
    Ok(json(
        StatusCode::OK,
        &conversation_view(windows, bot_id, customer, now).await?,
    ))
}

fn customer_id(phone: &str) -> Result<String, ApiError> {
    match Recipient::parse(phone) {
        Ok(Recipient::Phone(digits)) => Ok(digits),
        Ok(Recipient::Bsuid(id)) => Ok(id),
        Err(error) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_phone_number",
            error.to_string(),
        )),
    }
}

async fn conversation_view(
    windows: &dyn WindowStore,
    bot_id: &str,
    customer: String,
    now: i64,
) -> Result<ConversationView, ApiError> {
    let window = windows.window(bot_id, &customer).await?;
    let pause = windows
        .responder_pause(bot_id, &customer)
        .await?
        .filter(|p| p.is_active_at(now));
    Ok(ConversationView {
        window_open: window.as_ref().is_some_and(|w| w.is_open_at(now)),
        window_expires_at: window.as_ref().map(|w| w.expires_at),
        last_inbound_at: window.as_ref().map(|w| w.last_inbound_at),
        responder_paused: pause.is_some(),
        responder_paused_until: pause.and_then(|p| p.until),
        phone: customer,
    })
}

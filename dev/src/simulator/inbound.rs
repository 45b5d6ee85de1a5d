//! A customer writes: `POST /_sim/inbound` (or [`super::SimulatorHandle::inbound`]) builds
//! Meta's inbound-message webhook, signs it and posts it to the number's webhook URL.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::SimulatorError;
use super::config::SimulatedNumber;
use super::ids;
use super::state::{SimulatorHandle, State};
use super::validation::is_bsuid;
use super::webhooks::{Metadata, encode, envelope, post_signed};

/// Media types whose object gets an `id` and `mime_type` when the request leaves them out.
const MEDIA_TYPES: &[(&str, &str)] = &[
    ("image", "image/jpeg"),
    ("audio", "audio/ogg; codecs=opus"),
    ("video", "video/mp4"),
    ("document", "application/pdf"),
    ("sticker", "image/webp"),
];

/// A customer's message to post. JSON (camelCase):
/// `{"phoneNumberId"?, "from"?, "fromUserId"?, "name"?, "type":"text", "text":"hi"}`; `text` may
/// also be `{"body":…}`, and any other type carries its raw object under its own name
/// (`"location":{…}`, `"interactive":{"type":"button_reply",…}`). `id` and `timestamp` may be
/// given to replay a message (Meta redelivers with the same id).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundMessage {
    /// Defaults to the first configured number.
    pub phone_number_id: Option<String>,
    /// The customer's `wa_id` (digits); at least one of `from` and `from_user_id` is needed.
    pub from: Option<String>,
    /// The customer's business-scoped user id (e.g. `US.13491208655302741918`).
    pub from_user_id: Option<String>,
    /// Profile name; defaults to `Test Customer`.
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The message id to use; a fresh `wamid.…` by default.
    pub id: Option<String>,
    /// Unix seconds; now by default.
    pub timestamp: Option<u64>,
    /// Meta's `context` (`{"from","id"}`) for replies.
    pub context: Option<Value>,
    /// The object named by `type` (`text`, `image`, …), raw.
    #[serde(flatten)]
    pub objects: Map<String, Value>,
}

impl InboundMessage {
    /// A text message from `from` (digits).
    pub fn text(from: impl Into<String>, body: impl Into<String>) -> Self {
        Self::of_type(from, "text", json!({ "body": body.into() }))
    }

    /// A message of `kind` from `from` with its raw `object` (e.g. `location`, `interactive`).
    pub fn of_type(from: impl Into<String>, kind: &str, object: Value) -> Self {
        let mut objects = Map::new();
        objects.insert(kind.to_owned(), object);
        Self {
            from: Some(from.into()),
            kind: Some(kind.to_owned()),
            objects,
            ..Self::default()
        }
    }
}

/// What `POST /_sim/inbound` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundOutcome {
    pub message_id: String,
    /// The HTTP status the webhook answered; `None` when it could not be reached.
    pub webhook_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_error: Option<String>,
}

#[derive(Debug, Serialize)]
struct MessagesValue {
    messaging_product: &'static str,
    metadata: Metadata,
    contacts: Vec<ContactObject>,
    messages: Vec<MessageObject>,
}

#[derive(Debug, Serialize)]
struct ContactObject {
    profile: Profile,
    #[serde(skip_serializing_if = "Option::is_none")]
    wa_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
}

#[derive(Debug, Serialize)]
struct Profile {
    name: String,
}

#[derive(Debug, Serialize)]
struct MessageObject {
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from_user_id: Option<String>,
    id: String,
    timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<Value>,
    #[serde(rename = "type")]
    kind: String,
    /// `{<type>: <object>}`.
    #[serde(flatten)]
    content: Map<String, Value>,
}

// Here, not beside the handle's other methods: the state knows nothing of what a customer sends.
impl SimulatorHandle {
    /// Posts a customer's message to the number's webhook URL, signed, as `POST /_sim/inbound` does.
    pub async fn inbound(&self, message: InboundMessage) -> Result<InboundOutcome, SimulatorError> {
        post_inbound(&self.state, message).await
    }
}

/// Builds, signs and posts the webhook; answers what the receiver said.
pub(crate) async fn post_inbound(
    state: &State,
    message: InboundMessage,
) -> Result<InboundOutcome, SimulatorError> {
    let number = match message.phone_number_id.as_deref() {
        Some(id) => state
            .number(id)
            .ok_or_else(|| SimulatorError::UnknownNumber(id.to_owned()))?,
        None => state.default_number().ok_or(SimulatorError::NoNumbers)?,
    };
    let url = number
        .webhook_url
        .clone()
        .ok_or_else(|| SimulatorError::NoWebhookUrl(number.phone_number_id.clone()))?;
    let (message_id, payload) = build(&number, message)?;
    let body = encode(&payload);
    let outcome = match post_signed(state, &url, &number.app_secret, body).await {
        Ok(status) => InboundOutcome {
            message_id,
            webhook_status: Some(status.as_u16()),
            webhook_error: None,
        },
        Err(error) => {
            tracing::warn!(%url, %error, "inbound webhook not delivered");
            InboundOutcome {
                message_id,
                webhook_status: None,
                webhook_error: Some(error.to_string()),
            }
        }
    };
    Ok(outcome)
}

fn invalid(message: impl Into<String>) -> SimulatorError {
    SimulatorError::InvalidInbound(message.into())
}

fn build(
    number: &SimulatedNumber,
    message: InboundMessage,
) -> Result<(String, super::webhooks::WebhookPayload<MessagesValue>), SimulatorError> {
    let from = message
        .from
        .map(|from| from.trim_start_matches('+').to_owned())
        .filter(|from| !from.is_empty());
    let from_user_id = message.from_user_id.filter(|id| !id.is_empty());
    if from.is_none() && from_user_id.is_none() {
        return Err(invalid("from or fromUserId is required"));
    }
    if let Some(from) = &from
        && !from.bytes().all(|byte| byte.is_ascii_digit())
    {
        return Err(invalid(format!(
            "from must be digits with country code, got \"{from}\""
        )));
    }
    if let Some(user_id) = &from_user_id
        && !is_bsuid(user_id)
    {
        return Err(invalid(format!(
            "fromUserId must be a business-scoped user id such as US.13491208655302741918, got \"{user_id}\""
        )));
    }
    let kind = message.kind.unwrap_or_else(|| "text".to_owned());
    let mut objects = message.objects;
    let object = objects.remove(&kind).filter(|object| !object.is_null());
    let object = match (kind.as_str(), object) {
        ("text", Some(Value::String(body))) => json!({ "body": body }),
        ("text", Some(object @ Value::Object(_)))
            if object.get("body").is_some_and(Value::is_string) =>
        {
            object
        }
        ("text", _) => {
            return Err(invalid(
                "text must be a string or an object with a string body",
            ));
        }
        (_, Some(mut object @ Value::Object(_))) => {
            if let Some((_, mime_type)) = MEDIA_TYPES.iter().find(|(media, _)| *media == kind)
                && let Some(fields) = object.as_object_mut()
            {
                fields
                    .entry("id")
                    .or_insert_with(|| Value::String(ids::numeric_id()));
                fields
                    .entry("mime_type")
                    .or_insert_with(|| Value::String((*mime_type).to_owned()));
            }
            object
        }
        (_, Some(_)) => return Err(invalid(format!("{kind} must be an object"))),
        (_, None) => {
            return Err(invalid(format!(
                "a message of type {kind} needs its object under \"{kind}\""
            )));
        }
    };
    let mut content = Map::new();
    content.insert(kind.clone(), object);

    let message_id = message.id.unwrap_or_else(|| {
        ids::wamid(
            from.as_deref()
                .or(from_user_id.as_deref())
                .unwrap_or_default(),
        )
    });
    let value = MessagesValue {
        messaging_product: "whatsapp",
        metadata: Metadata::of(number),
        contacts: vec![ContactObject {
            profile: Profile {
                name: message.name.unwrap_or_else(|| "Test Customer".to_owned()),
            },
            wa_id: from.clone(),
            user_id: from_user_id.clone(),
        }],
        messages: vec![MessageObject {
            from,
            from_user_id,
            id: message_id.clone(),
            timestamp: message.timestamp.unwrap_or_else(ids::unix_now).to_string(),
            context: message.context.filter(|context| !context.is_null()),
            kind,
            content,
        }],
    };
    Ok((message_id, envelope(number, value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number() -> SimulatedNumber {
        SimulatedNumber::new("100000000000001", "200000000000001", "token", "secret")
    }

    fn built(message: InboundMessage) -> Value {
        let (_, payload) = build(&number(), message).unwrap();
        serde_json::from_slice(&encode(&payload)).unwrap()
    }

    #[test]
    fn a_text_becomes_metas_inbound_shape() {
        let body = built(InboundMessage::text("15551234567", "hi"));
        assert_eq!(body["object"], "whatsapp_business_account");
        assert_eq!(body["entry"][0]["id"], "200000000000001");
        let value = &body["entry"][0]["changes"][0]["value"];
        assert_eq!(body["entry"][0]["changes"][0]["field"], "messages");
        assert_eq!(value["metadata"]["phone_number_id"], "100000000000001");
        assert_eq!(value["contacts"][0]["wa_id"], "15551234567");
        assert_eq!(value["contacts"][0]["profile"]["name"], "Test Customer");
        assert_eq!(value["messages"][0]["type"], "text");
        assert_eq!(value["messages"][0]["text"]["body"], "hi");
        assert!(
            value["messages"][0]["id"]
                .as_str()
                .unwrap()
                .starts_with("wamid.")
        );
    }

    #[test]
    fn json_requests_accept_strings_objects_and_bsuids() {
        let request: InboundMessage = serde_json::from_value(json!({
            "fromUserId": "US.13491208655302741918", "name": "Sam", "type": "text", "text": {"body": "yo"}
        }))
        .unwrap();
        let body = built(request);
        let value = &body["entry"][0]["changes"][0]["value"];
        assert_eq!(
            value["messages"][0]["from_user_id"],
            "US.13491208655302741918"
        );
        assert!(value["messages"][0].get("from").is_none());
        assert_eq!(value["contacts"][0]["user_id"], "US.13491208655302741918");

        let location: InboundMessage = serde_json::from_value(json!({
            "from": "15551234567", "type": "location", "location": {"latitude": 1.5, "longitude": 2.5}
        }))
        .unwrap();
        assert_eq!(
            built(location)["entry"][0]["changes"][0]["value"]["messages"][0]["location"]["latitude"],
            1.5
        );
    }

    #[test]
    fn media_gets_an_id_and_bad_requests_are_refused() {
        let image = built(InboundMessage::of_type(
            "15551234567",
            "image",
            json!({"caption": "look"}),
        ));
        let object = &image["entry"][0]["changes"][0]["value"]["messages"][0]["image"];
        assert!(object["id"].is_string());
        assert_eq!(object["mime_type"], "image/jpeg");
        assert!(
            build(
                &number(),
                InboundMessage {
                    kind: Some("text".into()),
                    ..Default::default()
                }
            )
            .is_err()
        );
        assert!(
            build(
                &number(),
                InboundMessage::of_type("15551234567", "image", json!("x"))
            )
            .is_err()
        );
        assert!(build(&number(), InboundMessage::text("not digits", "x")).is_err());
    }
}

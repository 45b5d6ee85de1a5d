//! The body of `POST /api/whatsapp/connections`, read field by field so that each bad field gets
//! its own 422 code. Unknown fields are ignored. No error message quotes a secret.

use http::StatusCode;
use intaj_shared::api::ApiError;
use intaj_shared::connecting::is_valid_bot_id;
use intaj_shared::domain::Responder;
use intaj_shared::ports::Secret;
use intaj_shared::responding::CompiledRules;
use intaj_shared::sending::SendRequest;
use serde_json::{Map, Value};

/// The largest body accepted; a connection is a few hundred bytes, rules a few KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// What one API key may be allowed per second.
pub const MAX_RATE_LIMIT_PER_SECOND: u32 = 1000;
const MAX_TIMEOUT_MS: u64 = 30_000;

/// What a caller asks for: everything to create a connection, or what to change in one.
#[derive(Debug, Clone, Default)]
pub struct ConnectionRequest {
    pub bot_id: Option<String>,
    pub business_account_id: Option<String>,
    pub phone_number_id: Option<String>,
    pub access_token: Option<Secret>,
    pub app_secret: Option<Secret>,
    pub verify_token: Option<Secret>,
    pub rate_limit_per_second: Option<u32>,
    /// `Some(Responder::None)` clears it.
    pub responder: Option<Responder>,
    /// `Some(None)` clears it.
    pub events_url: Option<Option<String>>,
    /// `Some(None)` clears it.
    pub fallback_reply: Option<Option<Value>>,
    pub typing_indicator: Option<bool>,
    pub rotate_api_key: bool,
    /// A new responder secret (the old one stops signing at once).
    pub rotate_responder_secret: bool,
    /// Set only by the local stack, for its documented demo key; no body can set it.
    pub api_key: Option<Secret>,
}

fn invalid(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

/// Reads a request body.
pub fn parse(body: &[u8]) -> Result<ConnectionRequest, ApiError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("a connection body is at most {MAX_BODY_BYTES} bytes"),
        ));
    }
    // Parsed as a tree first: a syntax error's text names a position, never the content.
    let value: Value = serde_json::from_slice(body).map_err(|error| {
        ApiError::bad_request(
            "invalid_json",
            format!("the body is not JSON ({error}); send a JSON object"),
        )
    })?;
    let Value::Object(fields) = value else {
        return Err(ApiError::bad_request(
            "invalid_json",
            "the body must be a JSON object",
        ));
    };
    let fields = Fields(&fields);
    Ok(ConnectionRequest {
        bot_id: fields.string("botId", "invalid_bot_id", |id| {
            is_valid_bot_id(id).then_some(()).ok_or(
                "botId must be 1 to 128 letters, digits, '-', '_' or '.' (it becomes part of the \
                 webhook URL)",
            )
        })?,
        business_account_id: fields.string(
            "businessAccountId",
            "invalid_business_account_id",
            meta_id("businessAccountId", "WhatsApp Business Account id"),
        )?,
        phone_number_id: fields.string(
            "phoneNumberId",
            "invalid_phone_number_id",
            meta_id("phoneNumberId", "phone number id"),
        )?,
        access_token: fields
            .string("accessToken", "invalid_access_token_format", |token| {
                token_shape(token, 16, 4096).ok_or(
                    "accessToken must be the token Meta issued (16 to 4096 characters, no \
                     spaces); a permanent System User token is recommended",
                )
            })?
            .map(Secret::new),
        app_secret: fields
            .string("appSecret", "invalid_app_secret_format", |secret| {
                token_shape(secret, 8, 256).ok_or(
                    "appSecret must be your Meta app's secret (App settings → Basic; 8 to 256 \
                     characters, no spaces)",
                )
            })?
            .map(Secret::new),
        verify_token: fields
            .string("verifyToken", "invalid_verify_token_format", |token| {
                token_shape(token, 8, 256).ok_or(
                    "verifyToken must be 8 to 256 characters without spaces; leave it out to get \
                     a generated one",
                )
            })?
            .map(Secret::new),
        rate_limit_per_second: fields.rate_limit()?,
        responder: fields.responder()?,
        events_url: fields.events_url()?,
        fallback_reply: fields.fallback_reply()?,
        typing_indicator: match fields.0.get("typingIndicator") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(on)) => Some(*on),
            Some(_) => {
                return Err(invalid(
                    "invalid_typing_indicator",
                    "typingIndicator must be true or false",
                ));
            }
        },
        rotate_api_key: match fields.0.get("rotateApiKey") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(rotate)) => *rotate,
            Some(_) => {
                return Err(invalid(
                    "invalid_rotate_api_key",
                    "rotateApiKey must be true or false",
                ));
            }
        },
        rotate_responder_secret: match fields.0.get("rotateResponderSecret") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(rotate)) => *rotate,
            Some(_) => {
                return Err(invalid(
                    "invalid_rotate_responder_secret",
                    "rotateResponderSecret must be true or false",
                ));
            }
        },
        api_key: None,
    })
}

/// Digits only, as Meta shows ids in WhatsApp Manager; strings, because ids of 16 digits and more
/// lose precision as JSON numbers.
fn meta_id(field: &'static str, what: &'static str) -> impl Fn(&str) -> Result<(), String> {
    move |id| {
        if !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_digit()) {
            Ok(())
        } else {
            Err(format!(
                "{field} must be the {what} as WhatsApp Manager shows it: a string of digits"
            ))
        }
    }
}

/// Visible ASCII without spaces, within the length bounds.
fn token_shape(value: &str, min: usize, max: usize) -> Option<()> {
    (value.len() >= min && value.len() <= max && value.bytes().all(|b| b.is_ascii_graphic()))
        .then_some(())
}

/// An `http(s)` URL with a host.
fn web_url(value: &str) -> bool {
    reqwest::Url::parse(value)
        .is_ok_and(|url| matches!(url.scheme(), "https" | "http") && url.host_str().is_some())
}

struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    /// An optional string field, checked by `check`; `null` counts as absent.
    fn string<E: Into<String>>(
        &self,
        name: &'static str,
        code: &'static str,
        check: impl Fn(&str) -> Result<(), E>,
    ) -> Result<Option<String>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(value)) => {
                check(value).map_err(|message| invalid(code, message))?;
                Ok(Some(value.clone()))
            }
            Some(_) => Err(invalid(code, format!("{name} must be a string"))),
        }
    }

    fn rate_limit(&self) -> Result<Option<u32>, ApiError> {
        let wrong = || {
            invalid(
                "invalid_rate_limit",
                format!(
                    "rateLimitPerSecond must be a whole number from 1 to \
                     {MAX_RATE_LIMIT_PER_SECOND}"
                ),
            )
        };
        match self.0.get("rateLimitPerSecond") {
            None | Some(Value::Null) => Ok(None),
            Some(value) => {
                let limit = value.as_u64().ok_or_else(wrong)?;
                match u32::try_from(limit) {
                    Ok(limit @ 1..=MAX_RATE_LIMIT_PER_SECOND) => Ok(Some(limit)),
                    _ => Err(wrong()),
                }
            }
        }
    }

    fn responder(&self) -> Result<Option<Responder>, ApiError> {
        let value = match self.0.get("responder") {
            None => return Ok(None),
            Some(Value::Null) => return Ok(Some(Responder::None)),
            Some(value) => value,
        };
        let wrong = |message: &str| invalid("invalid_responder", message.to_owned());
        let responder: Responder = serde_json::from_value(value.clone()).map_err(|_| {
            wrong(
                "responder must be {\"kind\":\"forward\",\"url\":…,\"timeoutMs\"?}, \
                 {\"kind\":\"rules\",\"rules\":[{\"match\":\"hi|hello\",\"reply\":{…}}],\
                 \"fallback\"?:{…}} or {\"kind\":\"none\"}",
            )
        })?;
        match &responder {
            Responder::Forward { url, timeout_ms } => {
                if !web_url(url) {
                    return Err(wrong(
                        "responder.url must be an http(s) URL of your bot's backend",
                    ));
                }
                if timeout_ms.is_some_and(|ms| !(100..=MAX_TIMEOUT_MS).contains(&ms)) {
                    return Err(wrong(&format!(
                        "responder.timeoutMs must be from 100 to {MAX_TIMEOUT_MS}"
                    )));
                }
            }
            Responder::Rules { rules, fallback } => {
                CompiledRules::compile(rules, fallback.as_ref())
                    .map_err(|error| wrong(&format!("responder.{error}")))?;
            }
            Responder::None => {}
        }
        Ok(Some(responder))
    }

    /// A `/send` body without `to`, checked as `/send` would check it.
    fn fallback_reply(&self) -> Result<Option<Option<Value>>, ApiError> {
        let reply = match self.0.get("fallbackReply") {
            None => return Ok(None),
            Some(Value::Null) => return Ok(Some(None)),
            Some(reply) => reply,
        };
        let wrong = |reason: String| {
            invalid(
                "invalid_fallback_reply",
                format!(
                    "fallbackReply must be a message as /send takes it, without \"to\": {reason}"
                ),
            )
        };
        let Value::Object(fields) = reply else {
            return Err(wrong("not an object".into()));
        };
        let mut probe = fields.clone();
        probe.insert("to".into(), Value::String("15550000000".into()));
        let request: SendRequest = serde_json::from_value(Value::Object(probe))
            .map_err(|error| wrong(error.to_string()))?;
        request
            .validate()
            .map_err(|error| wrong(error.to_string()))?;
        Ok(Some(Some(reply.clone())))
    }

    fn events_url(&self) -> Result<Option<Option<String>>, ApiError> {
        match self.0.get("eventsUrl") {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(url)) if web_url(url) => Ok(Some(Some(url.clone()))),
            Some(_) => Err(invalid(
                "invalid_events_url",
                "eventsUrl must be an http(s) URL where status changes are posted, or null",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn valid() -> Value {
        json!({
            "businessAccountId": "200000000000001",
            "phoneNumberId": "100000000000001",
            "accessToken": "EAAG-a-long-enough-token",
            "appSecret": "0123456789abcdef",
        })
    }

    fn code_of(body: Value) -> (u16, &'static str, String) {
        let error = parse(body.to_string().as_bytes()).unwrap_err();
        (error.status.as_u16(), error.code, error.message)
    }

    fn with(field: &str, value: Value) -> Value {
        let mut body = valid();
        body[field] = value;
        body
    }

    #[test]
    fn a_valid_body_reads_and_unknown_fields_are_ignored() {
        let mut body = valid();
        body["somethingNew"] = json!(1);
        body["rateLimitPerSecond"] = json!(20);
        body["responder"] = json!({"kind": "forward", "url": "https://bot.example.com/in"});
        let request = parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(request.phone_number_id.as_deref(), Some("100000000000001"));
        assert_eq!(request.rate_limit_per_second, Some(20));
        assert_eq!(request.responder.unwrap().kind(), "forward");
        assert!(
            request.api_key.is_none(),
            "a body never chooses the API key"
        );
    }

    #[test]
    fn every_bad_field_has_its_own_code() {
        for (field, value, code) in [
            ("botId", json!("my shop"), "invalid_bot_id"),
            ("botId", json!(7), "invalid_bot_id"),
            (
                "businessAccountId",
                json!("WABA-1"),
                "invalid_business_account_id",
            ),
            (
                "businessAccountId",
                json!(200000000000001u64),
                "invalid_business_account_id",
            ),
            (
                "phoneNumberId",
                json!("+1 555 0100"),
                "invalid_phone_number_id",
            ),
            ("accessToken", json!("short"), "invalid_access_token_format"),
            (
                "accessToken",
                json!("has a space in the token"),
                "invalid_access_token_format",
            ),
            ("appSecret", json!(""), "invalid_app_secret_format"),
            ("verifyToken", json!("tiny"), "invalid_verify_token_format"),
            ("rateLimitPerSecond", json!(0), "invalid_rate_limit"),
            ("rateLimitPerSecond", json!(1001), "invalid_rate_limit"),
            ("rateLimitPerSecond", json!("80"), "invalid_rate_limit"),
            ("rateLimitPerSecond", json!(2.5), "invalid_rate_limit"),
            (
                "responder",
                json!({"kind": "telepathy"}),
                "invalid_responder",
            ),
            (
                "responder",
                json!({"kind": "forward", "url": "ftp://x"}),
                "invalid_responder",
            ),
            (
                "responder",
                json!({"kind": "forward", "url": "https://b.example", "timeoutMs": 5}),
                "invalid_responder",
            ),
            (
                "responder",
                json!({"kind": "rules", "rules": [{"match": "(", "reply": {}}]}),
                "invalid_responder",
            ),
            (
                "responder",
                json!({"kind": "rules", "rules": [{"match": "hi", "reply": "hello"}]}),
                "invalid_responder",
            ),
            ("eventsUrl", json!("not a url"), "invalid_events_url"),
            ("rotateApiKey", json!("yes"), "invalid_rotate_api_key"),
            (
                "rotateResponderSecret",
                json!(1),
                "invalid_rotate_responder_secret",
            ),
            ("fallbackReply", json!("sorry"), "invalid_fallback_reply"),
            ("typingIndicator", json!("on"), "invalid_typing_indicator"),
            (
                "fallbackReply",
                json!({"type": "text"}),
                "invalid_fallback_reply",
            ),
        ] {
            let (status, got, _) = code_of(with(field, value.clone()));
            assert_eq!((status, got), (422, code), "{field} = {value}");
        }
    }

    #[test]
    fn errors_never_quote_a_secret() {
        for (field, secret) in [
            ("accessToken", "EAA secret with spaces"),
            ("appSecret", "app secret with spaces"),
            ("verifyToken", "verify token with spaces"),
        ] {
            let (_, _, message) = code_of(with(field, json!(secret)));
            assert!(!message.contains(secret), "{message}");
        }
        let error = parse(br#"{"accessToken": "EAA-leak-me""#).unwrap_err();
        assert!(!error.message.contains("EAA-leak-me"), "{}", error.message);
    }

    #[test]
    fn not_an_object_is_a_400_and_a_huge_body_a_413() {
        assert_eq!(parse(b"[1]").unwrap_err().code, "invalid_json");
        assert_eq!(parse(b"{nope").unwrap_err().status, 400);
        let huge = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(parse(&huge).unwrap_err().status, 413);
    }

    #[test]
    fn null_clears_the_responder_and_the_events_url() {
        let mut body = valid();
        body["responder"] = Value::Null;
        body["eventsUrl"] = Value::Null;
        let request = parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(request.responder, Some(Responder::None));
        assert_eq!(request.events_url, Some(None));
    }
}

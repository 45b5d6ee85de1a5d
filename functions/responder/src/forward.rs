//! The `forward` responder: the message POSTed, signed, to the bot's backend, and what it
//! answers.

use std::time::Duration;

use intaj_shared::business_urls::BusinessHttp;
use intaj_shared::ports::Secret;
use intaj_shared::responding::{BotMessage, SIGNATURE_HEADER, sign};
use serde_json::Value;

/// How long a bot backend may take when its connection names no `timeoutMs`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the bot answered.
#[derive(Debug, Clone, PartialEq)]
pub enum BotAnswer {
    /// Messages to send to the customer now (possibly none).
    Replies(Vec<Value>),
    /// `202` / `204`: the bot answers later through `/send` itself.
    Later,
    /// `{"handover":true}`: a person takes over; any replies given are sent first.
    Handover(Vec<Value>),
}

/// The bot backend did not give a usable answer; each is worth a retry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForwardError {
    #[error("the bot backend could not be reached: {0}")]
    Unreachable(String),
    #[error("the bot backend did not answer within {0:?}")]
    TimedOut(Duration),
    #[error("the bot backend answered HTTP {0}")]
    Status(u16),
    #[error(
        "the bot backend's answer is not {{\"replies\":[…]}}, an array or {{\"handover\":true}}: {0}"
    )]
    Garbage(String),
}

/// POSTs `message` to `url`, signed with the connection's responder secret at `now`.
pub async fn forward(
    http: &BusinessHttp,
    url: &str,
    timeout: Duration,
    responder_secret: &Secret,
    message: &BotMessage,
    now: i64,
) -> Result<BotAnswer, ForwardError> {
    let body = serde_json::to_vec(message).expect("a bot message serialises to JSON");
    let response = post_signed(http, url, timeout, responder_secret, body, now).await?;
    let status = response.status().as_u16();
    match status {
        202 | 204 => return Ok(BotAnswer::Later),
        200 | 201 => {}
        _ => return Err(ForwardError::Status(status)),
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|error| transport_error(error, timeout))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(BotAnswer::Replies(Vec::new()));
    }
    let answer: Value =
        serde_json::from_slice(&bytes).map_err(|error| ForwardError::Garbage(error.to_string()))?;
    read_answer(answer)
}

/// POSTs `body` to one of the business's URLs (its bot, its `eventsUrl`), signed with the
/// connection's responder secret at `now`.
pub(crate) async fn post_signed(
    http: &BusinessHttp,
    url: &str,
    timeout: Duration,
    responder_secret: &Secret,
    body: Vec<u8>,
    now: i64,
) -> Result<reqwest::Response, ForwardError> {
    let signature = sign(responder_secret.expose().as_bytes(), now, &body);
    http.post(url)
        .map_err(|refused| ForwardError::Unreachable(refused.to_string()))?
        .timeout(timeout)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(body)
        .send()
        .await
        .map_err(|error| transport_error(error, timeout))
}

fn transport_error(error: reqwest::Error, timeout: Duration) -> ForwardError {
    if error.is_timeout() {
        ForwardError::TimedOut(timeout)
    } else {
        ForwardError::Unreachable(error.without_url().to_string())
    }
}

fn read_answer(answer: Value) -> Result<BotAnswer, ForwardError> {
    let replies = |value: Option<&Value>| -> Result<Vec<Value>, ForwardError> {
        match value {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) if items.iter().all(Value::is_object) => Ok(items.clone()),
            Some(_) => Err(ForwardError::Garbage(
                "replies must be an array of message objects".into(),
            )),
        }
    };
    match &answer {
        Value::Array(_) => Ok(BotAnswer::Replies(replies(Some(&answer))?)),
        Value::Object(fields) => {
            let given = replies(fields.get("replies"))?;
            if fields.get("handover") == Some(&Value::Bool(true)) {
                Ok(BotAnswer::Handover(given))
            } else if fields.contains_key("replies") {
                Ok(BotAnswer::Replies(given))
            } else {
                Err(ForwardError::Garbage(
                    "an object needs \"replies\" or \"handover\"".into(),
                ))
            }
        }
        _ => Err(ForwardError::Garbage("not an object or an array".into())),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_answer_shape_reads() {
        let hi = json!({"type": "text", "content": "hi"});
        assert_eq!(
            read_answer(json!({"replies": [hi]})),
            Ok(BotAnswer::Replies(vec![hi.clone()]))
        );
        assert_eq!(
            read_answer(json!([hi])),
            Ok(BotAnswer::Replies(vec![hi.clone()]))
        );
        assert_eq!(
            read_answer(json!({"handover": true})),
            Ok(BotAnswer::Handover(vec![]))
        );
        assert_eq!(
            read_answer(json!({"handover": true, "replies": [hi]})),
            Ok(BotAnswer::Handover(vec![hi]))
        );
        for garbage in [
            json!("hi"),
            json!({"reply": 1}),
            json!({"replies": ["hi"]}),
            json!(3),
        ] {
            assert!(matches!(
                read_answer(garbage),
                Err(ForwardError::Garbage(_))
            ));
        }
    }
}

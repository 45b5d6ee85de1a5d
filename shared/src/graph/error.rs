//! What a failed Graph API call looks like, and which failures are worth retrying (SPEC §4).

use std::time::Duration;

use serde::Deserialize;
use thiserror::Error;

use super::retry::Retryable;

/// Meta error codes that mean "try again later" (SPEC §4): 1 unknown, 2 service unavailable,
/// 4 app rate limit, 80007 WABA rate limit, 130429 throughput, 131000 something went wrong,
/// 131016 service overloaded.
pub const RETRYABLE_META_CODES: [i64; 7] = [1, 2, 4, 80007, 130429, 131000, 131016];

/// Meta's `{"error":{…}}` object, as Meta sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaApiError {
    pub code: i64,
    pub error_subcode: Option<i64>,
    pub message: String,
    /// Meta's `type`, e.g. `OAuthException`.
    pub error_type: Option<String>,
    pub fbtrace_id: Option<String>,
    /// `error_data.details`: the human explanation WhatsApp adds to its own codes.
    pub details: Option<String>,
}

/// One failed Graph API call. No variant ever holds the access token.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GraphError {
    /// Meta answered with its error shape. Boxed so `Result<_, GraphError>` stays small.
    #[error("Meta API error {} (HTTP {http_status}): {}", .error.code, .error.message)]
    Meta {
        http_status: u16,
        error: Box<MetaApiError>,
        /// Meta's `Retry-After` header (delta-seconds), when it sent one.
        retry_after: Option<Duration>,
    },
    /// The request (or the retry budget) ran out of time; Meta may or may not have acted on it.
    #[error("the Graph API did not answer in time")]
    Timeout,
    /// The request never got an answer: DNS, connect, TLS or a dropped connection.
    #[error("could not reach the Graph API: {0}")]
    Transport(String),
    /// Meta's answer was not what the API documents (e.g. an HTML 502 page, or a success body
    /// without a message id).
    #[error("unexpected Graph API response (HTTP {http_status}): {detail}")]
    Decode { http_status: u16, detail: String },
    /// The request body could not be encoded as JSON; a bug in the caller, never retried.
    #[error("could not encode the request body: {0}")]
    Encode(String),
}

impl GraphError {
    /// Exactly SPEC §4's set: HTTP 5xx, HTTP 429, the codes in [`RETRYABLE_META_CODES`], timeouts
    /// and connection errors.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Meta {
                http_status, error, ..
            } => status_is_retryable(*http_status) || RETRYABLE_META_CODES.contains(&error.code),
            Self::Timeout | Self::Transport(_) => true,
            // A 2xx we cannot read is not retried: Meta may already have sent the message.
            Self::Decode { http_status, .. } => status_is_retryable(*http_status),
            Self::Encode(_) => false,
        }
    }

    /// Meta's error code, when Meta answered with one.
    pub fn meta_code(&self) -> Option<i64> {
        self.meta_error().map(|error| error.code)
    }

    /// Meta's whole error object, when Meta answered with one.
    pub fn meta_error(&self) -> Option<&MetaApiError> {
        match self {
            Self::Meta { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The HTTP status Meta answered with, when there was an answer.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Self::Meta { http_status, .. } | Self::Decode { http_status, .. } => Some(*http_status),
            _ => None,
        }
    }

    /// Meta's `Retry-After`, when it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Meta { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The error for a non-2xx answer: Meta's shape when the body has it, otherwise `Decode`.
    /// Text copied from the body is scrubbed of `access_token` in case anything echoes it.
    pub(crate) fn from_error_body(
        http_status: u16,
        body: &[u8],
        retry_after: Option<Duration>,
        access_token: &str,
    ) -> Self {
        match serde_json::from_slice::<ErrorEnvelope>(body) {
            Ok(ErrorEnvelope { error }) => Self::Meta {
                http_status,
                error: Box::new(MetaApiError {
                    code: error.code,
                    error_subcode: error.error_subcode,
                    message: redact(&error.message, access_token),
                    error_type: error.kind,
                    fbtrace_id: error.fbtrace_id,
                    details: error
                        .error_data
                        .as_ref()
                        .and_then(|data| data.get("details"))
                        .and_then(|details| details.as_str())
                        .map(|details| redact(details, access_token)),
                }),
                retry_after,
            },
            Err(_) => Self::Decode {
                http_status,
                detail: format!(
                    "body: {}",
                    snippet(&redact(&String::from_utf8_lossy(body), access_token))
                ),
            },
        }
    }
}

impl Retryable for GraphError {
    fn is_retryable(&self) -> bool {
        GraphError::is_retryable(self)
    }

    fn retry_after(&self) -> Option<Duration> {
        GraphError::retry_after(self)
    }

    fn code(&self) -> Option<i64> {
        self.meta_code()
            .or_else(|| self.http_status().map(i64::from))
    }

    fn timed_out() -> Self {
        Self::Timeout
    }
}

fn status_is_retryable(http_status: u16) -> bool {
    http_status == 429 || (500..600).contains(&http_status)
}

/// Replaces every occurrence of the token; an empty token would match everywhere, so it is skipped.
pub(crate) fn redact(text: &str, access_token: &str) -> String {
    if access_token.is_empty() {
        text.to_owned()
    } else {
        text.replace(access_token, "[redacted]")
    }
}

/// Enough of an unexpected body to recognise it in a log, without flooding the log.
pub(crate) fn snippet(text: &str) -> String {
    const MAX_CHARS: usize = 200;
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// `{"error":{"message","type","code","error_subcode","error_data":{"details"},"fbtrace_id"}}`.
#[derive(Deserialize)]
struct ErrorEnvelope {
    error: WireError,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(default)]
    message: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    code: i64,
    error_subcode: Option<i64>,
    fbtrace_id: Option<String>,
    // Kept loose: older Graph errors send other shapes here, and only `details` matters to us.
    error_data: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_meta_error_with_details() {
        let body = br#"{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"error_subcode":2494010,"error_data":{"messaging_product":"whatsapp","details":"More than 24 hours"},"fbtrace_id":"Az8or"}}"#;
        let error = GraphError::from_error_body(400, body, None, "tok");
        assert_eq!(error.meta_code(), Some(131047));
        let meta = error.meta_error().unwrap();
        assert_eq!(meta.error_subcode, Some(2494010));
        assert_eq!(meta.details.as_deref(), Some("More than 24 hours"));
        assert_eq!(meta.fbtrace_id.as_deref(), Some("Az8or"));
        assert_eq!(meta.error_type.as_deref(), Some("OAuthException"));
        assert!(!error.is_retryable());
    }

    #[test]
    fn non_meta_body_is_a_decode_error_retryable_only_for_5xx_and_429() {
        let bad_gateway = GraphError::from_error_body(502, b"<html>Bad Gateway</html>", None, "t");
        assert!(matches!(
            bad_gateway,
            GraphError::Decode {
                http_status: 502,
                ..
            }
        ));
        assert!(bad_gateway.is_retryable());
        assert!(!GraphError::from_error_body(404, b"nope", None, "t").is_retryable());
    }

    #[test]
    fn token_is_scrubbed_from_copied_text() {
        let body = br#"{"error":{"message":"bad token SECRET-123","code":190}}"#;
        let error = GraphError::from_error_body(401, body, None, "SECRET-123");
        assert!(!error.to_string().contains("SECRET-123"));
        assert!(!format!("{error:?}").contains("SECRET-123"));
        let html = GraphError::from_error_body(500, b"echo SECRET-123", None, "SECRET-123");
        assert!(!format!("{html:?}").contains("SECRET-123"));
    }

    #[test]
    fn snippet_cuts_on_a_char_boundary() {
        let long = "é".repeat(500);
        assert_eq!(snippet(&long).chars().count(), 201);
        assert_eq!(snippet("short"), "short");
    }
}

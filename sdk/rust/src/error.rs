use serde_json::Value;

/// What went wrong, as the API said it (`code`, `message`, Meta's `upstream` error), or why the
/// API could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum IntajError {
    /// The API answered an error (after the retries it deserves).
    #[error("{status} {code}: {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
        /// Meta's error, when Meta caused this one.
        upstream: Option<Value>,
        /// Seconds the API asked to wait (429, 503, 409).
        retry_after: Option<u64>,
        /// API Gateway's request id, for support.
        request_id: Option<String>,
    },
    /// No answer: the network, a timeout (after the retries).
    #[error("the API could not be reached: {0}")]
    Connection(String),
    /// An answer that is not what the API documents.
    #[error("unexpected answer ({status}): {detail}")]
    Unexpected { status: u16, detail: String },
    /// The client lacks what the call needs (an API key, an admin token).
    #[error("{0}")]
    Configuration(&'static str),
}

impl IntajError {
    /// The API's error code (`invalid_phone_number`, `outside_window`, …), if it answered one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The HTTP status, if the API answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } | Self::Unexpected { status, .. } => Some(*status),
            _ => None,
        }
    }
}

use serde::{Deserialize, Serialize};

/// The answer given to the first request with an idempotency key, replayed to its repeats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    pub body: String,
    /// Headers worth replaying (e.g. `content-type`), in order; names may repeat.
    pub headers: Vec<(String, String)>,
}

/// Outcome of claiming an idempotency key for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// First request with this key (or the previous record expired, or its attempt was
    /// abandoned): the caller does the work, then completes or releases the claim.
    Claimed,
    /// Another request with this key is being handled right now.
    InProgress,
    /// A request with this key was answered: this is its answer.
    Completed(StoredResponse),
    /// The key was used with a different request body.
    FingerprintMismatch,
}

/// An idempotency key's record, as both adapters reason about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub fingerprint: String,
    /// Unix seconds after which the record counts as absent (TTL deletion lags behind).
    pub expires_at: i64,
    /// Unix seconds after which an uncompleted claim counts as abandoned.
    pub in_progress_until: i64,
    /// `None` while the request is being handled.
    pub response: Option<StoredResponse>,
}

impl IdempotencyRecord {
    /// Whether the record still holds its key at `now`: not expired, and either completed or
    /// within its in-progress time. (The DynamoDB claim's condition is the negation of this.)
    pub fn holds_key_at(&self, now: i64) -> bool {
        self.expires_at >= now && (self.response.is_some() || self.in_progress_until >= now)
    }

    /// What a repeat with `fingerprint` is told while the record holds the key.
    pub fn answer(&self, fingerprint: &str) -> IdempotencyClaim {
        match &self.response {
            _ if self.fingerprint != fingerprint => IdempotencyClaim::FingerprintMismatch,
            Some(response) => IdempotencyClaim::Completed(response.clone()),
            None => IdempotencyClaim::InProgress,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_holds_its_key_until_expiry_or_abandonment() {
        let mut record = IdempotencyRecord {
            fingerprint: "f".into(),
            expires_at: 100,
            in_progress_until: 10,
            response: None,
        };
        assert!(record.holds_key_at(10));
        assert!(!record.holds_key_at(11), "abandoned");
        assert_eq!(record.answer("f"), IdempotencyClaim::InProgress);
        assert_eq!(record.answer("g"), IdempotencyClaim::FingerprintMismatch);
        let response = StoredResponse {
            status: 200,
            body: "{}".into(),
            headers: vec![],
        };
        record.response = Some(response.clone());
        assert!(record.holds_key_at(100));
        assert!(!record.holds_key_at(101), "expired");
        assert_eq!(record.answer("f"), IdempotencyClaim::Completed(response));
        assert_eq!(record.answer("g"), IdempotencyClaim::FingerprintMismatch);
    }
}

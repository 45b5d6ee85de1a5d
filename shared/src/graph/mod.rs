//! Meta's Graph API (WhatsApp Cloud API) as this project calls it: sending messages, reading
//! message templates and business phone numbers, with Meta's error shapes and the retry rules of SPEC §4.
//!
//! - [`GraphClient`]: one per process (it owns the pooled HTTPS client); cheap to clone.
//! - [`GraphError`]: one failed call, with Meta's error when Meta answered one.
//! - [`retry`]: exponential backoff with full jitter inside a time budget, reusable for any call;
//!   retried operations fail with a [`GraphFailure`] (last error, attempts, suggested `Retry-After`).

mod client;
mod error;
pub mod retry;

pub use client::{
    GraphClient, GraphConfig, GraphTemplate, INVALID_CURSOR, INVALID_TOKEN, MediaInfo, MediaUpload,
    OBJECT_DOES_NOT_EXIST, PhoneNumber, QualityScore, SendAccepted, TemplateListing, TemplatePage,
    Throughput, UNKNOWN_OBJECT,
};
pub use error::{GraphError, MetaApiError, RETRYABLE_META_CODES};
pub use retry::{Failure, RetryPolicy, Retryable};

/// How a retried Graph call failed: the last error, how many attempts ran and the `Retry-After` to
/// suggest to our own caller.
pub type GraphFailure = Failure<GraphError>;

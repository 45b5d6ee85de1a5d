//! Where media is kept: a customer's files once fetched from Meta, and a business's uploads
//! before they go to Meta. S3 deployed, a local folder in the local stack. Bytes go through as
//! a stream; the whole file is never in memory.

use std::pin::Pin;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;

/// A file's bytes as they arrive.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// A kept media object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaObject {
    pub size: u64,
    /// Lowercase hex, checked when the object was written.
    pub sha256: String,
    pub mime_type: String,
}

/// A URL that reads one object without credentials, until `expires_at` (unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaUrl {
    pub url: String,
    pub expires_at: i64,
}

/// What the PUT of an upload must be: the URL is signed for exactly this.
#[derive(Debug, Clone, Copy)]
pub struct UploadTerms<'a> {
    pub mime_type: &'a str,
    pub size: u64,
    pub filename: Option<&'a str>,
}

/// Where and how to PUT an upload, until `expires_at` (unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadUrl {
    pub url: String,
    /// Headers the PUT must carry, as signed.
    pub headers: Vec<(String, String)>,
    pub expires_at: i64,
}

/// An uploaded file, opened for reading.
pub struct OpenedUpload {
    pub size: u64,
    /// As declared when the upload URL was made.
    pub mime_type: String,
    pub filename: Option<String>,
    pub body: ByteStream,
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The bytes did not hash to what Meta said: nothing was kept.
    #[error("the file's sha256 is {actual}, not {expected}")]
    Corrupt { expected: String, actual: String },
    /// The bytes could not be read from their source (the download broke off).
    #[error("the file could not be read: {0}")]
    Source(String),
    /// The store itself failed.
    #[error("media storage unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait MediaStore: Send + Sync {
    /// The object kept under `key`, if there is one.
    async fn stored(&self, key: &str) -> Result<Option<MediaObject>, MediaError>;
    /// Streams `body` into `key`, hashing it on the way; the object appears only if its sha256
    /// is `expected_sha256` (hex, any case), else nothing is kept and the answer is
    /// [`MediaError::Corrupt`].
    async fn put(
        &self,
        key: &str,
        mime_type: &str,
        expected_sha256: &str,
        body: ByteStream,
    ) -> Result<MediaObject, MediaError>;
    /// A URL that GETs the object for `valid_for` from `now` (unix seconds).
    async fn url(&self, key: &str, now: i64, valid_for: Duration) -> Result<MediaUrl, MediaError>;
    /// A URL that PUTs `key` once, with the file of `terms`, for `valid_for` from `now`.
    async fn upload_url(
        &self,
        key: &str,
        terms: UploadTerms<'_>,
        now: i64,
        valid_for: Duration,
    ) -> Result<UploadUrl, MediaError>;
    /// The file uploaded under `key`, streamed; `None` while nothing was PUT there.
    async fn open(&self, key: &str) -> Result<Option<OpenedUpload>, MediaError>;
}

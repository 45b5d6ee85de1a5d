//! [`MediaStore`] on S3: a multipart upload of 8 MiB parts, hashed as the bytes go through, so a
//! file of any size needs one part in memory. The upload completes only if the sha256 is right;
//! otherwise it is aborted and no object (nor any part) is kept. The object's sha256 is kept in
//! its metadata; a presigned GET is its URL. A business's upload is a presigned PUT signed for
//! its type, length and file name, read back as a stream.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream as S3Body;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use sha2::{Digest, Sha256};

use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::ports::{
    ByteStream, MediaError, MediaObject, MediaStore, MediaUrl, OpenedUpload, UploadTerms, UploadUrl,
};

/// Each part but the last (S3 needs at least 5 MiB).
pub const PART_SIZE: usize = 8 * 1024 * 1024;
const SHA256_METADATA: &str = "sha256";
/// Percent-encoded UTF-8: metadata travels as HTTP headers, which take ASCII only.
const FILENAME_METADATA: &str = "filename";

/// Signed from `now`, so that what `now` says is what S3 enforces.
fn presigning(now: i64, valid_for: Duration) -> Result<PresigningConfig, MediaError> {
    PresigningConfig::builder()
        .start_time(SystemTime::UNIX_EPOCH + Duration::from_secs(now.max(0) as u64))
        .expires_in(valid_for)
        .build()
        .map_err(|error| unavailable("presigning", error))
}

pub struct S3MediaStore {
    client: aws_sdk_s3::Client,
    bucket: String,
}

fn unavailable(operation: &str, error: impl std::error::Error) -> MediaError {
    let mut message = format!("{operation}: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    MediaError::Unavailable(message)
}

impl S3MediaStore {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    /// Uploads every part of `body`; answers the parts and the file's size and sha256.
    async fn upload_parts(
        &self,
        key: &str,
        upload_id: &str,
        mut body: ByteStream,
    ) -> Result<(Vec<CompletedPart>, u64, String), MediaError> {
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut parts = Vec::new();
        let mut buffer = BytesMut::with_capacity(PART_SIZE);
        loop {
            let chunk = body
                .next()
                .await
                .transpose()
                .map_err(|error| MediaError::Source(error.to_string()))?;
            let done = chunk.is_none();
            if let Some(chunk) = chunk {
                hasher.update(&chunk);
                size += chunk.len() as u64;
                buffer.extend_from_slice(&chunk);
            }
            while buffer.len() >= PART_SIZE {
                let part = buffer.split_to(PART_SIZE).freeze();
                parts.push(
                    self.upload_part(key, upload_id, parts.len() + 1, part)
                        .await?,
                );
            }
            if done {
                // The last part (S3 takes one empty part for an empty file).
                if !buffer.is_empty() || parts.is_empty() {
                    let part = buffer.split().freeze();
                    parts.push(
                        self.upload_part(key, upload_id, parts.len() + 1, part)
                            .await?,
                    );
                }
                return Ok((parts, size, hex::encode(hasher.finalize())));
            }
        }
    }

    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: usize,
        bytes: Bytes,
    ) -> Result<CompletedPart, MediaError> {
        let number = i32::try_from(number).unwrap_or(i32::MAX);
        let uploaded = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .body(S3Body::from(bytes))
            .send()
            .await
            .map_err(|error| unavailable("UploadPart", error))?;
        Ok(CompletedPart::builder()
            .part_number(number)
            .set_e_tag(uploaded.e_tag().map(str::to_owned))
            .build())
    }

    async fn abort(&self, key: &str, upload_id: &str) {
        let aborted = self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await;
        if let Err(error) = aborted {
            // The bucket's lifecycle rule removes what an abort leaves, after a day.
            tracing::warn!(key, error = %unavailable("AbortMultipartUpload", error), "upload not aborted");
        }
    }
}

#[async_trait]
impl MediaStore for S3MediaStore {
    async fn stored(&self, key: &str) -> Result<Option<MediaObject>, MediaError> {
        let head = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        let head = match head {
            Ok(head) => head,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => {
                return Ok(None);
            }
            Err(error) => return Err(unavailable("HeadObject", error)),
        };
        let sha256 = head
            .metadata()
            .and_then(|metadata| metadata.get(SHA256_METADATA))
            .cloned()
            .unwrap_or_default();
        Ok(Some(MediaObject {
            size: head.content_length().unwrap_or_default().max(0) as u64,
            sha256,
            mime_type: head
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_owned(),
        }))
    }

    async fn put(
        &self,
        key: &str,
        mime_type: &str,
        expected_sha256: &str,
        body: ByteStream,
    ) -> Result<MediaObject, MediaError> {
        let expected = expected_sha256.to_ascii_lowercase();
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type(mime_type)
            .metadata(SHA256_METADATA, &expected)
            .send()
            .await
            .map_err(|error| unavailable("CreateMultipartUpload", error))?;
        let upload_id = created
            .upload_id()
            .ok_or_else(|| MediaError::Unavailable("S3 gave no upload id".into()))?
            .to_owned();
        let (parts, size, sha256) = match self.upload_parts(key, &upload_id, body).await {
            Ok(uploaded) => uploaded,
            Err(error) => {
                self.abort(key, &upload_id).await;
                return Err(error);
            }
        };
        if sha256 != expected {
            self.abort(key, &upload_id).await;
            return Err(MediaError::Corrupt {
                expected,
                actual: sha256,
            });
        }
        let completed = self
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(&upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await;
        if let Err(error) = completed {
            self.abort(key, &upload_id).await;
            return Err(unavailable("CompleteMultipartUpload", error));
        }
        Ok(MediaObject {
            size,
            sha256,
            mime_type: mime_type.to_owned(),
        })
    }

    async fn url(&self, key: &str, now: i64, valid_for: Duration) -> Result<MediaUrl, MediaError> {
        let presigned = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(presigning(now, valid_for)?)
            .await
            .map_err(|error| unavailable("presigning GetObject", error))?;
        Ok(MediaUrl {
            url: presigned.uri().to_owned(),
            expires_at: now + valid_for.as_secs() as i64,
        })
    }

    async fn upload_url(
        &self,
        key: &str,
        terms: UploadTerms<'_>,
        now: i64,
        valid_for: Duration,
    ) -> Result<UploadUrl, MediaError> {
        let mut put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(terms.mime_type)
            .content_length(i64::try_from(terms.size).unwrap_or(i64::MAX));
        if let Some(filename) = terms.filename {
            let encoded = utf8_percent_encode(filename, NON_ALPHANUMERIC).to_string();
            put = put.metadata(FILENAME_METADATA, encoded);
        }
        let presigned = put
            .presigned(presigning(now, valid_for)?)
            .await
            .map_err(|error| unavailable("presigning PutObject", error))?;
        let signed = signed_headers(presigned.uri());
        let headers = presigned
            .headers()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
            // Only what the signature covers: the SDK also adds the invocation's unsigned
            // `x-amzn-trace-id`, which is not the client's to send. The client's HTTP library
            // sets the length from the body; S3 checks it as signed.
            .filter(|(name, _)| signed.contains(name) && name != "content-length")
            .collect();
        Ok(UploadUrl {
            url: presigned.uri().to_owned(),
            headers,
            expires_at: now + valid_for.as_secs() as i64,
        })
    }

    async fn open(&self, key: &str) -> Result<Option<OpenedUpload>, MediaError> {
        let got = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        let object = match got {
            Ok(object) => object,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Ok(None);
            }
            Err(error) => return Err(unavailable("GetObject", error)),
        };
        let filename = object
            .metadata()
            .and_then(|metadata| metadata.get(FILENAME_METADATA))
            .map(|encoded| percent_decode_str(encoded).decode_utf8_lossy().into_owned());
        let body = futures::stream::unfold(object.body, |mut body| async move {
            let chunk = body.next().await?;
            Some((chunk.map_err(std::io::Error::other), body))
        });
        Ok(Some(OpenedUpload {
            size: object.content_length.unwrap_or_default().max(0) as u64,
            mime_type: object
                .content_type
                .unwrap_or_else(|| "application/octet-stream".to_owned()),
            filename,
            body: Box::pin(body),
        }))
    }
}

/// The header names a presigned URL's signature covers (its `X-Amz-SignedHeaders`), lowercase.
fn signed_headers(uri: &str) -> Vec<String> {
    let query = uri.split_once('?').map_or("", |(_, query)| query);
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("X-Amz-SignedHeaders="))
        .map(|names| {
            percent_decode_str(names)
                .decode_utf8_lossy()
                .to_ascii_lowercase()
        })
        .map(|names| names.split(';').map(str::to_owned).collect())
        .unwrap_or_default()
}

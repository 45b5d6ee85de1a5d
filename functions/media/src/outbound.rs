//! A business's own files to WhatsApp. `POST /api/whatsapp/media/uploads` answers a URL to PUT
//! the file to the media store (no file passes through API Gateway, which takes 10 MB at most);
//! `POST /api/whatsapp/media` `{"uploadId"}` then reads the file's real type from its first
//! bytes, holds it to WhatsApp's limit for that type and streams it to Meta. A file of at most
//! 5 MB may be the body of `POST /api/whatsapp/media` itself.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderMap, StatusCode, header};
use intaj_shared::access::{connection_of, secrets_of};
use intaj_shared::api::{ApiError, json};
use intaj_shared::domain::{MediaRefusal, MediaRule, SNIFF_BYTES, check_declared, check_media};
use intaj_shared::graph::MediaUpload;
use intaj_shared::ports::{ByteStream, MediaError, UploadTerms};
use serde::{Deserialize, Serialize};

use crate::MediaDeps;
use crate::fetch::storage_error;

/// How long an upload URL takes a PUT.
pub const UPLOAD_URL_VALID_FOR: Duration = Duration::from_secs(900);
/// The largest file taken as the request body itself (API Gateway and Lambda cap bodies).
pub const DIRECT_MAX_BYTES: u64 = 5 * 1024 * 1024;
/// How long Meta keeps an uploaded file's media id usable.
const META_KEEPS_UPLOADS: i64 = 30 * 24 * 3600;

/// Where a bot's upload is kept (until the bucket's lifecycle rule removes it).
fn upload_key(bot_id: &str, upload_id: &str) -> String {
    format!("uploads/{bot_id}/{upload_id}")
}

#[derive(Deserialize)]
#[serde(expecting = "a JSON object")]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewUpload {
    mime_type: String,
    size: u64,
    filename: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UploadAnswer<'a> {
    upload_id: &'a str,
    url: &'a str,
    method: &'static str,
    headers: serde_json::Map<String, serde_json::Value>,
    expires_at: i64,
}

#[derive(Deserialize)]
#[serde(expecting = "a JSON object")]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UploadedRef {
    upload_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SentAnswer<'a> {
    media_id: &'a str,
    mime_type: &'a str,
    kind: &'a str,
    size: u64,
    expires_at: i64,
}

/// `POST /api/whatsapp/media/uploads`: a URL to PUT one file of the declared type and size.
pub async fn new_upload(
    deps: &MediaDeps,
    bot_id: &str,
    body: &[u8],
    now: i64,
) -> Result<http::Response<String>, ApiError> {
    let request: NewUpload = intaj_shared::api::json_object(body).map_err(|error| {
        ApiError::bad_request(
            "invalid_json",
            format!(r#"the body must be {{"mimeType","size","filename"?}}: {error}"#),
        )
    })?;
    let rule = check_declared(&request.mime_type, request.size).map_err(refused)?;
    let filename = request
        .filename
        .as_deref()
        .map(valid_filename)
        .transpose()?;
    let upload_id = hex::encode(rand::random::<[u8; 16]>());
    let terms = UploadTerms {
        mime_type: rule.mime_type,
        size: request.size,
        filename,
    };
    let url = deps
        .media
        .upload_url(
            &upload_key(bot_id, &upload_id),
            terms,
            now,
            UPLOAD_URL_VALID_FOR,
        )
        .await
        .map_err(storage_error)?;
    tracing::info!(
        bot_id,
        upload_id,
        mime_type = rule.mime_type,
        size = request.size,
        "upload URL made"
    );
    let headers = url
        .headers
        .iter()
        .map(|(name, value)| (name.clone(), value.clone().into()))
        .collect();
    Ok(json(
        StatusCode::CREATED,
        &UploadAnswer {
            upload_id: &upload_id,
            url: &url.url,
            method: "PUT",
            headers,
            expires_at: url.expires_at,
        },
    ))
}

/// `POST /api/whatsapp/media`: an uploaded file (`{"uploadId"}`) or the body itself, to WhatsApp.
pub async fn to_whatsapp(
    deps: &MediaDeps,
    bot_id: &str,
    headers: &HeaderMap,
    filename: Option<String>,
    body: &[u8],
    now: i64,
) -> Result<http::Response<String>, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let is_json = content_type.as_deref().is_some_and(|value| {
        value
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("application/json")
    });
    let file = if is_json {
        uploaded_file(deps, bot_id, body).await?
    } else {
        direct_file(content_type, filename, body)?
    };
    send_file(deps, bot_id, file, now).await
}

/// A file on its way to Meta.
struct File {
    declared_type: Option<String>,
    filename: Option<String>,
    size: u64,
    body: ByteStream,
}

async fn uploaded_file(deps: &MediaDeps, bot_id: &str, body: &[u8]) -> Result<File, ApiError> {
    let reference: UploadedRef = intaj_shared::api::json_object(body).map_err(|error| {
        ApiError::bad_request(
            "invalid_json",
            format!(r#"the body must be {{"uploadId"}}, or the file itself: {error}"#),
        )
    })?;
    let not_found = || {
        ApiError::not_found(
            "upload_not_found",
            format!(
                "no file was uploaded for upload {}: PUT the file to the url that \
                 POST /api/whatsapp/media/uploads answered (it takes one within 15 minutes), \
                 then post again",
                reference.upload_id
            ),
        )
    };
    let well_formed = reference.upload_id.len() == 32
        && reference
            .upload_id
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !well_formed {
        return Err(not_found());
    }
    let opened = deps
        .media
        .open(&upload_key(bot_id, &reference.upload_id))
        .await
        .map_err(storage_error)?
        .ok_or_else(not_found)?;
    Ok(File {
        declared_type: Some(opened.mime_type),
        filename: opened.filename,
        size: opened.size,
        body: opened.body,
    })
}

fn direct_file(
    content_type: Option<String>,
    filename: Option<String>,
    body: &[u8],
) -> Result<File, ApiError> {
    let size = body.len() as u64;
    if size > DIRECT_MAX_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "media_too_large",
            "a file posted as the body may be at most 5 MB; send larger files through \
             POST /api/whatsapp/media/uploads",
        ));
    }
    let filename = filename
        .as_deref()
        .map(valid_filename)
        .transpose()?
        .map(str::to_owned);
    let bytes = Bytes::copy_from_slice(body);
    Ok(File {
        declared_type: content_type,
        filename,
        size,
        body: Box::pin(futures::stream::once(async move { Ok(bytes) })),
    })
}

async fn send_file(
    deps: &MediaDeps,
    bot_id: &str,
    file: File,
    now: i64,
) -> Result<http::Response<String>, ApiError> {
    let (head, body) = first_bytes(file.body, SNIFF_BYTES)
        .await
        .map_err(|error| storage_error(MediaError::Source(error.to_string())))?;
    let rule: &MediaRule =
        check_media(file.declared_type.as_deref(), &head, file.size).map_err(refused)?;
    let connection = connection_of(deps.connections.as_ref(), bot_id).await?;
    let secrets = secrets_of(deps.secrets.as_ref(), bot_id).await?;
    let upload = MediaUpload {
        mime_type: rule.mime_type,
        size: file.size,
        filename: file.filename.as_deref(),
    };
    let head = Bytes::from(head);
    let body: ByteStream = Box::pin(futures::stream::once(async move { Ok(head) }).chain(body));
    let media_id = deps
        .graph
        .upload_media(
            &connection.phone_number_id,
            secrets.access_token.expose(),
            upload,
            body,
        )
        .await
        .map_err(|error| {
            tracing::warn!(bot_id, %error, "Meta did not take the file");
            ApiError::of_meta(&error, 1, "take the file")
        })?;
    tracing::info!(
        bot_id,
        media_id,
        mime_type = rule.mime_type,
        kind = rule.kind.as_str(),
        size = file.size,
        "media uploaded to WhatsApp"
    );
    Ok(json(
        StatusCode::CREATED,
        &SentAnswer {
            media_id: &media_id,
            mime_type: rule.mime_type,
            kind: rule.kind.as_str(),
            size: file.size,
            expires_at: now + META_KEEPS_UPLOADS,
        },
    ))
}

/// Reads at least `wanted` bytes (fewer if the file is shorter); answers them and the rest.
async fn first_bytes(
    mut body: ByteStream,
    wanted: usize,
) -> Result<(Vec<u8>, ByteStream), std::io::Error> {
    let mut head = Vec::with_capacity(wanted);
    while head.len() < wanted {
        match body.next().await {
            Some(chunk) => head.extend_from_slice(&chunk?),
            None => break,
        }
    }
    Ok((head, body))
}

fn refused(refusal: MediaRefusal) -> ApiError {
    let status = match refusal {
        MediaRefusal::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        MediaRefusal::Empty => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::UNSUPPORTED_MEDIA_TYPE,
    };
    tracing::info!(code = refusal.code(), %refusal, "media refused");
    ApiError::new(status, refusal.code(), refusal.to_string())
}

/// A file name WhatsApp shows the customer: no path, no control characters.
fn valid_filename(name: &str) -> Result<&str, ApiError> {
    let valid = !name.trim().is_empty()
        && name.chars().count() <= 240
        && !name
            .chars()
            .any(|c| c.is_control() || matches!(c, '/' | '\\'));
    if valid {
        Ok(name)
    } else {
        Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_filename",
            "filename must be 1 to 240 characters, without / or \\ or control characters",
        ))
    }
}

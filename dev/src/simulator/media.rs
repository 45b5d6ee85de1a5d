//! Media: `POST /{version}/{phoneNumberId}/media` (multipart upload), `GET /{version}/{mediaId}`
//! (its URL and metadata), `DELETE /{version}/{mediaId}`, and the download behind the URL,
//! `GET /_sim/media/{mediaId}` (Bearer, like Meta's lookaside URLs). `GET /{version}/{id}` also
//! answers phone number ids and message template ids, since Graph serves every object there.

use axum::Json;
use axum::extract::{
    FromRequest, Multipart, OriginalUri, Path, Query, Request, State as StateExtractor,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::atomic::Ordering;

use intaj_shared::domain::mime_essence;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::errors::GraphError;
use super::graph_api::{
    AppState, TokenQuery, authenticate, base_url, check_version, inject_faults, phone_number_info,
    template_delay,
};
use super::ids;
use super::state::{StoredMedia, lock};
use super::templates::{self, TemplateQuery};

const MIB: usize = 1024 * 1024;

/// The largest upload accepted (documents); the router's body limit is set from it.
pub(crate) const MAX_UPLOAD_BYTES: usize = 100 * MIB;

/// The MIME types WhatsApp accepts and their size limits.
const SUPPORTED: &[(&str, usize)] = &[
    ("audio/aac", 16 * MIB),
    ("audio/amr", 16 * MIB),
    ("audio/mpeg", 16 * MIB),
    ("audio/mp4", 16 * MIB),
    ("audio/ogg", 16 * MIB),
    ("image/jpeg", 5 * MIB),
    ("image/png", 5 * MIB),
    ("image/webp", 500 * 1024),
    ("video/3gpp", 16 * MIB),
    ("video/mp4", 16 * MIB),
    ("text/plain", 100 * MIB),
    ("application/pdf", 100 * MIB),
    ("application/msword", 100 * MIB),
    ("application/vnd.ms-excel", 100 * MIB),
    ("application/vnd.ms-powerpoint", 100 * MIB),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        100 * MIB,
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        100 * MIB,
    ),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        100 * MIB,
    ),
];

#[derive(Debug, Serialize)]
pub(crate) struct UploadResponse {
    id: String,
}

#[derive(Debug, Serialize)]
struct MediaInfo {
    messaging_product: &'static str,
    url: String,
    mime_type: String,
    sha256: String,
    file_size: usize,
    id: String,
}

/// `POST /{version}/{phoneNumberId}/media` with multipart fields `messaging_product`, `type`, `file`.
pub(crate) async fn upload(
    StateExtractor(state): AppState,
    Path((version, phone_number_id)): Path<(String, String)>,
    Query(token): Query<TokenQuery>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    request: Request,
) -> Result<Json<UploadResponse>, GraphError> {
    check_version(&state, &version, uri.path())?;
    let numbers = authenticate(&state, &headers, token.access_token.as_deref())?;
    if !numbers
        .iter()
        .any(|number| number.phone_number_id == phone_number_id)
    {
        return Err(GraphError::unknown_object("post", &phone_number_id));
    }
    inject_faults(&state).await?;

    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|_| GraphError::invalid_parameter("The request must be multipart/form-data"))?;
    let (mut product, mut declared_type, mut file) = (None, None, None);
    while let Some(field) = multipart.next_field().await.map_err(|error| {
        GraphError::code_with_details(131053, format!("Unable to read the upload: {error}"))
    })? {
        match field.name().unwrap_or_default() {
            "messaging_product" => product = field.text().await.ok(),
            "type" => declared_type = field.text().await.ok(),
            "file" => {
                let part_type = field.content_type().map(str::to_owned);
                let filename = field.file_name().map(str::to_owned);
                let bytes = field.bytes().await.map_err(|error| {
                    GraphError::code_with_details(
                        131053,
                        format!("Unable to read the file: {error}"),
                    )
                })?;
                file = Some((part_type, filename, bytes));
            }
            _ => {}
        }
    }
    match product.as_deref().map(str::trim) {
        None | Some("") => return Err(GraphError::required("messaging_product")),
        Some("whatsapp") => {}
        Some(other) => {
            return Err(GraphError::invalid_parameter(format!(
                "Param messaging_product must be \"whatsapp\", got \"{other}\""
            )));
        }
    }
    let (part_type, filename, bytes) = file.ok_or_else(|| GraphError::required("file"))?;
    let mime_type = declared_type
        .filter(|value| !value.trim().is_empty())
        .or(part_type);
    let mime_type = mime_essence(&mime_type.ok_or_else(|| GraphError::required("type"))?);
    let Some(&(_, max_bytes)) = SUPPORTED
        .iter()
        .find(|(supported, _)| *supported == mime_type)
    else {
        return Err(GraphError::code_with_details(
            131053,
            format!(
                "Param file must be a file with one of the following types: {}. Received file of type '{mime_type}'.",
                SUPPORTED
                    .iter()
                    .map(|(supported, _)| *supported)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    };
    if bytes.is_empty() || bytes.len() > max_bytes {
        return Err(GraphError::code_with_details(
            131053,
            format!(
                "Media file size must be between 1 and {max_bytes} bytes for {mime_type}, got {}",
                bytes.len()
            ),
        ));
    }
    let id = ids::numeric_id();
    let media = StoredMedia {
        phone_number_id,
        sha256: hex::encode(Sha256::digest(&bytes)),
        mime_type,
        filename,
        bytes: bytes.to_vec(),
    };
    tracing::info!(%id, mime_type = %media.mime_type, size = media.bytes.len(), "media uploaded");
    lock(&state.media).insert(id.clone(), media);
    Ok(Json(UploadResponse { id }))
}

/// `GET /{version}/{id}`: a phone number, a message template (with `fields=` selection) or a media
/// object (with its download URL).
pub(crate) async fn get_object(
    StateExtractor(state): AppState,
    Path((version, id)): Path<(String, String)>,
    Query(token): Query<TokenQuery>,
    Query(query): Query<TemplateQuery>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    check_version(&state, &version, uri.path())?;
    let numbers = authenticate(&state, &headers, token.access_token.as_deref())?;
    if let Some(number) = numbers.iter().find(|number| number.phone_number_id == id) {
        inject_faults(&state).await?;
        return Ok(Json(phone_number_info(number)).into_response());
    }
    let template = state.template_by_id(numbers.iter().map(|number| number.waba_id.as_str()), &id);
    if let Some(template) = template {
        inject_faults(&state).await?;
        template_delay(&state, None).await;
        let fields = templates::requested_fields(query.fields.as_deref());
        return Ok(Json(templates::select_fields(&template, fields.as_deref())).into_response());
    }
    let media = lock(&state.media).get(&id).cloned();
    let media = media
        .filter(|media| {
            numbers
                .iter()
                .any(|number| number.phone_number_id == media.phone_number_id)
        })
        .ok_or_else(|| GraphError::unknown_object("get", &id))?;
    inject_faults(&state).await?;
    let lifetime = state.media_url_lifetime.load(Ordering::Relaxed);
    let expires_at = intaj_shared::clock::unix_now() + lifetime;
    let hash = url_hash(&state.media_url_key, &id, expires_at);
    Ok(Json(MediaInfo {
        messaging_product: "whatsapp",
        url: format!(
            "{}/_sim/media/{id}?ext={expires_at}&hash={hash}",
            base_url(&state, &headers)
        ),
        mime_type: media.mime_type,
        sha256: media.sha256,
        file_size: media.bytes.len(),
        id,
    })
    .into_response())
}

#[derive(Debug, Serialize)]
pub(crate) struct DeleteResponse {
    success: bool,
}

/// `DELETE /{version}/{mediaId}`.
pub(crate) async fn delete(
    StateExtractor(state): AppState,
    Path((version, id)): Path<(String, String)>,
    Query(token): Query<TokenQuery>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Json<DeleteResponse>, GraphError> {
    check_version(&state, &version, uri.path())?;
    let numbers = authenticate(&state, &headers, token.access_token.as_deref())?;
    let owned = lock(&state.media).get(&id).is_some_and(|media| {
        numbers
            .iter()
            .any(|number| number.phone_number_id == media.phone_number_id)
    });
    if !owned {
        return Err(GraphError::unknown_object("delete", &id));
    }
    inject_faults(&state).await?;
    lock(&state.media).remove(&id);
    Ok(Json(DeleteResponse { success: true }))
}

/// What signs a download URL: the media id and the URL's expiry, under the simulator's key.
fn url_hash(key: &[u8; 32], media_id: &str, expires_at: i64) -> String {
    let mut hasher = Sha256::new();
    hasher.update(key);
    hasher.update(format!("{media_id}.{expires_at}"));
    hex::encode(hasher.finalize())
}

#[derive(Debug, Deserialize)]
pub(crate) struct DownloadQuery {
    ext: Option<i64>,
    hash: Option<String>,
}

/// `GET /_sim/media/{mediaId}?ext=…&hash=…`: the file itself, for a token of the number that
/// uploaded it, while the URL `GET /{mediaId}` answered has not expired (404 after, like
/// Meta's lookaside URLs).
pub(crate) async fn download(
    StateExtractor(state): AppState,
    Path(id): Path<String>,
    Query(token): Query<TokenQuery>,
    Query(url): Query<DownloadQuery>,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let numbers = authenticate(&state, &headers, token.access_token.as_deref())?;
    let signed = match (url.ext, url.hash.as_deref()) {
        (Some(expires_at), Some(hash)) => {
            let expected = url_hash(&state.media_url_key, &id, expires_at);
            let genuine: bool =
                subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), hash.as_bytes()).into();
            genuine && expires_at >= intaj_shared::clock::unix_now()
        }
        _ => false,
    };
    if !signed {
        return Ok(StatusCode::NOT_FOUND.into_response());
    }
    let media = lock(&state.media).get(&id).cloned();
    let Some(media) = media.filter(|media| {
        numbers
            .iter()
            .any(|number| number.phone_number_id == media.phone_number_id)
    }) else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    let content_type = HeaderValue::from_str(&media.mime_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    state.media_downloads.fetch_add(1, Ordering::Relaxed);
    let mut bytes = media.bytes;
    if state.corrupt_media_downloads.load(Ordering::Relaxed) {
        match bytes.last_mut() {
            Some(last) => *last ^= 0xff,
            None => bytes.push(0),
        }
    }
    Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
}

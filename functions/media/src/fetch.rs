//! `GET /api/whatsapp/media/{mediaId}`: the media of one of the bot's inbound messages, copied
//! once from Meta into the media store (checked against Meta's sha256), then answered as a URL
//! that reads it without credentials for [`URL_VALID_FOR`].

use std::time::Duration;

use http::StatusCode;
use intaj_shared::access::secrets_of;
use intaj_shared::api::{ApiError, json};
use intaj_shared::graph::{GraphError, MediaInfo, OBJECT_DOES_NOT_EXIST, UNKNOWN_OBJECT};
use intaj_shared::ports::{MediaError, MediaObject};
use serde::Serialize;

use crate::MediaDeps;

/// How long an answered URL works. Short: it is a bearer credential for the file (and a
/// presigned URL stops working when the function's own session credentials expire anyway).
pub const URL_VALID_FOR: Duration = Duration::from_secs(900);

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MediaAnswer<'a> {
    media_id: &'a str,
    mime_type: &'a str,
    size: u64,
    sha256: &'a str,
    url: &'a str,
    expires_at: i64,
}

/// Where a bot's media object is kept.
pub fn object_key(bot_id: &str, media_id: &str) -> String {
    format!("media/{bot_id}/{media_id}")
}

pub async fn media(
    deps: &MediaDeps,
    bot_id: &str,
    media_id: &str,
    now: i64,
) -> Result<http::Response<String>, ApiError> {
    if deps
        .messages
        .inbound_media(bot_id, media_id)
        .await?
        .is_none()
    {
        // Another bot's media reads the same as an id that does not exist.
        return Err(ApiError::not_found(
            "media_not_found",
            format!("no message from a customer of this API key's bot has media {media_id}"),
        ));
    }
    let key = object_key(bot_id, media_id);
    let object = match deps.media.stored(&key).await.map_err(storage_error)? {
        Some(object) => object,
        None => copy_from_meta(deps, bot_id, media_id, &key).await?,
    };
    let url = deps
        .media
        .url(&key, now, URL_VALID_FOR)
        .await
        .map_err(storage_error)?;
    Ok(json(
        StatusCode::OK,
        &MediaAnswer {
            media_id,
            mime_type: &object.mime_type,
            size: object.size,
            sha256: &object.sha256,
            url: &url.url,
            expires_at: url.expires_at,
        },
    ))
}

async fn copy_from_meta(
    deps: &MediaDeps,
    bot_id: &str,
    media_id: &str,
    key: &str,
) -> Result<MediaObject, ApiError> {
    let secrets = secrets_of(deps.secrets.as_ref(), bot_id).await?;
    let token = secrets.access_token.expose();
    let info: MediaInfo = deps
        .graph
        .media_info(media_id, token)
        .await
        .map_err(|failure| meta_error(bot_id, media_id, &failure.error))?;
    let body = deps
        .graph
        .download_media(&info.url, token)
        .await
        .map_err(|error| meta_error(bot_id, media_id, &error))?;
    let kept = deps
        .media
        .put(key, &info.mime_type, &info.sha256, body)
        .await
        .map_err(|error| match error {
            MediaError::Corrupt { expected, actual } => {
                tracing::warn!(
                    bot_id,
                    media_id,
                    expected,
                    actual,
                    "media download corrupt; nothing kept"
                );
                ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "media_corrupt",
                    "the file WhatsApp sent does not match its sha256; nothing was kept, retry",
                )
            }
            MediaError::Source(problem) => {
                tracing::warn!(bot_id, media_id, problem, "media download broke off");
                ApiError::upstream_unavailable(1)
            }
            unavailable => storage_error(unavailable),
        })?;
    tracing::info!(
        bot_id,
        media_id,
        size = kept.size,
        mime_type = kept.mime_type,
        "media copied from Meta"
    );
    Ok(kept)
}

pub(crate) fn storage_error(error: MediaError) -> ApiError {
    tracing::error!(%error, "media storage unavailable");
    ApiError::unavailable(
        "storage_unavailable",
        "media storage is unavailable; retry later",
    )
    .with_retry_after(1)
}

fn meta_error(bot_id: &str, media_id: &str, error: &GraphError) -> ApiError {
    tracing::warn!(bot_id, media_id, %error, "Meta did not give the media");
    let expired = error.meta_error().is_some_and(|meta| {
        meta.code == UNKNOWN_OBJECT && meta.error_subcode == Some(OBJECT_DOES_NOT_EXIST)
    });
    if !expired {
        return ApiError::of_meta(error, 1, "give the media");
    }
    ApiError::new(
        StatusCode::GONE,
        "media_expired",
        format!("WhatsApp no longer keeps media {media_id} (media expire after 30 days)"),
    )
    .with_upstream_of(error)
}

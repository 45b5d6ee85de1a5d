//! `image`, `video`, `audio`, `document`, `sticker`: a public http(s) URL or an uploaded media
//! id, with a caption where Meta takes one.

use serde::Deserialize;
use serde_json::Value;

use crate::whatsapp::outbound::{
    CaptionedMedia, DocumentMedia, Media, MediaSource, MessageContent,
};

use super::{ValidationError, is_http_url, max_len, present, shaped};

/// WhatsApp's documented limit, in characters.
const MAX_CAPTION: usize = 1024;

#[derive(Deserialize)]
#[serde(expecting = "an object")]
#[serde(deny_unknown_fields)]
struct MediaContent {
    #[serde(default, alias = "link")]
    url: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    caption: Option<String>,
    #[serde(default)]
    filename: Option<String>,
}

/// The message, from the request's `content`.
pub(super) fn content(kind: &str, content: Value) -> Result<MessageContent, ValidationError> {
    let MediaContent {
        url,
        id,
        caption,
        filename,
    } = shaped(
        content,
        &format!("content for type {kind}"),
        r#"{"url": "https://…"} or {"id": "<media id>"}, with "caption" or "filename" where allowed"#,
    )?;
    let source = media_source("content", present(url), present(id))?;
    let caption = present(caption);
    let filename = present(filename);

    if let Some(caption) = &caption {
        if matches!(kind, "audio" | "sticker") {
            return Err(ValidationError::new(
                "caption_not_allowed",
                format!("WhatsApp shows no caption on {kind} messages: remove content.caption"),
            ));
        }
        max_len("content.caption", caption, MAX_CAPTION, "caption_too_long")?;
    }
    if filename.is_some() && kind != "document" {
        return Err(ValidationError::new(
            "filename_not_allowed",
            format!(
                "only documents have a file name, not {kind} messages: remove content.filename"
            ),
        ));
    }

    Ok(match kind {
        "image" => MessageContent::Image {
            image: CaptionedMedia { source, caption },
        },
        "video" => MessageContent::Video {
            video: CaptionedMedia { source, caption },
        },
        "document" => MessageContent::Document {
            document: DocumentMedia {
                source,
                caption,
                filename,
            },
        },
        "audio" => MessageContent::Audio {
            audio: Media { source },
        },
        _ => MessageContent::Sticker {
            sticker: Media { source },
        },
    })
}

/// Exactly one of a public http(s) URL Meta downloads, or the id of uploaded media.
pub(super) fn media_source(
    field: &str,
    url: Option<String>,
    id: Option<String>,
) -> Result<MediaSource, ValidationError> {
    match (url, id) {
        (Some(_), Some(_)) => Err(ValidationError::new(
            "invalid_media",
            format!("{field} has both url and id: give exactly one"),
        )),
        (None, None) => Err(ValidationError::new(
            "invalid_media",
            format!("{field} needs a url (https://…) or the id of uploaded media"),
        )),
        (Some(url), None) if is_http_url(&url) => Ok(MediaSource::Link(url)),
        (Some(url), None) => Err(ValidationError::new(
            "invalid_media",
            format!("{field}.url must be a public http(s) URL, got {url:?}"),
        )),
        (None, Some(id)) if id.chars().any(char::is_whitespace) => Err(ValidationError::new(
            "invalid_media",
            format!("{field}.id must be the id Meta returned for uploaded media, got {id:?}"),
        )),
        (None, Some(id)) => Ok(MediaSource::Id(id)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::*;

    #[test]
    fn media() {
        let url = "https://example.com/image.jpg";
        assert_sends(vec![
            (
                json!({"to": "15551234567", "type": "image",
                       "content": {"url": url, "caption": "Check this out!"}}),
                envelope("image", json!({"link": url, "caption": "Check this out!"})),
            ),
            (
                json!({"to": "15551234567", "type": "image", "content": {"id": "1234567890"}}),
                envelope("image", json!({"id": "1234567890"})),
            ),
            (
                json!({"to": "15551234567", "type": "image", "content": {"link": url, "caption": ""}}),
                envelope("image", json!({"link": url})),
            ),
            (
                json!({"to": "15551234567", "type": "image",
                       "content": {"url": url, "caption": chars(1024)}}),
                envelope("image", json!({"link": url, "caption": chars(1024)})),
            ),
            (
                json!({"to": "15551234567", "type": "video",
                       "content": {"url": "http://example.com/v.mp4", "caption": "Watch"}}),
                envelope(
                    "video",
                    json!({"link": "http://example.com/v.mp4", "caption": "Watch"}),
                ),
            ),
            (
                json!({"to": "15551234567", "type": "audio", "content": {"id": "42"}}),
                envelope("audio", json!({"id": "42"})),
            ),
            (
                json!({"to": "15551234567", "type": "sticker",
                       "content": {"url": "https://example.com/s.webp"}}),
                envelope("sticker", json!({"link": "https://example.com/s.webp"})),
            ),
            (
                json!({"to": "15551234567", "type": "document",
                       "content": {"url": "https://example.com/i.pdf", "caption": "Invoice",
                                   "filename": "invoice.pdf"}}),
                envelope(
                    "document",
                    json!({"link": "https://example.com/i.pdf", "caption": "Invoice",
                           "filename": "invoice.pdf"}),
                ),
            ),
        ]);
    }

    #[test]
    fn media_rules() {
        let to = "15551234567";
        assert_refused(vec![
            (
                "invalid_media",
                json!({"to": to, "type": "image", "content": {}}),
            ),
            (
                "invalid_media",
                json!({"to": to, "type": "image", "content": {"url": " "}}),
            ),
            (
                "invalid_media",
                json!({"to": to, "type": "image",
                                     "content": {"url": "https://example.com/a.jpg", "id": "1"}}),
            ),
            (
                "invalid_media",
                json!({"to": to, "type": "image", "content": {"url": "ftp://example.com/a.jpg"}}),
            ),
            (
                "invalid_media",
                json!({"to": to, "type": "image", "content": {"url": "example.com/a.jpg"}}),
            ),
            (
                "invalid_media",
                json!({"to": to, "type": "image", "content": {"url": "https://"}}),
            ),
            (
                "invalid_media",
                json!({"to": to, "type": "video", "content": {"url": "https://example.com/a b.mp4"}}),
            ),
            (
                "invalid_media",
                json!({"to": to, "type": "document", "content": {"id": "12 34"}}),
            ),
            (
                "caption_too_long",
                json!({"to": to, "type": "image",
                                        "content": {"id": "1", "caption": chars(1025)}}),
            ),
            (
                "caption_too_long",
                json!({"to": to, "type": "document",
                                        "content": {"id": "1", "caption": chars(1025)}}),
            ),
            (
                "caption_not_allowed",
                json!({"to": to, "type": "audio", "content": {"id": "1", "caption": "hi"}}),
            ),
            (
                "caption_not_allowed",
                json!({"to": to, "type": "sticker", "content": {"id": "1", "caption": "hi"}}),
            ),
            (
                "filename_not_allowed",
                json!({"to": to, "type": "image",
                                            "content": {"id": "1", "filename": "a.jpg"}}),
            ),
            (
                "filename_not_allowed",
                json!({"to": to, "type": "audio",
                                            "content": {"id": "1", "filename": "a.ogg"}}),
            ),
            (
                "invalid_content",
                json!({"to": to, "type": "image", "content": "https://example.com/a.jpg"}),
            ),
            (
                "invalid_content",
                json!({"to": to, "type": "image",
                                       "content": {"url": "https://example.com/a.jpg", "captoin": "typo"}}),
            ),
        ]);
    }
}

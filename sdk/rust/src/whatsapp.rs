//! The bot's routes (its API key): sends, reads, templates, the responder switch.

use reqwest::Method;
use serde_json::json;

use crate::client::{Auth, Call, idempotency_key, segment};
use crate::{
    Conversation, Intaj, IntajError, Media, MediaSent, MediaUpload, Message, SendRequest, Sent,
    SyncReport, TemplatePage, TemplateQuery,
};

/// Files up to this size go as the body of `POST /api/whatsapp/media`, larger ones through an
/// upload URL: under the API's 5 MB, since API Gateway hands Lambda a binary body base64-encoded
/// in an event of at most 6 MB.
const DIRECT_UPLOAD_MAX_BYTES: usize = 4 * 1024 * 1024;

pub struct WhatsApp<'a> {
    pub(crate) client: &'a Intaj,
}

impl<'a> WhatsApp<'a> {
    /// Sends a message, with an idempotency key of its own: a retry after a lost answer never
    /// sends it twice.
    pub async fn send(&self, request: &SendRequest) -> Result<Sent, IntajError> {
        self.send_with_key(request, &idempotency_key()).await
    }

    /// The same with the caller's idempotency key (the same key within 24 h answers the first
    /// answer again and sends nothing).
    pub async fn send_with_key(
        &self,
        request: &SendRequest,
        key: &str,
    ) -> Result<Sent, IntajError> {
        let mut call = Call::new(Method::POST, "/api/whatsapp/send".into(), Auth::ApiKey);
        call.body = Some(serde_json::to_value(request).expect("a send request is JSON"));
        call.idempotency_key = Some(key.to_owned());
        let answer = self.client.call::<Sent>(call).await?;
        Ok(Sent {
            rate_limit: answer.rate_limit,
            replayed: answer.replayed,
            ..answer.value
        })
    }

    /// A template message: `template` is `{"name","language","components"?}`.
    pub async fn send_template(
        &self,
        to: &str,
        template: serde_json::Value,
    ) -> Result<Sent, IntajError> {
        self.send(&SendRequest::template(to, template)).await
    }

    pub async fn get_message(&self, message_id: &str) -> Result<Message, IntajError> {
        let path = format!("/api/whatsapp/messages/{}", segment(message_id));
        let answer = self
            .client
            .call::<Message>(Call::new(Method::GET, path, Auth::ApiKey))
            .await?;
        Ok(Message {
            rate_limit: answer.rate_limit,
            ..answer.value
        })
    }

    /// A customer's media file (the `id` of an inbound image, audio, video, document or
    /// sticker), copied once from WhatsApp; its `url` reads it without credentials.
    pub async fn get_media(&self, media_id: &str) -> Result<Media, IntajError> {
        let path = format!("/api/whatsapp/media/{}", segment(media_id));
        let answer = self
            .client
            .call::<Media>(Call::new(Method::GET, path, Auth::ApiKey))
            .await?;
        Ok(Media {
            rate_limit: answer.rate_limit,
            ..answer.value
        })
    }

    /// A file of the business's to WhatsApp, whatever its size (up to WhatsApp's limit for its
    /// type): as the request body when small, else through an upload URL. Send the answered
    /// `media_id` as `{"id"}` in a message of the answered `kind`.
    pub async fn upload_media(
        &self,
        file: Vec<u8>,
        mime_type: &str,
        filename: Option<&str>,
    ) -> Result<MediaSent, IntajError> {
        if file.len() <= DIRECT_UPLOAD_MAX_BYTES {
            return self.send_media_file(file, mime_type, filename).await;
        }
        let upload = self
            .create_media_upload(mime_type, file.len() as u64, filename)
            .await?;
        self.client
            .put_file(&upload.url, &upload.headers, file)
            .await?;
        self.send_uploaded_media(&upload.upload_id).await
    }

    /// Where to `PUT` a file of `size` bytes before [`send_uploaded_media`](Self::send_uploaded_media);
    /// its type and size are held to WhatsApp's limits already (`media_too_large`,
    /// `unsupported_media_type`).
    pub async fn create_media_upload(
        &self,
        mime_type: &str,
        size: u64,
        filename: Option<&str>,
    ) -> Result<MediaUpload, IntajError> {
        let mut call = Call::new(
            Method::POST,
            "/api/whatsapp/media/uploads".into(),
            Auth::ApiKey,
        );
        let mut body = json!({"mimeType": mime_type, "size": size});
        if let Some(filename) = filename {
            body["filename"] = json!(filename);
        }
        call.body = Some(body);
        let answer = self.client.call::<MediaUpload>(call).await?;
        Ok(MediaUpload {
            rate_limit: answer.rate_limit,
            ..answer.value
        })
    }

    /// A file PUT through its upload URL, to WhatsApp.
    pub async fn send_uploaded_media(&self, upload_id: &str) -> Result<MediaSent, IntajError> {
        let mut call = Call::new(Method::POST, "/api/whatsapp/media".into(), Auth::ApiKey);
        call.body = Some(json!({"uploadId": upload_id}));
        self.media_sent(call).await
    }

    /// A file of at most 5 MB, as the request body, to WhatsApp.
    pub async fn send_media_file(
        &self,
        file: Vec<u8>,
        mime_type: &str,
        filename: Option<&str>,
    ) -> Result<MediaSent, IntajError> {
        let mut call = Call::new(Method::POST, "/api/whatsapp/media".into(), Auth::ApiKey);
        call.raw_body = Some((file, mime_type.to_owned()));
        if let Some(filename) = filename {
            call.query.push(("filename", filename.to_owned()));
        }
        self.media_sent(call).await
    }

    async fn media_sent(&self, call: Call) -> Result<MediaSent, IntajError> {
        let answer = self.client.call::<MediaSent>(call).await?;
        Ok(MediaSent {
            rate_limit: answer.rate_limit,
            ..answer.value
        })
    }

    /// Marks a customer's message read (blue ticks), showing the typing indicator if `typing`.
    pub async fn mark_read(&self, message_id: &str, typing: bool) -> Result<(), IntajError> {
        let path = format!("/api/whatsapp/messages/{}/read", segment(message_id));
        let mut call = Call::new(Method::POST, path, Auth::ApiKey);
        call.body = Some(json!({"typing": typing}));
        self.client.call::<serde_json::Value>(call).await?;
        Ok(())
    }

    pub async fn get_conversation(&self, phone: &str) -> Result<Conversation, IntajError> {
        let path = format!("/api/whatsapp/conversations/{}", segment(phone));
        let answer = self
            .client
            .call::<Conversation>(Call::new(Method::GET, path, Auth::ApiKey))
            .await?;
        Ok(Conversation {
            rate_limit: answer.rate_limit,
            ..answer.value
        })
    }

    /// A person takes the customer over (`paused`), until `until` (unix seconds) or until
    /// resumed; `paused: false` gives the conversation back to the bot.
    pub async fn set_responder(
        &self,
        phone: &str,
        paused: bool,
        until: Option<i64>,
    ) -> Result<Conversation, IntajError> {
        let path = format!("/api/whatsapp/conversations/{}/responder", segment(phone));
        let mut call = Call::new(Method::PUT, path, Auth::ApiKey);
        call.body = Some(match until {
            Some(until) => json!({"paused": paused, "until": until}),
            None => json!({"paused": paused}),
        });
        let answer = self.client.call::<Conversation>(call).await?;
        Ok(Conversation {
            rate_limit: answer.rate_limit,
            ..answer.value
        })
    }

    pub async fn sync_templates(&self) -> Result<SyncReport, IntajError> {
        let call = Call::new(
            Method::POST,
            "/api/whatsapp/sync-templates".into(),
            Auth::ApiKey,
        );
        Ok(self.client.call::<SyncReport>(call).await?.value)
    }

    /// The synced templates matching `query`, a page at a time.
    pub fn list_templates(&self, query: TemplateQuery) -> TemplatePages<'a> {
        TemplatePages {
            client: self.client,
            query,
            cursor: None,
            done: false,
        }
    }
}

/// Pages of templates: call [`TemplatePages::next_page`] until it answers `None`.
pub struct TemplatePages<'a> {
    client: &'a Intaj,
    query: TemplateQuery,
    cursor: Option<String>,
    done: bool,
}

impl TemplatePages<'_> {
    pub async fn next_page(&mut self) -> Result<Option<TemplatePage>, IntajError> {
        if self.done {
            return Ok(None);
        }
        let mut call = Call::new(Method::GET, "/api/whatsapp/templates".into(), Auth::ApiKey);
        let q = &self.query;
        for (name, value) in [
            ("status", q.status.clone()),
            ("name", q.name.clone()),
            ("language", q.language.clone()),
            ("category", q.category.clone()),
            ("limit", q.limit.map(|l| l.to_string())),
            ("cursor", self.cursor.clone()),
        ] {
            if let Some(value) = value {
                call.query.push((name, value));
            }
        }
        let page = self.client.call::<TemplatePage>(call).await?.value;
        self.cursor = page.next_cursor.clone();
        self.done = self.cursor.is_none();
        Ok(Some(page))
    }
}

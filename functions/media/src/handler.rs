//! HTTP in and out: API key and rate limit (headers on every answer), then the route.

use std::sync::Arc;

use http::{Method, header};
use intaj_shared::access;
use intaj_shared::api::{ApiError, path_parameter, query_param};
use intaj_shared::clock::unix_now;
use intaj_shared::graph::GraphClient;
use intaj_shared::ports::{
    ApiKeyStore, ConnectionStore, MediaStore, MessageStore, RateLimitStore, SecretStore, Store,
};
use lambda_http::{Body, Request, Response};

use crate::{fetch, outbound};

/// What the media function needs (only the store ports it uses); built once per process.
#[derive(Clone)]
pub struct MediaDeps {
    pub keys: Arc<dyn ApiKeyStore>,
    pub counters: Arc<dyn RateLimitStore>,
    /// The caller's connection, to upload to its number.
    pub connections: Arc<dyn ConnectionStore>,
    /// Which of the bot's inbound messages carried a media id.
    pub messages: Arc<dyn MessageStore>,
    pub secrets: Arc<dyn SecretStore>,
    pub graph: GraphClient,
    pub media: Arc<dyn MediaStore>,
}

impl MediaDeps {
    /// The ports of one full store.
    pub fn new(
        store: Arc<dyn Store>,
        secrets: Arc<dyn SecretStore>,
        graph: GraphClient,
        media: Arc<dyn MediaStore>,
    ) -> Self {
        Self {
            keys: store.clone(),
            counters: store.clone(),
            connections: store.clone(),
            messages: store,
            secrets,
            graph,
            media,
        }
    }
}

const MEDIA: &str = "/api/whatsapp/media";
const UPLOADS: &str = "/api/whatsapp/media/uploads";
const PREFIX: &str = "/api/whatsapp/media/";

pub async fn handle(request: Request, deps: &MediaDeps) -> Response<Body> {
    let now = unix_now();
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let request = &request;
    let (keys, counters) = (deps.keys.as_ref(), deps.counters.as_ref());
    access::guarded(keys, counters, authorization, now, |caller| async move {
        let bot_id = caller.bot_id.as_str();
        let path = request.uri().path().trim_end_matches('/');
        let method = request.method();
        if path == MEDIA {
            return match *method {
                Method::POST => {
                    let filename = query_param(request, "filename");
                    let (headers, body) = (request.headers(), request.body().as_ref());
                    outbound::to_whatsapp(deps, bot_id, headers, filename, body, now).await
                }
                _ => Err(ApiError::method_not_allowed("POST")),
            };
        }
        if path == UPLOADS {
            return match *method {
                Method::POST => outbound::new_upload(deps, bot_id, request.body(), now).await,
                _ => Err(ApiError::method_not_allowed("POST")),
            };
        }
        let Some(media_id) = path_parameter(request, "mediaId", PREFIX) else {
            return Err(ApiError::not_found(
                "not_found",
                format!("no route for {method} {}", request.uri().path()),
            ));
        };
        match *method {
            Method::GET => fetch::media(deps, bot_id, &media_id, now).await,
            _ => Err(ApiError::method_not_allowed("GET")),
        }
    })
    .await
    .map(Body::from)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use async_trait::async_trait;
    use intaj_shared::adapters::{MemorySecrets, MemoryStore};
    use intaj_shared::domain::{ApiKey, CustomerIds, InboundMessage, api_key_hash};
    use intaj_shared::graph::GraphConfig;
    use intaj_shared::ports::{
        ApiKeyStore, ByteStream, MediaError, MediaObject, MediaUrl, MessageStore, OpenedUpload,
        UploadTerms, UploadUrl,
    };
    use serde_json::Value;

    use super::*;

    const MEDIA_ID: &str = "1037543291543636";

    /// A media store that already keeps every object: nothing is asked of Meta.
    struct Kept;

    #[async_trait]
    impl MediaStore for Kept {
        async fn stored(&self, _: &str) -> Result<Option<MediaObject>, MediaError> {
            Ok(Some(MediaObject {
                size: 3,
                sha256: "ab".repeat(32),
                mime_type: "image/jpeg".into(),
            }))
        }
        async fn put(
            &self,
            _: &str,
            _: &str,
            _: &str,
            _: ByteStream,
        ) -> Result<MediaObject, MediaError> {
            unreachable!("the object is kept")
        }
        async fn url(
            &self,
            key: &str,
            now: i64,
            valid_for: Duration,
        ) -> Result<MediaUrl, MediaError> {
            Ok(MediaUrl {
                url: format!("https://bucket.example/{key}"),
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
            Ok(UploadUrl {
                url: format!("https://bucket.example/{key}?signed"),
                headers: vec![("content-type".into(), terms.mime_type.into())],
                expires_at: now + valid_for.as_secs() as i64,
            })
        }
        async fn open(&self, _: &str) -> Result<Option<OpenedUpload>, MediaError> {
            Ok(None)
        }
    }

    async fn deps() -> MediaDeps {
        let store = MemoryStore::new();
        let key = ApiKey {
            bot_id: "demo".into(),
            rate_limit_per_second: 80,
            created_at: 0,
        };
        store
            .put_api_key(&api_key_hash("dev-api-key"), &key)
            .await
            .unwrap();
        let image = InboundMessage {
            message_id: "wamid.1".into(),
            customer: CustomerIds::default(),
            phone_number_id: "100000000000001".into(),
            kind: "image".into(),
            timestamp: 1_760_000_000,
            profile_name: None,
            content: format!(r#"{{"type":"image","image":{{"id":"{MEDIA_ID}"}}}}"#),
        };
        store.record_inbound("demo", image).await.unwrap();
        MediaDeps::new(
            Arc::new(store),
            Arc::new(MemorySecrets::new()),
            GraphClient::new(GraphConfig::new("http://127.0.0.1:9", "v25.0")).unwrap(),
            Arc::new(Kept),
        )
    }

    async fn answer(request: Request, deps: &MediaDeps) -> (u16, Value) {
        let response = handle(request, deps).await;
        let status = response.status().as_u16();
        (
            status,
            serde_json::from_slice(response.body().as_ref()).unwrap(),
        )
    }

    #[tokio::test]
    async fn the_api_gateway_event_reads_a_kept_object() {
        let event = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../events/media-get.json"
        ))
        .unwrap();
        let request = lambda_http::request::from_str(&event).unwrap();
        let (status, body) = answer(request, &deps().await).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["mediaId"], MEDIA_ID);
        assert_eq!(
            body["url"],
            format!("https://bucket.example/media/demo/{MEDIA_ID}")
        );
        assert_eq!(body["size"], 3);
    }

    #[tokio::test]
    async fn an_id_that_is_no_inbound_media_of_the_bot_is_not_found() {
        let request = http::Request::get("/api/whatsapp/media/999")
            .header("authorization", "Bearer dev-api-key")
            .body(Body::Empty)
            .unwrap();
        let (status, body) = answer(request, &deps().await).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("media_not_found"))
        );
    }

    fn event(name: &str) -> Request {
        let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
        lambda_http::request::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn the_upload_event_answers_where_to_put_the_file() {
        let (status, body) = answer(event("media-upload.json"), &deps().await).await;
        assert_eq!(status, 201, "{body}");
        let upload_id = body["uploadId"].as_str().unwrap();
        assert_eq!(upload_id.len(), 32);
        assert_eq!(
            body["url"],
            format!("https://bucket.example/uploads/demo/{upload_id}?signed")
        );
        assert_eq!(body["headers"]["content-type"], "application/pdf");
        assert_eq!(body["method"], "PUT");
    }

    #[tokio::test]
    async fn the_send_event_names_an_upload_nothing_was_put_for() {
        let (status, body) = answer(event("media-send-upload.json"), &deps().await).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("upload_not_found")),
            "{body}"
        );
    }
}

//! HTTP in and out: API key and rate limit (headers on every answer), then the route.

use std::sync::Arc;

use http::{Method, header};
use intaj_shared::access;
use intaj_shared::api::ApiError;
use intaj_shared::clock::unix_now;
use intaj_shared::graph::GraphClient;
use intaj_shared::ports::{MediaStore, SecretStore, Store};
use lambda_http::{Body, Request, RequestExt, Response};

use crate::fetch;

/// What the media function needs; built once per process.
#[derive(Clone)]
pub struct MediaDeps {
    pub store: Arc<dyn Store>,
    pub secrets: Arc<dyn SecretStore>,
    pub graph: GraphClient,
    pub media: Arc<dyn MediaStore>,
}

const PREFIX: &str = "/api/whatsapp/media/";

pub async fn handle(request: Request, deps: &MediaDeps) -> Response<Body> {
    let now = unix_now();
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let store = deps.store.as_ref();
    let request = &request;
    access::guarded(store, store, authorization, now, |caller| async move {
        let Some(media_id) = media_id(request) else {
            return Err(ApiError::not_found(
                "not_found",
                format!("no route for {} {}", request.method(), request.uri().path()),
            ));
        };
        match *request.method() {
            Method::GET => fetch::media(deps, &caller.bot_id, &media_id, now).await,
            _ => Err(ApiError::method_not_allowed("GET")),
        }
    })
    .await
    .map(Body::from)
}

/// `{mediaId}` from API Gateway's route match, or from the path in the local stack.
fn media_id(request: &Request) -> Option<String> {
    if let Some(value) = request
        .path_parameters_ref()
        .and_then(|p| p.first("mediaId"))
    {
        return Some(value.to_owned());
    }
    let raw = request
        .uri()
        .path()
        .strip_prefix(PREFIX)?
        .trim_end_matches('/');
    if raw.is_empty() || raw.contains('/') {
        return None;
    }
    Some(
        percent_encoding::percent_decode_str(raw)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

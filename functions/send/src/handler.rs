//! HTTP in and out: API key, rate limit headers on every answer, then the route.

use std::sync::Arc;

use http::{Method, StatusCode, header};
use intaj_shared::access::{self, Caller};
use intaj_shared::api::{ApiError, json, path_parameter};
use intaj_shared::clock::unix_now;
use intaj_shared::graph::GraphClient;
use intaj_shared::ports::{SecretStore, Store};
use intaj_shared::sending::idempotency;
use intaj_shared::sending::request::SendRequest;
use intaj_shared::sending::service::{self, SendContext};
use lambda_http::{Body, Request, Response};
use serde::Serialize;

use crate::{read_receipt, reads};

/// What the send function needs; built once per process.
#[derive(Clone)]
pub struct SendDeps {
    pub store: Arc<dyn Store>,
    pub secrets: Arc<dyn SecretStore>,
    pub graph: GraphClient,
}

impl SendDeps {
    pub fn context(&self) -> SendContext<'_> {
        SendContext {
            store: self.store.as_ref(),
            secrets: self.secrets.as_ref(),
            graph: &self.graph,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Accepted<'a> {
    message_id: &'a str,
    status: &'static str,
    to: &'a str,
}

pub async fn handle(request: Request, deps: &SendDeps) -> Response<Body> {
    route(&request, deps, unix_now()).await.map(Body::from)
}

async fn route(request: &Request, deps: &SendDeps, now: i64) -> http::Response<String> {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let store = deps.store.as_ref();
    access::guarded(store, store, authorization, now, |caller| async move {
        dispatch(request, deps, &caller, now).await
    })
    .await
}

async fn dispatch(
    request: &Request,
    deps: &SendDeps,
    caller: &Caller,
    now: i64,
) -> Result<http::Response<String>, ApiError> {
    let path = request.uri().path().trim_end_matches('/');
    let method = request.method();
    if path == "/api/whatsapp/send" {
        return match *method {
            Method::POST => send(request, deps, caller, now).await,
            _ => Err(ApiError::method_not_allowed("POST")),
        };
    }
    // Before the message read: under API Gateway this route has a `messageId` too.
    if let Some(id) = path
        .strip_prefix("/api/whatsapp/messages/")
        .and_then(|rest| rest.strip_suffix("/read"))
        .filter(|id| !id.is_empty() && !id.contains('/'))
    {
        let id = percent_encoding::percent_decode_str(id).decode_utf8_lossy();
        return match *method {
            Method::POST => {
                read_receipt::mark_read(deps, &caller.bot_id, &id, request.body().as_ref()).await
            }
            _ => Err(ApiError::method_not_allowed("POST")),
        };
    }
    if let Some(id) = path_parameter(request, "messageId", "/api/whatsapp/messages/") {
        return match *method {
            Method::GET => reads::message(deps.store.as_ref(), &caller.bot_id, &id).await,
            _ => Err(ApiError::method_not_allowed("GET")),
        };
    }
    if let Some(phone) = path
        .strip_prefix("/api/whatsapp/conversations/")
        .and_then(|rest| rest.strip_suffix("/responder"))
        .filter(|phone| !phone.is_empty() && !phone.contains('/'))
    {
        let phone = percent_encoding::percent_decode_str(phone).decode_utf8_lossy();
        let body = request.body().as_ref();
        return match *method {
            Method::PUT => {
                reads::set_responder(deps.store.as_ref(), &caller.bot_id, &phone, body, now).await
            }
            _ => Err(ApiError::method_not_allowed("PUT")),
        };
    }
    if let Some(phone) = path_parameter(request, "phone", "/api/whatsapp/conversations/") {
        return match *method {
            Method::GET => {
                reads::conversation(deps.store.as_ref(), &caller.bot_id, &phone, now).await
            }
            _ => Err(ApiError::method_not_allowed("GET")),
        };
    }
    Err(ApiError::not_found(
        "not_found",
        format!("no route for {method} {path}"),
    ))
}

async fn send(
    request: &Request,
    deps: &SendDeps,
    caller: &Caller,
    now: i64,
) -> Result<http::Response<String>, ApiError> {
    let body = request.body().as_ref();
    let parsed: SendRequest = intaj_shared::api::json_object(body).map_err(|error| {
        ApiError::bad_request(
            "invalid_json",
            format!("the body must be a JSON object like {{\"to\",\"type\",\"content\"}}: {error}"),
        )
    })?;
    let validated = parsed.validate().map_err(ApiError::from)?;
    let key = request
        .headers()
        .get("idempotency-key")
        .map(|v| v.to_str().unwrap_or_default());
    let bot_id = caller.bot_id.as_str();
    idempotency::once(deps.store.as_ref(), bot_id, key, body, now, || async {
        let sent = service::send(deps.context(), bot_id, &validated, now).await?;
        let accepted = Accepted {
            message_id: &sent.message_id,
            status: "accepted",
            to: &sent.to,
        };
        Ok(json(StatusCode::OK, &accepted))
    })
    .await
}

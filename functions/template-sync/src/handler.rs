//! HTTP in and out: API key and rate-limit headers on every answer, then the route.

use std::sync::Arc;

use http::{Method, StatusCode, header};
use intaj_shared::access::{self, Caller};
use intaj_shared::api::{ApiError, json, query_param};
use intaj_shared::clock::unix_now;
use intaj_shared::graph::GraphClient;
use intaj_shared::ports::{
    ApiKeyStore, ConnectionStore, RateLimitStore, SecretStore, Store, TemplateStore,
};
use intaj_shared::template_sync::{SyncPorts, sync_bot};
use lambda_http::{Body, Request, Response};

use crate::listing;
use crate::schedule::ScheduleSettings;

/// What the template-sync function needs (only the store ports it uses); built once per process.
#[derive(Clone)]
pub struct TemplateSyncDeps {
    pub connections: Arc<dyn ConnectionStore>,
    pub templates: Arc<dyn TemplateStore>,
    pub keys: Arc<dyn ApiKeyStore>,
    pub counters: Arc<dyn RateLimitStore>,
    pub secrets: Arc<dyn SecretStore>,
    pub graph: GraphClient,
    pub schedule: ScheduleSettings,
}

impl TemplateSyncDeps {
    /// The ports of one full store, with the default schedule settings.
    pub fn new(store: Arc<dyn Store>, secrets: Arc<dyn SecretStore>, graph: GraphClient) -> Self {
        Self {
            connections: store.clone(),
            templates: store.clone(),
            keys: store.clone(),
            counters: store,
            secrets,
            graph,
            schedule: ScheduleSettings::default(),
        }
    }

    pub fn ports(&self) -> SyncPorts<'_> {
        SyncPorts {
            connections: self.connections.as_ref(),
            templates: self.templates.as_ref(),
            secrets: self.secrets.as_ref(),
            graph: &self.graph,
        }
    }
}

pub async fn handle(request: Request, deps: &TemplateSyncDeps) -> Response<Body> {
    route(&request, deps, unix_now()).await.map(Body::from)
}

async fn route(request: &Request, deps: &TemplateSyncDeps, now: i64) -> http::Response<String> {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    access::guarded(
        deps.keys.as_ref(),
        deps.counters.as_ref(),
        authorization,
        now,
        |caller| async move { dispatch(request, deps, &caller, now).await },
    )
    .await
}

async fn dispatch(
    request: &Request,
    deps: &TemplateSyncDeps,
    caller: &Caller,
    now: i64,
) -> Result<http::Response<String>, ApiError> {
    let path = request.uri().path().trim_end_matches('/');
    let method = request.method();
    match path {
        "/api/whatsapp/sync-templates" => match *method {
            Method::POST => {
                let report = sync_bot(deps.ports(), &caller.bot_id, now).await?;
                Ok(json(StatusCode::OK, &report))
            }
            _ => Err(ApiError::method_not_allowed("POST")),
        },
        "/api/whatsapp/templates" => match *method {
            Method::GET => {
                let query = listing::parse_query(|name| query_param(request, name))?;
                listing::page(deps.templates.as_ref(), &caller.bot_id, &query).await
            }
            _ => Err(ApiError::method_not_allowed("GET")),
        },
        _ => Err(ApiError::not_found(
            "not_found",
            format!("no route for {method} {path}"),
        )),
    }
}

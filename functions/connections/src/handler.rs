//! HTTP in and out for `/api/whatsapp/connections[/{botId}]`: the admin token first, then the
//! route. Nothing is read or changed for a caller without the admin token.

use std::sync::Arc;

use http::{HeaderMap, Method, StatusCode, header};
use intaj_shared::access;
use intaj_shared::api::{ApiError, json, path_parameter, query_param};
use intaj_shared::clock::unix_now;
use intaj_shared::connecting::is_valid_bot_id;
use intaj_shared::graph::GraphClient;
use intaj_shared::ports::{
    AdminToken, ApiKeyStore, ConnectionStore, SecretStore, Store, TemplateStore,
};
use lambda_http::{Body, Request, Response};

use crate::request;
use crate::service::{self, Context, Outcome};

const COLLECTION: &str = "/api/whatsapp/connections";
/// Where one connection's path starts: its `{botId}` follows.
const ONE: &str = "/api/whatsapp/connections/";
const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 100;

/// What the connections function needs (only the store ports it uses); built once per process.
#[derive(Clone)]
pub struct ConnectionsDeps {
    pub connections: Arc<dyn ConnectionStore>,
    /// A connection's API keys: issued, rotated, revoked.
    pub keys: Arc<dyn ApiKeyStore>,
    /// A connection's last template sync, shown with it.
    pub templates: Arc<dyn TemplateStore>,
    pub secrets: Arc<dyn SecretStore>,
    pub graph: GraphClient,
    pub admin: Arc<dyn AdminToken>,
}

impl ConnectionsDeps {
    /// The ports of one full store.
    pub fn new(
        store: Arc<dyn Store>,
        secrets: Arc<dyn SecretStore>,
        graph: GraphClient,
        admin: Arc<dyn AdminToken>,
    ) -> Self {
        Self {
            connections: store.clone(),
            keys: store.clone(),
            templates: store,
            secrets,
            graph,
            admin,
        }
    }

    pub fn context(&self) -> Context<'_> {
        Context {
            connections: self.connections.as_ref(),
            keys: self.keys.as_ref(),
            templates: self.templates.as_ref(),
            secrets: self.secrets.as_ref(),
            graph: &self.graph,
        }
    }
}

pub async fn handle(request: Request, deps: &ConnectionsDeps) -> Response<Body> {
    let response = match route(&request, deps).await {
        Ok(response) => response,
        Err(error) => error.to_response(),
    };
    response.map(Body::from)
}

async fn route(
    request: &Request,
    deps: &ConnectionsDeps,
) -> Result<http::Response<String>, ApiError> {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    access::authenticate_admin(deps.admin.as_ref(), authorization).await?;
    let base_url = public_base_url(request.headers());
    let ctx = deps.context();
    let path = request.uri().path().trim_end_matches('/');
    if path == COLLECTION {
        return match *request.method() {
            Method::POST => {
                let connect = request::parse(request.body().as_ref())?;
                match service::connect(ctx, connect, &base_url, unix_now()).await? {
                    Outcome::Created(created) => Ok(json(StatusCode::CREATED, &created)),
                    Outcome::Updated(updated) => Ok(json(StatusCode::OK, &updated)),
                }
            }
            Method::GET => {
                let (limit, cursor) = page_query(request)?;
                let page = service::list(ctx, &base_url, limit, cursor.as_deref()).await?;
                Ok(json(StatusCode::OK, &page))
            }
            _ => Err(ApiError::method_not_allowed("GET, POST")),
        };
    }
    let Some(bot_id) = bot_id(request) else {
        return Err(ApiError::not_found(
            "not_found",
            "use /api/whatsapp/connections or /api/whatsapp/connections/{botId}",
        ));
    };
    match *request.method() {
        Method::GET => Ok(json(
            StatusCode::OK,
            &service::show(ctx, &bot_id, &base_url).await?,
        )),
        Method::DELETE => Ok(json(StatusCode::OK, &service::delete(ctx, &bot_id).await?)),
        _ => Err(ApiError::method_not_allowed("GET, DELETE")),
    }
}

/// `{botId}` from API Gateway's route match, or from the path in the local stack.
fn bot_id(request: &Request) -> Option<String> {
    path_parameter(request, "botId", ONE).filter(|id| is_valid_bot_id(id))
}

/// `?limit=` (1 to 100, default 50) and `?cursor=` (the `nextCursor` of the page before); 400
/// otherwise, as the template listing answers.
fn page_query(request: &Request) -> Result<(usize, Option<String>), ApiError> {
    let limit = match query_param(request, "limit") {
        None => DEFAULT_PAGE,
        Some(raw) => raw
            .parse()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_limit",
                    format!("limit must be a whole number from 1 to {MAX_PAGE}"),
                )
            })?,
    };
    let cursor = match query_param(request, "cursor") {
        None => None,
        Some(cursor) if is_valid_bot_id(&cursor) => Some(cursor),
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_cursor",
                "cursor must be the nextCursor of the previous page",
            ));
        }
    };
    Ok((limit, cursor))
}

/// Where this API is reached from outside, for the webhook URL: API Gateway's host over https,
/// or the local stack's `http://127.0.0.1:<port>`.
fn public_base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let forwarded = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok());
    let loopback = ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|name| host == *name || host.starts_with(&format!("{name}:")));
    let scheme = match forwarded {
        Some("http") => "http",
        Some(_) => "https",
        None if loopback => "http",
        None => "https",
    };
    format!("{scheme}://{host}")
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use lambda_http::RequestExt;

    use super::*;

    #[test]
    fn the_bot_id_comes_from_the_route_match_or_the_one_segment_after_the_collection() {
        let at = |path: &str| {
            let request = http::Request::builder()
                .uri(path)
                .body(Body::Empty)
                .unwrap();
            bot_id(&request)
        };
        assert_eq!(
            at("/api/whatsapp/connections/shop-1").as_deref(),
            Some("shop-1")
        );
        assert_eq!(
            at("/api/whatsapp/connections/shop-1/").as_deref(),
            Some("shop-1")
        );
        assert_eq!(
            at("/api/whatsapp/connections/sh%6Fp").as_deref(),
            Some("shop")
        );
        assert_eq!(at("/api/whatsapp/connections/a%2Fb"), None);
        assert_eq!(at("/api/whatsapp/connections/shop-1/keys"), None);
        assert_eq!(at("/api/whatsapp/connections/sh%20op"), None);
        let routed = http::Request::builder()
            .uri("/anything")
            .body(Body::Empty)
            .unwrap()
            .with_path_parameters(HashMap::from([("botId".to_owned(), "shop-2".to_owned())]));
        assert_eq!(bot_id(&routed).as_deref(), Some("shop-2"));
    }

    #[test]
    fn the_webhook_base_follows_the_host_it_was_reached_at() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, value.parse().unwrap());
            }
            map
        };
        assert_eq!(
            public_base_url(&headers(&[(
                "host",
                "abc.execute-api.eu-west-1.amazonaws.com"
            )])),
            "https://abc.execute-api.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            public_base_url(&headers(&[("host", "127.0.0.1:3000")])),
            "http://127.0.0.1:3000"
        );
        assert_eq!(
            public_base_url(&headers(&[
                ("host", "api.shop.example"),
                ("x-forwarded-proto", "https")
            ])),
            "https://api.shop.example"
        );
    }
}

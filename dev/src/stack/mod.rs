//! The local stack: every route of the product in one process, on the same handlers as the
//! Lambda functions, with an in-memory (or DynamoDB Local) store, in-memory secrets, and the
//! WhatsApp Cloud API simulator.

mod lambda_bridge;
mod responding;
mod settings;
pub mod stream_feed;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use http::StatusCode;
use intaj_connections::ConnectionsDeps;
use intaj_connections::request::ConnectionRequest;
use intaj_connections::service;
use intaj_media::MediaDeps;
use intaj_responder::ResponderDeps;
use intaj_send::SendDeps;
use intaj_shared::adapters::FixedAdminToken;
use intaj_shared::adapters::dynamodb::create_table_if_missing;
use intaj_shared::adapters::{DynamoDbStore, LocalMediaFolder, MemorySecrets, MemoryStore};
use intaj_shared::api::ApiError;
use intaj_shared::domain::Recorded;
use intaj_shared::domain::{Responder, ResponderRule, RuleMatch};
use intaj_shared::graph::{GraphClient, GraphConfig};
use intaj_shared::ports::{MediaStore, Secret, SecretStore, Store, StoreError};
use intaj_template_sync::TemplateSyncDeps;
use intaj_webhook::WebhookDeps;
use tokio::net::TcpListener;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::background::BackgroundServer;
use crate::simulator::{self, RunningSimulator, SimulatedNumber, SimulatorConfig, SimulatorError};
pub use settings::StackSettings;

#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("cannot listen on 127.0.0.1:{port}: {source} (set PORT to use another port)")]
    Bind { port: u16, source: std::io::Error },
    #[error("the simulator could not start: {0} (set SIM_PORT to use another port)")]
    Simulator(#[from] SimulatorError),
    #[error("the store could not be prepared: {0}")]
    Store(#[from] StoreError),
    #[error("the demo connection could not be created (check the DEV_* variables): {0}")]
    Connection(ApiError),
    #[error("WHATSAPP_API_BASE is not usable: {0}")]
    Graph(String),
    #[error("the table's stream cannot be read (is DYNAMODB_ENDPOINT a DynamoDB Local?): {0}")]
    Stream(String),
}

/// Everything the routes need, shared by all requests.
#[derive(Clone)]
struct Services {
    webhook: WebhookDeps,
    connections: ConnectionsDeps,
    send: SendDeps,
    templates: TemplateSyncDeps,
    media: MediaDeps,
    /// Where `media` keeps files; it also serves their URLs, `GET /_media/{token}`.
    media_folder: Arc<LocalMediaFolder>,
}

/// How often the stack syncs every connection's templates, as the deployed schedule does.
const TEMPLATE_SYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// A running local stack.
pub struct RunningStack {
    pub settings: StackSettings,
    pub addr: SocketAddr,
    /// `http://127.0.0.1:<port>`
    pub base_url: String,
    /// Where Graph API calls go: the simulator's URL, or `WHATSAPP_API_BASE`.
    pub whatsapp_api_base: String,
    pub simulator: Option<RunningSimulator>,
    pub store: Arc<dyn Store>,
    pub secrets: Arc<dyn SecretStore>,
    /// The Graph API client the send routes use.
    pub graph: GraphClient,
    /// Where the media routes keep files: a folder this stack serves (`/_media/…`).
    pub media: Arc<dyn MediaStore>,
    server: Option<BackgroundServer>,
    /// The run's media folder, removed at shutdown.
    media_dir: std::path::PathBuf,
    template_schedule: Option<tokio::task::JoinHandle<()>>,
    responder: Option<tokio::task::JoinHandle<()>>,
}

impl RunningStack {
    pub fn webhook_url(&self) -> String {
        format!(
            "{}/webhook/whatsapp/{}",
            self.base_url, self.settings.bot_id
        )
    }

    /// The responder's dependencies on this stack's store, secrets and Graph client: what its
    /// own responder runs with, for tests that hand it a message themselves.
    pub fn responder_deps(&self) -> ResponderDeps {
        responder_deps(&self.store, &self.secrets, &self.graph)
    }

    /// Stops accepting requests, finishes the ones under way, stops the simulator.
    pub async fn shutdown(mut self) {
        if let Some(schedule) = self.template_schedule.take() {
            schedule.abort();
        }
        if let Some(responder) = self.responder.take() {
            responder.abort();
        }
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
        if let Some(simulator) = self.simulator.take() {
            simulator.shutdown().await;
        }
        let _ = tokio::fs::remove_dir_all(&self.media_dir).await;
    }
}

/// Starts the stack: store, the demo connection, the simulator (unless `WHATSAPP_API_BASE` is
/// set), and every route.
pub async fn start(settings: StackSettings) -> Result<RunningStack, StackError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, settings.port))
        .await
        .map_err(|source| StackError::Bind {
            port: settings.port,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StackError::Bind {
        port: settings.port,
        source,
    })?;
    let base_url = format!("http://{addr}");

    let (store, new_inbound) = build_store(&settings).await?;
    let secrets: Arc<dyn SecretStore> = Arc::new(MemorySecrets::new());

    let webhook_url = format!("{base_url}/webhook/whatsapp/{}", settings.bot_id);
    let (simulator, whatsapp_api_base) = match &settings.whatsapp_api_base {
        Some(base) => (None, base.trim_end_matches('/').to_owned()),
        None => {
            let number = SimulatedNumber::new(
                &settings.phone_number_id,
                &settings.waba_id,
                &settings.access_token,
                &settings.app_secret,
            )
            .with_webhook_url(webhook_url);
            let bind = SocketAddr::from((Ipv4Addr::LOCALHOST, settings.sim_port));
            let running = simulator::start(SimulatorConfig::with_numbers([number]), bind).await?;
            let base = running.base_url().to_owned();
            (Some(running), base)
        }
    };

    // Media is kept in a folder of its own per run (S3 deployed), its URLs signed with a key
    // made now, so they stop working when the stack stops.
    let media_dir = std::env::temp_dir().join(format!(
        "intaj-dev-media-{}-{}",
        std::process::id(),
        addr.port()
    ));
    let media_folder = Arc::new(LocalMediaFolder::new(
        &media_dir,
        &base_url,
        rand::random::<[u8; 32]>().to_vec(),
    ));
    let graph = GraphClient::new(GraphConfig::new(
        &whatsapp_api_base,
        settings.whatsapp_api_version.as_str(),
    ))
    .map_err(|e| StackError::Graph(e.to_string()))?;
    let services = Services {
        webhook: WebhookDeps::new(store.clone(), secrets.clone()),
        connections: ConnectionsDeps::new(
            store.clone(),
            secrets.clone(),
            graph.clone(),
            Arc::new(FixedAdminToken(Some(Secret::new(&settings.admin_token)))),
        ),
        send: SendDeps {
            store: store.clone(),
            secrets: secrets.clone(),
            graph: graph.clone(),
        },
        templates: TemplateSyncDeps::new(store.clone(), secrets.clone(), graph.clone()),
        media: MediaDeps::new(
            store.clone(),
            secrets.clone(),
            graph.clone(),
            media_folder.clone(),
        ),
        media_folder,
    };
    // Through the connections service, as a business's connection is made: Meta (here the
    // simulator) checks the credentials first.
    create_demo_connection(&settings, &services.connections, &base_url).await?;
    let responder =
        new_inbound.map(|feed| responding::spawn(responder_deps(&store, &secrets, &graph), feed));
    let template_schedule = start_template_schedule(services.templates.clone()).await;
    let media = services.media.media.clone();
    let router = router(services);
    let server = BackgroundServer::spawn(listener, router, "local stack");
    tracing::info!(%base_url, whatsapp_api_base, "local stack serving");
    Ok(RunningStack {
        settings,
        addr,
        base_url,
        whatsapp_api_base,
        simulator,
        store,
        secrets,
        graph,
        media,
        server: Some(server),
        media_dir,
        template_schedule: Some(template_schedule),
        responder,
    })
}

fn responder_deps(
    store: &Arc<dyn Store>,
    secrets: &Arc<dyn SecretStore>,
    graph: &GraphClient,
) -> ResponderDeps {
    // The local stack's bots and events URLs listen on this machine.
    let reach = intaj_shared::business_urls::Reach::PrivateToo;
    ResponderDeps::new(store.clone(), secrets.clone(), graph.clone(), reach)
}

/// Syncs every connection's templates now (so that template sends are checked from the first
/// request), then hourly in the background, like the deployed schedule.
async fn start_template_schedule(deps: TemplateSyncDeps) -> tokio::task::JoinHandle<()> {
    let run = |deps: TemplateSyncDeps| async move {
        let now = intaj_shared::clock::unix_now();
        if let Err(error) = intaj_template_sync::sync_all(&deps, now).await {
            tracing::warn!(%error, "template sync of the local stack failed");
        }
    };
    run(deps.clone()).await;
    tokio::spawn(async move {
        let mut every = tokio::time::interval(TEMPLATE_SYNC_EVERY);
        every.tick().await;
        loop {
            every.tick().await;
            run(deps.clone()).await;
        }
    })
}

/// The function behind a route, as API Gateway routes them.
#[derive(Clone, Copy)]
enum Function {
    Webhook,
    Connections,
    Send,
    Templates,
    Media,
}

/// Every path the stack serves besides `/openapi.json`, spelled as `docs/openapi.yaml` spells
/// it, with its function (which answers 405 to a method it does not serve).
const ROUTES: &[(&str, Function)] = &[
    ("/webhook/whatsapp/{botId}", Function::Webhook),
    ("/api/whatsapp/connections", Function::Connections),
    ("/api/whatsapp/connections/{botId}", Function::Connections),
    ("/api/whatsapp/send", Function::Send),
    ("/api/whatsapp/messages/{messageId}", Function::Send),
    ("/api/whatsapp/messages/{messageId}/read", Function::Send),
    ("/api/whatsapp/conversations/{phone}", Function::Send),
    (
        "/api/whatsapp/conversations/{phone}/responder",
        Function::Send,
    ),
    ("/api/whatsapp/sync-templates", Function::Templates),
    ("/api/whatsapp/templates", Function::Templates),
    ("/api/whatsapp/media", Function::Media),
    ("/api/whatsapp/media/uploads", Function::Media),
    ("/api/whatsapp/media/{mediaId}", Function::Media),
];

/// The paths the stack serves, for checking them against the API's document.
pub fn route_paths() -> impl Iterator<Item = &'static str> {
    ROUTES.iter().map(|(path, _)| *path)
}

/// The API's document (`docs/openapi.yaml`), as JSON.
fn openapi_json() -> String {
    let document: serde_json::Value =
        serde_norway::from_str(include_str!("../../../docs/openapi.yaml"))
            .expect("docs/openapi.yaml is YAML (a test reads it)");
    document.to_string()
}

fn router(services: Services) -> Router {
    let document = openapi_json();
    let mut router = Router::new()
        .route(
            "/openapi.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], document) }),
        )
        .route("/_media/{token}", get(media_file))
        .route("/_media/uploads/{token}", axum::routing::put(media_upload));
    for (path, function) in ROUTES {
        router = router.route(
            path,
            match function {
                Function::Webhook => any(webhook),
                Function::Connections => any(connections),
                Function::Send => any(send),
                Function::Templates => any(templates),
                Function::Media => any(media),
            },
        );
    }
    router.fallback(not_found).with_state(services)
}

/// One function's invocation: run to its end even when the caller hangs up, as a Lambda
/// invocation runs on after API Gateway's client goes away (a send the caller timed out on
/// still completes, and its idempotency key is answered, not left claimed).
async fn invoke<F, Fut>(request: Request, function: F) -> Response
where
    F: FnOnce(lambda_http::Request) -> Fut,
    Fut: Future<Output = lambda_http::Response<lambda_http::Body>> + Send + 'static,
{
    let request = match lambda_bridge::to_lambda(request).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    match tokio::spawn(function(request)).await {
        Ok(response) => lambda_bridge::from_lambda(response),
        Err(error) => {
            tracing::error!(%error, "function invocation failed");
            ApiError::unavailable("function_failed", "the function failed; retry later")
                .to_response()
                .into_response()
        }
    }
}

async fn webhook(State(services): State<Services>, request: Request) -> Response {
    invoke(request, |request| async move {
        intaj_webhook::handle(request, &services.webhook).await
    })
    .await
}

async fn connections(State(services): State<Services>, request: Request) -> Response {
    invoke(request, |request| async move {
        intaj_connections::handle(request, &services.connections).await
    })
    .await
}

async fn send(State(services): State<Services>, request: Request) -> Response {
    invoke(request, |request| async move {
        intaj_send::handle(request, &services.send).await
    })
    .await
}

async fn templates(State(services): State<Services>, request: Request) -> Response {
    invoke(request, |request| async move {
        intaj_template_sync::handle(request, &services.templates).await
    })
    .await
}

async fn media(State(services): State<Services>, request: Request) -> Response {
    invoke(request, |request| async move {
        intaj_media::handle(request, &services.media).await
    })
    .await
}

/// `GET /_media/{token}`: a kept media file, for the URL the media route answered (the local
/// stack's stand-in for a presigned S3 URL; no API key, the signed token is the credential).
async fn media_file(
    State(services): State<Services>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Response {
    let now = intaj_shared::clock::unix_now();
    let Some((path, object)) = services.media_folder.open_url(&token, now).await else {
        return ApiError::not_found(
            "not_found",
            "this media URL is unknown or has expired; ask the media route for a new one",
        )
        .to_response()
        .into_response();
    };
    match tokio::fs::read(path).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, object.mime_type)], bytes).into_response(),
        Err(error) => {
            tracing::error!(%error, "media file unreadable");
            ApiError::unavailable("storage_unavailable", "the media file could not be read")
                .to_response()
                .into_response()
        }
    }
}

/// `PUT /_media/uploads/{token}`: a business's file, for the URL the upload route answered (the
/// local stack's stand-in for a presigned S3 PUT), streamed into the media folder.
async fn media_upload(
    State(services): State<Services>,
    axum::extract::Path(token): axum::extract::Path<String>,
    request: Request,
) -> Response {
    use futures::TryStreamExt;
    use intaj_shared::adapters::UploadRefused;

    let now = intaj_shared::clock::unix_now();
    let (parts, body) = request.into_parts();
    let header = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header(header::CONTENT_TYPE);
    let content_length: Option<u64> =
        header(header::CONTENT_LENGTH).and_then(|value| value.parse().ok());
    let body: intaj_shared::ports::ByteStream =
        Box::pin(body.into_data_stream().map_err(std::io::Error::other));
    let accepted = services
        .media_folder
        .accept_upload(&token, now, content_type.as_deref(), content_length, body)
        .await;
    match accepted {
        Ok(()) => StatusCode::OK.into_response(),
        Err(UploadRefused::Media(error)) => {
            tracing::error!(%error, "upload not kept");
            ApiError::unavailable("storage_unavailable", "the file could not be kept")
                .to_response()
                .into_response()
        }
        // S3 answers a PUT that breaks its signed terms with 403, as does the stack.
        Err(refused) => ApiError::new(StatusCode::FORBIDDEN, "upload_refused", refused.to_string())
            .to_response()
            .into_response(),
    }
}

async fn not_found(request: Request) -> Response {
    let message = format!(
        "no route for {} {}; see the README's API reference",
        request.method(),
        request.uri().path()
    );
    ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
        .to_response()
        .into_response()
}

/// The store, and its feed of what the responder acts on: the memory store's, or DynamoDB
/// Local's stream read as the deployed triggers read it.
async fn build_store(
    settings: &StackSettings,
) -> Result<(Arc<dyn Store>, Option<UnboundedReceiver<Recorded>>), StackError> {
    let Some(endpoint) = &settings.dynamodb_endpoint else {
        let (store, feed) = MemoryStore::with_feed();
        return Ok((Arc::new(store), Some(feed)));
    };
    // DynamoDB Local accepts any credentials; use the environment's when it has some.
    let mut loader = intaj_shared::http_clients::aws_defaults();
    if std::env::var_os("AWS_REGION").is_none() {
        loader = loader.region(aws_config::Region::new("us-east-1"));
    }
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
        loader = loader.credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local",
            "local",
            None,
            None,
            "intaj-dev",
        ));
    }
    let sdk = loader.load().await;
    let config = aws_sdk_dynamodb::config::Builder::from(&sdk)
        .endpoint_url(endpoint)
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    create_table_if_missing(&client, &settings.table_name).await?;
    let stream_arn = client
        .describe_table()
        .table_name(&settings.table_name)
        .send()
        .await
        .ok()
        .and_then(|d| d.table()?.latest_stream_arn().map(str::to_owned))
        .ok_or_else(|| StackError::Stream("the table has no stream".into()))?;
    let streams = aws_sdk_dynamodbstreams::Client::from_conf(
        aws_sdk_dynamodbstreams::config::Builder::from(&sdk)
            .endpoint_url(endpoint)
            .build(),
    );
    let feed = stream_feed::follow(streams, stream_arn)
        .await
        .map_err(|e| StackError::Stream(e.to_string()))?;
    tracing::info!(
        endpoint,
        table = settings.table_name,
        "using DynamoDB and its stream"
    );
    Ok((
        Arc::new(DynamoDbStore::new(client, settings.table_name.clone())),
        Some(feed),
    ))
}

async fn create_demo_connection(
    settings: &StackSettings,
    deps: &ConnectionsDeps,
    base_url: &str,
) -> Result<(), StackError> {
    let demo = ConnectionRequest {
        bot_id: Some(settings.bot_id.clone()),
        business_account_id: Some(settings.waba_id.clone()),
        phone_number_id: Some(settings.phone_number_id.clone()),
        access_token: Some(Secret::new(&settings.access_token)),
        app_secret: Some(Secret::new(&settings.app_secret)),
        verify_token: Some(Secret::new(&settings.verify_token)),
        // The documented demo key (DEV_API_KEY); an HTTP body cannot choose its key.
        api_key: Some(Secret::new(&settings.api_key)),
        responder: settings.demo_responder.then(demo_rules),
        ..ConnectionRequest::default()
    };
    let now = intaj_shared::clock::unix_now();
    service::connect(deps.context(), demo, base_url, now)
        .await
        .map_err(StackError::Connection)?;
    Ok(())
}

/// The demo bot: a greeting with reply buttons for "hi" or "hello", a help text otherwise.
fn demo_rules() -> Responder {
    let greeting = serde_json::json!({
        "type": "interactive",
        "content": {
            "type": "button",
            "body": "Hello! I am the Intaj demo bot. What can I do for you?",
            "buttons": [
                {"id": "order_status", "title": "Order status"},
                {"id": "talk_to_someone", "title": "Talk to someone"},
            ],
        },
    });
    Responder::Rules {
        rules: vec![ResponderRule {
            matches: RuleMatch::Pattern(r"\b(hi|hello)\b".into()),
            reply: greeting,
        }],
        fallback: Some(serde_json::json!({
            "type": "text",
            "content": "Say \"hi\" to see what I can do.",
        })),
    }
}

/// What a user needs to try the stack, printed once it is up.
pub fn banner(stack: &RunningStack) -> String {
    let s = &stack.settings;
    let base = &stack.base_url;
    let sim = stack
        .simulator
        .as_ref()
        .map(|sim| sim.base_url().to_owned());
    let mut out = String::new();
    out.push_str("\nintaj-whatsapp local stack is up\n\n");
    out.push_str(&format!("  API            {base}\n"));
    out.push_str(&format!("  webhook URL    {}\n", stack.webhook_url()));
    match &sim {
        Some(sim) => out.push_str(&format!(
            "  simulator      {sim}  (WhatsApp Cloud API; outbox: {sim}/_sim/messages)\n"
        )),
        None => out.push_str(&format!("  WhatsApp API   {}\n", stack.whatsapp_api_base)),
    }
    let storage = match &s.dynamodb_endpoint {
        Some(endpoint) => format!("DynamoDB at {endpoint}, table {}", s.table_name),
        None => "in memory (gone when the stack stops)".to_owned(),
    };
    out.push_str(&format!("  storage        {storage}\n\n"));
    out.push_str(&format!("  bot id         {}\n", s.bot_id));
    out.push_str(&format!("  API key        {}\n", s.api_key));
    out.push_str(&format!("  admin token    {}\n", s.admin_token));
    out.push_str(&format!("  verify token   {}\n", s.verify_token));
    out.push_str(&format!("  phone number   {}\n\n", s.phone_number_id));
    out.push_str("Try it:\n\n");
    out.push_str(&format!(
        "  curl -s '{}?hub.mode=subscribe&hub.verify_token={}&hub.challenge=42'\n",
        stack.webhook_url(),
        s.verify_token
    ));
    if let Some(sim) = &sim {
        out.push_str(&format!(
            "  curl -s -X POST {sim}/_sim/inbound -H 'content-type: application/json' \\\n    -d '{{\"from\":\"15551234567\",\"name\":\"Sam\",\"type\":\"text\",\"text\":\"Hello!\"}}'\n"
        ));
        if s.demo_responder {
            out.push_str(&format!(
                "  curl -s {sim}/_sim/messages    # the demo bot answered \"Hello!\"\n"
            ));
        }
    }
    out.push_str(&format!(
        "  curl -s -X POST {base}/api/whatsapp/send -H 'authorization: Bearer {}' \\\n    -H 'content-type: application/json' \\\n    -d '{{\"to\":\"+1 (555) 123-4567\",\"type\":\"text\",\"content\":\"Hello from Intaj!\"}}'\n",
        s.api_key
    ));
    out.push_str("\nCtrl-C stops it.\n");
    out
}

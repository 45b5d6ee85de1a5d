//! The composition root of every Lambda `main`: configuration, logging and the AWS-backed
//! adapters, each built once per process. Nothing else reads the environment.

use std::sync::Arc;
use std::time::Duration;

use tracing_subscriber::filter::Targets;

use crate::adapters::{
    CachedSecrets, DynamoDbStore, FixedAdminToken, SecretsManager, SecretsManagerAdminToken,
};
use crate::config::Config;
use crate::graph::{GraphClient, GraphConfig};
use crate::ports::{AdminToken, SecretStore, Store};

/// How long a warm function reuses a bot's secrets before reading them again.
pub const SECRETS_CACHE_TTL: Duration = Duration::from_secs(300);

/// Reads [`Config`], or exits with a message naming what is missing.
pub fn config_or_exit() -> Config {
    Config::from_env().unwrap_or_else(|problem| {
        eprintln!("configuration error: {problem}");
        std::process::exit(2)
    })
}

/// JSON logs on standard output, as [`json_log_lines`] writes them.
pub fn init_tracing(level: &str) {
    use tracing_subscriber::util::SubscriberInitExt;

    json_log_lines(level, std::io::stdout).init();
}

/// The functions' logs: one JSON event per line, at `level`: a level, optionally with levels
/// per target (`info`, `info,intaj_webhook=debug`). An unreadable value logs at `info`. Tests
/// and the log-volume bench read the same lines through their own `writer`.
pub fn json_log_lines<W>(level: &str, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    use tracing_subscriber::layer::SubscriberExt;

    let json_lines = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(false)
        .with_target(false)
        .without_time() // CloudWatch stamps every line
        .with_writer(writer);
    tracing_subscriber::registry()
        .with(json_lines)
        .with(log_filter(level))
}

fn log_filter(level: &str) -> Targets {
    level
        .parse()
        .unwrap_or_else(|_| Targets::new().with_default(tracing::Level::INFO))
}

/// One shared AWS configuration. `AWS_ENDPOINT_URL*` variables point it at local services.
pub async fn aws_config() -> aws_config::SdkConfig {
    crate::http_clients::aws_defaults().load().await
}

pub fn dynamodb_store(aws: &aws_config::SdkConfig, config: &Config) -> Arc<dyn Store> {
    Arc::new(DynamoDbStore::new(
        aws_sdk_dynamodb::Client::new(aws),
        config.table_name.clone(),
    ))
}

/// Spaces the retries of the responder's queue.
pub fn retry_delay(aws: &aws_config::SdkConfig) -> Arc<dyn crate::ports::RetryDelay> {
    Arc::new(crate::adapters::SqsRetryDelay::new(
        aws_sdk_sqs::Client::new(aws),
    ))
}

pub fn secret_store(aws: &aws_config::SdkConfig, config: &Config) -> Arc<dyn SecretStore> {
    let manager = SecretsManager::new(
        aws_sdk_secretsmanager::Client::new(aws),
        config.secret_prefix.clone(),
    );
    Arc::new(CachedSecrets::new(manager, SECRETS_CACHE_TTL))
}

/// The connections API's admin token, read from Secrets Manager under `ADMIN_SECRET_ID` and
/// cached like the bot secrets. Without `ADMIN_SECRET_ID` every admin request is refused (503).
pub fn admin_token(aws: &aws_config::SdkConfig, config: &Config) -> Arc<dyn AdminToken> {
    match &config.admin_secret_id {
        Some(secret_id) => Arc::new(SecretsManagerAdminToken::new(
            aws_sdk_secretsmanager::Client::new(aws),
            secret_id.clone(),
            SECRETS_CACHE_TTL,
        )),
        None => {
            tracing::warn!(
                "ADMIN_SECRET_ID is not set; the connections routes refuse every request"
            );
            Arc::new(FixedAdminToken(None))
        }
    }
}

/// The S3 client for media, on the shared configuration (path-style for a local S3).
pub fn s3_client(aws: &aws_config::SdkConfig, path_style: bool) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(aws)
        .force_path_style(path_style)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// The media bucket (`MEDIA_BUCKET`), or exits naming the variable.
pub fn media_store(
    aws: &aws_config::SdkConfig,
    config: &Config,
) -> Arc<dyn crate::ports::MediaStore> {
    let Some(bucket) = &config.media_bucket else {
        eprintln!(
            "configuration error: MEDIA_BUCKET must name the media bucket (template.yaml sets it)"
        );
        std::process::exit(2)
    };
    Arc::new(crate::adapters::S3MediaStore::new(
        s3_client(aws, config.s3_path_style),
        bucket.clone(),
    ))
}

/// The Graph API client (one connection pool per process).
pub fn graph_client(config: &Config) -> GraphClient {
    let graph = GraphConfig::new(&config.whatsapp_api_base, &config.whatsapp_api_version);
    GraphClient::new(graph).unwrap_or_else(|error| {
        eprintln!("configuration error: WHATSAPP_API_BASE: {error}");
        std::process::exit(2)
    })
}

/// Opens the Graph API connection beside the first request instead of before it: the TLS
/// handshake with Meta overlaps the request's own store reads, and init stays short.
pub fn warm_up_in_background(graph: &GraphClient) {
    let graph = graph.clone();
    tokio::spawn(async move { graph.warm_up().await });
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::*;

    #[test]
    fn log_level_takes_a_level_and_levels_per_target() {
        let filter = log_filter("info,intaj_webhook=debug");
        assert!(filter.would_enable("intaj_webhook::receipt", &Level::DEBUG));
        assert!(!filter.would_enable("intaj_send", &Level::DEBUG));
        assert!(filter.would_enable("intaj_send", &Level::INFO));
        let unreadable = log_filter("info,,=nonsense=");
        assert!(unreadable.would_enable("anything", &Level::INFO));
        assert!(!unreadable.would_enable("anything", &Level::DEBUG));
        assert!(!log_filter("warn").would_enable("intaj_send", &Level::INFO));
    }
}

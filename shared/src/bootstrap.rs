//! The composition root of every Lambda `main`: configuration, logging and the AWS-backed
//! adapters, each built once per process. Nothing else reads the environment.

use std::sync::Arc;
use std::time::Duration;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::{self, Format, Json};
use tracing_subscriber::fmt::time::SystemTime;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

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
        .event_format(StampedWarnings::default())
        .with_writer(writer);
    tracing_subscriber::registry()
        .with(json_lines)
        .with(log_filter(level))
}

/// JSON lines where warnings and errors carry an RFC 3339 `timestamp` and the rest do not.
/// Lambda reads a JSON line's `level` only beside a valid timestamp, and calls any other line
/// INFO: unstamped, an error would be dropped by an application log level of WARN or ERROR.
/// INFO lines, most of the volume, stay without one (CloudWatch stamps every line; each byte is
/// billed); DEBUG lines, asked for with `LOG_LEVEL`, pass Lambda's default INFO as INFO.
struct StampedWarnings {
    plain: Format<Json, ()>,
    stamped: Format<Json, SystemTime>,
}

impl Default for StampedWarnings {
    fn default() -> Self {
        let json = Format::default()
            .json()
            .with_current_span(false)
            .with_target(false);
        Self {
            plain: json.clone().without_time(),
            stamped: json.with_timer(SystemTime),
        }
    }
}

impl<S, N> FormatEvent<S, N> for StampedWarnings
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
    N: for<'w> FormatFields<'w> + 'static,
{
    fn format_event(
        &self,
        context: &FmtContext<'_, S, N>,
        writer: format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        // Less verbose is lower: ERROR < WARN < INFO.
        if *event.metadata().level() <= tracing::Level::WARN {
            self.stamped.format_event(context, writer, event)
        } else {
            self.plain.format_event(context, writer, event)
        }
    }
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

/// Which addresses the businesses' URLs may reach (see [`crate::business_urls`]).
pub fn business_reach(config: &Config) -> crate::business_urls::Reach {
    if config.allow_private_business_urls {
        crate::business_urls::Reach::PrivateToo
    } else {
        crate::business_urls::Reach::PublicOnly
    }
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

    /// `2026-12-07T12:13:14.123456Z`: RFC 3339 in UTC, as Lambda reads a line's timestamp.
    fn is_rfc3339_utc(text: &str) -> bool {
        let shape = |at: usize, c: u8| match c {
            b'0'..=b'9' => ![4, 7, 10, 13, 16].contains(&at),
            b'-' => at == 4 || at == 7,
            b'T' => at == 10,
            b':' => at == 13 || at == 16,
            _ => false,
        };
        let (seconds, fraction) = text.split_at(text.len().min(19));
        seconds.len() == 19
            && seconds.bytes().enumerate().all(|(at, c)| shape(at, c))
            && fraction.strip_suffix('Z').is_some_and(|f| {
                f.is_empty() || (f.starts_with('.') && f[1..].bytes().all(|c| c.is_ascii_digit()))
            })
    }

    #[test]
    fn warnings_and_errors_carry_the_timestamp_lambda_needs_to_read_their_level() {
        let lines = intaj_test_support::LogLines::default();
        let writer = lines.clone();
        let subscriber = json_log_lines("debug", move || writer.clone());
        tracing::subscriber::with_default(subscriber, || {
            tracing::error!(bot_id = "demo", "an error");
            tracing::warn!(bot_id = "demo", "a warning");
            tracing::info!(bot_id = "demo", "a decision");
            tracing::debug!(bot_id = "demo", "a detail");
        });
        let logged: Vec<serde_json::Value> = lines
            .text()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let seen: Vec<(&str, Option<&str>)> = logged
            .iter()
            .map(|line| (line["level"].as_str().unwrap(), line["timestamp"].as_str()))
            .collect();
        assert_eq!(seen.len(), 4, "{logged:?}");
        for (level, timestamp) in seen {
            match level {
                "ERROR" | "WARN" => {
                    let timestamp = timestamp.unwrap_or_default();
                    assert!(is_rfc3339_utc(timestamp), "{level}: {timestamp:?}");
                }
                _ => assert_eq!(timestamp, None, "{level}: unstamped, CloudWatch stamps it"),
            }
        }
        assert!(is_rfc3339_utc("2026-12-07T12:13:14.123456Z"));
        assert!(!is_rfc3339_utc("2026-12-07 12:13:14Z"));
        assert!(!is_rfc3339_utc("1764000000"));
    }
}

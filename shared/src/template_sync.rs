//! Syncing a bot's message templates from Meta (SPEC §5): every page of
//! `GET /{wabaId}/message_templates`, Meta's failures answered as the send path answers them
//! (190 → the token is re-read once; 5xx and throttling retried, then 503), and a store write of
//! what changed only. The template-sync function, its schedule and the local stack all sync
//! through [`sync_bot`].

use http::StatusCode;
use serde::Serialize;

use crate::access::{connection_of, secrets_of};
use crate::api::ApiError;
use crate::domain::{MessageTemplate, TemplateSync};
use crate::graph::{GraphClient, GraphFailure, GraphTemplate, INVALID_TOKEN, TemplateListing};
use crate::ports::{ConnectionStore, SecretStore, StoreError, TemplateStore};

/// Templates asked for per page. Meta's default is 25 and its maximum is not documented: ask for
/// many, and follow `next` whatever the page holds.
pub const PAGE_LIMIT: u32 = 500;

/// What a sync needs: the connection (its business account), the bot's token, Meta, the store.
#[derive(Clone, Copy)]
pub struct SyncPorts<'a> {
    pub connections: &'a dyn ConnectionStore,
    pub templates: &'a dyn TemplateStore,
    pub secrets: &'a dyn SecretStore,
    pub graph: &'a GraphClient,
}

/// The answer of `POST /api/whatsapp/sync-templates`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    /// Templates Meta listed.
    pub fetched: usize,
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
    pub unchanged: usize,
    /// Unix seconds.
    pub synced_at: i64,
    /// How many templates Meta allows the business account, when it says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_limit: Option<u64>,
    /// Pages read from Meta (restarts included).
    #[serde(skip)]
    pub pages: usize,
}

/// Syncs one bot's templates; `now` (unix seconds) becomes its `syncedAt`.
pub async fn sync_bot(
    ports: SyncPorts<'_>,
    bot_id: &str,
    now: i64,
) -> Result<SyncReport, ApiError> {
    let connection = connection_of(ports.connections, bot_id).await?;
    let listing = list_templates(ports, bot_id, &connection.business_account_id).await?;
    let sync = TemplateSync {
        templates: listing.templates.into_iter().map(stored_template).collect(),
        synced_at: now,
        template_limit: listing.template_limit,
    };
    let counts = ports
        .templates
        .replace_templates(bot_id, &sync)
        .await
        .map_err(storage)?;
    let report = SyncReport {
        fetched: sync.templates.len(),
        added: counts.added,
        updated: counts.updated,
        removed: counts.removed,
        unchanged: counts.unchanged,
        synced_at: now,
        template_limit: sync.template_limit,
        pages: listing.pages,
    };
    tracing::info!(
        bot_id,
        fetched = report.fetched,
        added = report.added,
        updated = report.updated,
        removed = report.removed,
        unchanged = report.unchanged,
        pages = report.pages,
        "templates synced"
    );
    Ok(report)
}

/// Every template of the account, re-reading the token once if Meta refuses it.
async fn list_templates(
    ports: SyncPorts<'_>,
    bot_id: &str,
    waba_id: &str,
) -> Result<TemplateListing, ApiError> {
    let token = secrets_of(ports.secrets, bot_id)
        .await?
        .access_token
        .clone();
    let mut result = ports
        .graph
        .all_message_templates(waba_id, token.expose(), PAGE_LIMIT)
        .await;
    if let Err(failure) = &result
        && failure.error.meta_code() == Some(INVALID_TOKEN)
    {
        // The token may have been rotated since it was cached.
        tracing::warn!(bot_id, "Meta rejected the access token; re-reading it");
        if let Some(fresh) = ports.secrets.refresh_bot_secrets(bot_id).await? {
            result = ports
                .graph
                .all_message_templates(waba_id, fresh.access_token.expose(), PAGE_LIMIT)
                .await;
        }
    }
    result.map_err(|failure| upstream_error(bot_id, failure))
}

/// Meta's template as the store keeps it: `components` as compact JSON (keys sorted, so an
/// unchanged template compares equal whatever order Meta sent them in).
pub fn stored_template(template: GraphTemplate) -> MessageTemplate {
    MessageTemplate {
        parameter_format: template.parameter_format,
        sub_category: template.sub_category,
        quality_score: template.quality_score.map(|q| q.score),
        rejected_reason: template.rejected_reason,
        ..MessageTemplate::new(
            template.id,
            template.name,
            template.language,
            template.status,
            template.category,
            template.components.to_string(),
        )
    }
}

/// A concurrent sync that kept the bot's lease is a 409; anything else a 503.
fn storage(error: StoreError) -> ApiError {
    match error {
        StoreError::Conflict(message) => {
            ApiError::new(StatusCode::CONFLICT, "sync_in_progress", message).with_retry_after(30)
        }
        other => other.into(),
    }
}

/// Meta's failure as the API's answer, with Meta's error in `upstream`.
fn upstream_error(bot_id: &str, failure: GraphFailure) -> ApiError {
    tracing::warn!(
        bot_id, attempts = failure.attempts, error = %failure.error,
        "Meta did not list the templates"
    );
    ApiError::of_meta(
        &failure.error,
        failure.retry_after.as_secs(),
        "list the templates",
    )
}

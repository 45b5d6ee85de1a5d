//! The hourly schedule: every connection's templates synced, a few at a time; one that fails or
//! hangs is logged and counted and does not stop the others.

use std::time::{Duration, Instant};

use futures::StreamExt;
use intaj_shared::api::ApiError;
use intaj_shared::template_sync::sync_bot;
use serde::Serialize;

use crate::handler::TemplateSyncDeps;

/// How the schedule spreads its work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleSettings {
    /// Connections synced at once.
    pub concurrency: usize,
    /// A connection not synced within this is counted as failed (Meta slow or hanging).
    pub per_connection_timeout: Duration,
}

impl Default for ScheduleSettings {
    fn default() -> Self {
        Self {
            concurrency: 32,
            per_connection_timeout: Duration::from_secs(60),
        }
    }
}

/// What one scheduled run did; also logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleReport {
    pub connections: usize,
    pub succeeded: usize,
    pub failed: usize,
    /// The bots whose sync failed, with the error code (at most 100, for the log line).
    pub failures: Vec<ScheduleFailure>,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleFailure {
    pub bot_id: String,
    pub code: &'static str,
}

/// Syncs every connection. Fails only when the connections cannot be listed.
pub async fn sync_all(deps: &TemplateSyncDeps, now: i64) -> Result<ScheduleReport, ApiError> {
    let started = Instant::now();
    let connections = deps.connections.connections().await?;
    let bot_ids: Vec<String> = connections.into_iter().map(|c| c.bot_id).collect();
    let outcomes: Vec<(String, Result<(), &'static str>)> = futures::stream::iter(bot_ids)
        .map(|bot_id| sync_one(deps.clone(), bot_id, now))
        .buffer_unordered(deps.schedule.concurrency.max(1))
        .collect()
        .await;
    let failures: Vec<ScheduleFailure> = outcomes
        .iter()
        .filter_map(|(bot_id, outcome)| {
            outcome.err().map(|code| ScheduleFailure {
                bot_id: bot_id.clone(),
                code,
            })
        })
        .collect();
    let report = ScheduleReport {
        connections: outcomes.len(),
        succeeded: outcomes.len() - failures.len(),
        failed: failures.len(),
        failures: failures.into_iter().take(100).collect(),
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    tracing::info!(
        connections = report.connections,
        succeeded = report.succeeded,
        failed = report.failed,
        elapsed_ms = report.elapsed_ms,
        "scheduled template sync finished"
    );
    Ok(report)
}

/// One connection's sync within the per-connection time limit; the error code when it failed.
async fn sync_one(
    deps: TemplateSyncDeps,
    bot_id: String,
    now: i64,
) -> (String, Result<(), &'static str>) {
    let limit = deps.schedule.per_connection_timeout;
    let outcome = match tokio::time::timeout(limit, sync_bot(deps.ports(), &bot_id, now)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => {
            tracing::warn!(
                bot_id,
                code = error.code,
                message = error.message,
                "scheduled template sync failed"
            );
            Err(error.code)
        }
        Err(_) => {
            tracing::warn!(
                bot_id,
                timeout_secs = limit.as_secs(),
                "scheduled template sync timed out"
            );
            Err("timeout")
        }
    };
    (bot_id, outcome)
}

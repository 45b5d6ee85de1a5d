//! [`SecretStore`] on AWS Secrets Manager: one JSON secret per bot, named `{prefix}{botId}`.
//! No cache here: wrap it in [`CachedSecrets`](super::CachedSecrets).
//!
//! Error texts name the secret and the service's error, never a secret's value.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::ports::{BotSecrets, SecretStore, SecretsError};

/// How long a deleted bot's secret can be recovered (Secrets Manager's minimum is 7).
pub const RECOVERY_WINDOW_DAYS: i64 = 7;

#[derive(Clone, Debug)]
pub struct SecretsManager {
    client: Client,
    prefix: String,
}

impl SecretsManager {
    /// `prefix` is `SECRET_PREFIX` (e.g. `intaj/whatsapp/`); IAM policies grant `{prefix}*`.
    pub fn new(client: Client, prefix: impl Into<String>) -> Self {
        Self {
            client,
            prefix: prefix.into(),
        }
    }

    pub fn secret_id(&self, bot_id: &str) -> String {
        format!("{}{bot_id}", self.prefix)
    }
}

/// Describes a failure by operation, secret id and the service's code and message. The SDK
/// marks secret values as sensitive, and service messages never echo them.
fn unavailable<E, R>(operation: &str, secret_id: &str, err: SdkError<E, R>) -> SecretsError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: std::fmt::Debug + 'static,
{
    let detail = match err.as_service_error() {
        Some(service) => format!(
            "{}: {}",
            service.code().unwrap_or("unknown error"),
            service.message().unwrap_or("no message")
        ),
        None => DisplayErrorContext(&err).to_string(),
    };
    SecretsError::Unavailable(format!("Secrets Manager {operation} {secret_id}: {detail}"))
}

/// A secret's current string value (empty for a binary secret); `None` when the secret does
/// not exist.
pub(super) async fn secret_string(
    client: &Client,
    secret_id: &str,
) -> Result<Option<String>, SecretsError> {
    match client.get_secret_value().secret_id(secret_id).send().await {
        Ok(out) => Ok(Some(out.secret_string.unwrap_or_default())),
        // Not found, or scheduled for deletion (a deleted connection): no secret either way.
        Err(err)
            if err.as_service_error().is_some_and(|e| {
                e.is_resource_not_found_exception() || e.is_invalid_request_exception()
            }) =>
        {
            Ok(None)
        }
        Err(err) => Err(unavailable("GetSecretValue", secret_id, err)),
    }
}

#[async_trait]
impl SecretStore for SecretsManager {
    async fn bot_secrets(&self, bot_id: &str) -> Result<Option<Arc<BotSecrets>>, SecretsError> {
        let secret_id = self.secret_id(bot_id);
        let Some(json) = secret_string(&self.client, &secret_id).await? else {
            return Ok(None);
        };
        // serde_json's error text can quote the input, so it is dropped, not passed on.
        let secrets = serde_json::from_str::<BotSecrets>(&json)
            .map_err(|_| SecretsError::Malformed(secret_id))?;
        Ok(Some(Arc::new(secrets)))
    }

    async fn refresh_bot_secrets(
        &self,
        bot_id: &str,
    ) -> Result<Option<Arc<BotSecrets>>, SecretsError> {
        self.bot_secrets(bot_id).await
    }

    async fn put_bot_secrets(
        &self,
        bot_id: &str,
        secrets: &BotSecrets,
    ) -> Result<(), SecretsError> {
        let secret_id = self.secret_id(bot_id);
        let json = serde_json::to_string(secrets)
            .map_err(|_| SecretsError::Malformed(secret_id.clone()))?;
        let created = self
            .client
            .create_secret()
            .name(&secret_id)
            .secret_string(json.clone())
            .send()
            .await;
        match created {
            Ok(_) => Ok(()),
            // Rotation: the secret exists, so it gets a new current version. A secret scheduled
            // for deletion (the bot id was deleted, then connected again) is restored first.
            Err(err)
                if err.as_service_error().is_some_and(|e| {
                    e.is_resource_exists_exception() || e.is_invalid_request_exception()
                }) =>
            {
                // Which of the two errors a scheduled deletion gives differs between Secrets
                // Manager (invalid request) and moto (exists), so restoring is always tried; a
                // secret that is not scheduled for deletion stays as it is.
                match self
                    .client
                    .restore_secret()
                    .secret_id(&secret_id)
                    .send()
                    .await
                {
                    Ok(_) => {}
                    Err(err)
                        if err
                            .as_service_error()
                            .is_some_and(|e| e.is_invalid_request_exception()) => {}
                    Err(err) => return Err(unavailable("RestoreSecret", &secret_id, err)),
                }
                self.client
                    .put_secret_value()
                    .secret_id(&secret_id)
                    .secret_string(json)
                    .send()
                    .await
                    .map_err(|err| unavailable("PutSecretValue", &secret_id, err))?;
                Ok(())
            }
            Err(err) => Err(unavailable("CreateSecret", &secret_id, err)),
        }
    }

    async fn delete_bot_secrets(&self, bot_id: &str) -> Result<(), SecretsError> {
        let secret_id = self.secret_id(bot_id);
        // Recoverable for Secrets Manager's recovery window; connecting the bot id again
        // restores it (see put_bot_secrets).
        let result = self
            .client
            .delete_secret()
            .secret_id(&secret_id)
            .recovery_window_in_days(RECOVERY_WINDOW_DAYS)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Never created, or already scheduled for deletion.
            Err(err)
                if err.as_service_error().is_some_and(|e| {
                    e.is_resource_not_found_exception() || e.is_invalid_request_exception()
                }) =>
            {
                Ok(())
            }
            Err(err) => Err(unavailable("DeleteSecret", &secret_id, err)),
        }
    }
}

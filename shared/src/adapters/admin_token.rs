//! Where the connections API's admin token comes from: Secrets Manager in a deployed stack
//! (`ADMIN_SECRET_ID`, a plain secret the stack generates), a fixed value in the local stack
//! (`DEV_ADMIN_TOKEN`).

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use tokio::time::Instant;

use super::secrets_manager::secret_string;
use crate::ports::{AdminToken, Secret, SecretsError};

/// The token kept in Secrets Manager, re-read once `ttl` has passed (a rotated token is
/// accepted by a warm function for at most that long). An absent secret is not remembered.
pub struct SecretsManagerAdminToken {
    client: Client,
    secret_id: String,
    ttl: Duration,
    cached: Mutex<Option<(Instant, Secret)>>,
}

impl SecretsManagerAdminToken {
    pub fn new(client: Client, secret_id: impl Into<String>, ttl: Duration) -> Self {
        Self {
            client,
            secret_id: secret_id.into(),
            ttl,
            cached: Mutex::new(None),
        }
    }

    fn cached(&self) -> std::sync::MutexGuard<'_, Option<(Instant, Secret)>> {
        self.cached.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl AdminToken for SecretsManagerAdminToken {
    async fn admin_token(&self) -> Result<Option<Secret>, SecretsError> {
        if let Some((fetched, token)) = self.cached().as_ref()
            && fetched.elapsed() < self.ttl
        {
            return Ok(Some(token.clone()));
        }
        let Some(value) = secret_string(&self.client, &self.secret_id).await? else {
            *self.cached() = None;
            return Ok(None);
        };
        let token = Some(value.trim())
            .filter(|token| !token.is_empty())
            .map(Secret::new)
            .ok_or_else(|| SecretsError::Malformed(self.secret_id.clone()))?;
        *self.cached() = Some((Instant::now(), token.clone()));
        Ok(Some(token))
    }
}

/// A token fixed at start: the local stack's `DEV_ADMIN_TOKEN`, and tests.
pub struct FixedAdminToken(pub Option<Secret>);

#[async_trait]
impl AdminToken for FixedAdminToken {
    async fn admin_token(&self) -> Result<Option<Secret>, SecretsError> {
        Ok(self.0.clone())
    }
}

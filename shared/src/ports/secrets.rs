use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// A secret value. Its `Debug` never shows it, so it cannot reach a log line by accident.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison, so response timing tells nothing about the secret.
    pub fn matches(&self, candidate: &str) -> bool {
        use subtle::ConstantTimeEq;
        bool::from(self.0.as_bytes().ct_eq(candidate.as_bytes()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// One bot's credentials, stored as one JSON secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BotSecrets {
    pub access_token: Secret,
    pub app_secret: Secret,
    pub verify_token: Secret,
    /// Signs what the product posts to the bot's own URLs (SPEC §7); absent in secrets written
    /// before the connections API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responder_secret: Option<Secret>,
}

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("secret store unavailable: {0}")]
    Unavailable(String),
    #[error("secret {0} is not the expected JSON object")]
    Malformed(String),
}

#[async_trait]
pub trait SecretStore: Send + Sync {
    /// The bot's secrets, possibly from a short-lived cache. `None` when the bot has none.
    async fn bot_secrets(&self, bot_id: &str) -> Result<Option<Arc<BotSecrets>>, SecretsError>;
    /// What [`bot_secrets`](Self::bot_secrets) would answer, when known without a round trip (a
    /// warm cache, memory); `None` to ask it. Spares the webhook's hot path a boxed future.
    fn bot_secrets_now(&self, _bot_id: &str) -> Option<Option<Arc<BotSecrets>>> {
        None
    }
    /// Same, bypassing any cache (e.g. after Meta rejected the access token).
    async fn refresh_bot_secrets(
        &self,
        bot_id: &str,
    ) -> Result<Option<Arc<BotSecrets>>, SecretsError>;
    async fn put_bot_secrets(&self, bot_id: &str, secrets: &BotSecrets)
    -> Result<(), SecretsError>;
    /// Removes the bot's secrets: at once from reads, recoverable for a while where the
    /// backend supports it (Secrets Manager's recovery window).
    async fn delete_bot_secrets(&self, bot_id: &str) -> Result<(), SecretsError>;
}

/// The connections API's admin token (SPEC §8 `ADMIN_SECRET_ID`): one plain secret.
#[async_trait]
pub trait AdminToken: Send + Sync {
    /// The current token, possibly from a short-lived cache; `None` when there is none.
    async fn admin_token(&self) -> Result<Option<Secret>, SecretsError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug_output() {
        let s = BotSecrets {
            access_token: Secret::new("EAAtoken"),
            app_secret: Secret::new("appsecret"),
            verify_token: Secret::new("verify"),
            responder_secret: None,
        };
        let shown = format!("{s:?}");
        assert!(!shown.contains("EAAtoken") && !shown.contains("appsecret"));
        assert!(!shown.contains("verify\""));
    }
}

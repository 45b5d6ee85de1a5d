//! The parts of connecting a business's WhatsApp number that more than one function needs: the
//! credentials check with Meta ([`check_credentials`]), bot ids, API keys. Connections are made
//! by the connections function (`functions/connections`); [`connect`] writes one straight to the
//! stores, for tests' set-up.

use http::StatusCode;
use rand::RngExt;

use crate::api::ApiError;
use crate::domain::{ApiKey, Connection, api_key_hash};
use crate::graph::{GraphClient, GraphFailure, INVALID_TOKEN, PhoneNumber, UNKNOWN_OBJECT};
use crate::ports::{BotSecrets, Secret, SecretStore, SecretsError, Store, StoreError};

/// The product's default requests per second for an API key (SPEC §4).
pub const DEFAULT_RATE_LIMIT_PER_SECOND: u32 = 80;

/// What a business gives to connect its WhatsApp number to a bot.
#[derive(Debug, Clone)]
pub struct NewConnection {
    pub bot_id: String,
    pub business_account_id: String,
    pub phone_number_id: String,
    pub access_token: Secret,
    pub app_secret: Secret,
    pub verify_token: Secret,
    /// The Bearer key the business's systems will use; only its hash is stored.
    pub api_key: Secret,
    pub rate_limit_per_second: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
}

/// Stores `new` without asking Meta: the set-up of tests that need a connection as a fact.
/// Secrets first, so that the moment the connection can be found, its webhook can be verified.
pub async fn connect(
    store: &dyn Store,
    secrets: &dyn SecretStore,
    new: &NewConnection,
    now: i64,
) -> Result<(), ConnectError> {
    check(new)?;
    secrets
        .put_bot_secrets(
            &new.bot_id,
            &BotSecrets {
                access_token: new.access_token.clone(),
                app_secret: new.app_secret.clone(),
                verify_token: new.verify_token.clone(),
                responder_secret: None,
            },
        )
        .await?;
    store
        .put_connection(&Connection {
            bot_id: new.bot_id.clone(),
            business_account_id: new.business_account_id.clone(),
            phone_number_id: new.phone_number_id.clone(),
            created_at: now,
            ..Default::default()
        })
        .await?;
    store
        .put_api_key(
            &api_key_hash(new.api_key.expose()),
            &ApiKey {
                bot_id: new.bot_id.clone(),
                rate_limit_per_second: new.rate_limit_per_second,
                created_at: now,
            },
        )
        .await?;
    Ok(())
}

/// A bot id that fits the webhook URL: 1 to 128 letters, digits, `-`, `_` or `.`.
pub fn is_valid_bot_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// A new API key: 32 random bytes, hex, with a prefix that makes a leaked key easy to spot.
pub fn generate_api_key() -> Secret {
    let bytes: [u8; 32] = rand::rng().random();
    Secret::new(format!("intaj_{}", hex::encode(bytes)))
}

fn check(new: &NewConnection) -> Result<(), ConnectError> {
    if !is_valid_bot_id(&new.bot_id) {
        return Err(ConnectError::Invalid(format!(
            "bot id {:?} must be 1 to 128 letters, digits, '-', '_' or '.'",
            new.bot_id
        )));
    }
    for (name, value) in [
        ("phone number id", &new.phone_number_id),
        ("business account id", &new.business_account_id),
    ] {
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConnectError::Invalid(format!(
                "{name} {value:?} must be the digits Meta shows in WhatsApp Manager"
            )));
        }
    }
    for (name, secret) in [
        ("access token", &new.access_token),
        ("app secret", &new.app_secret),
        ("verify token", &new.verify_token),
        ("API key", &new.api_key),
    ] {
        if secret.expose().trim().is_empty() {
            return Err(ConnectError::Invalid(format!("{name} must not be empty")));
        }
    }
    if new.rate_limit_per_second == 0 {
        return Err(ConnectError::Invalid(
            "rate limit must be at least 1 request per second".into(),
        ));
    }
    Ok(())
}

/// Checks a business's credentials with the Graph API before anything is stored: the phone
/// number must be readable with the token and listed under the business account. Returns the
/// number as Meta shows it (display number, verified name).
pub async fn check_credentials(
    graph: &GraphClient,
    business_account_id: &str,
    phone_number_id: &str,
    access_token: &str,
) -> Result<PhoneNumber, ApiError> {
    let not_in_account = || {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "phone_number_not_in_account",
            format!(
                "phone number id {phone_number_id} is not a number of business account \
                 {business_account_id} that this access token can read; check both ids in \
                 WhatsApp Manager and the token's access to the account"
            ),
        )
    };
    let number = graph
        .phone_number(phone_number_id, access_token)
        .await
        .map_err(|failure| credentials_error(failure, not_in_account))?;
    let listed = graph
        .account_phone_numbers(business_account_id, access_token)
        .await
        .map_err(|failure| credentials_error(failure, not_in_account))?;
    if !listed.iter().any(|n| n.id == phone_number_id) {
        return Err(not_in_account());
    }
    Ok(number)
}

/// Meta's refusal as the connection route's answer, Meta's error kept in `upstream`.
fn credentials_error(failure: GraphFailure, not_in_account: impl Fn() -> ApiError) -> ApiError {
    tracing::warn!(attempts = failure.attempts, error = %failure.error, "credentials check failed");
    let error = if failure.error.is_retryable() {
        ApiError::upstream_unavailable(failure.retry_after.as_secs())
    } else {
        match failure.error.meta_code() {
            Some(INVALID_TOKEN) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_access_token",
                "Meta refuses this access token; generate a permanent token for a system user \
                 with whatsapp_business_messaging and whatsapp_business_management",
            ),
            Some(UNKNOWN_OBJECT) => not_in_account(),
            _ => ApiError::new(
                StatusCode::BAD_GATEWAY,
                "upstream_error",
                format!(
                    "WhatsApp did not answer the credentials check: {}; see error.upstream",
                    failure.error
                ),
            ),
        }
    };
    error.with_upstream_of(&failure.error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::{MemorySecrets, MemoryStore};
    use crate::ports::{ApiKeyStore, ConnectionStore};

    fn new_connection() -> NewConnection {
        NewConnection {
            bot_id: "shop".into(),
            business_account_id: "200000000000009".into(),
            phone_number_id: "100000000000009".into(),
            access_token: Secret::new("token"),
            app_secret: Secret::new("app"),
            verify_token: Secret::new("verify"),
            api_key: Secret::new("key-1"),
            rate_limit_per_second: DEFAULT_RATE_LIMIT_PER_SECOND,
        }
    }

    #[tokio::test]
    async fn a_connection_is_found_by_bot_phone_number_and_api_key() {
        let (store, secrets) = (MemoryStore::new(), MemorySecrets::new());
        connect(&store, &secrets, &new_connection(), 1_700_000_000)
            .await
            .unwrap();
        let by_phone = store
            .connection_by_phone_number("100000000000009")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(by_phone.bot_id, "shop");
        let key = store
            .api_key(&api_key_hash("key-1"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (key.bot_id.as_str(), key.rate_limit_per_second),
            ("shop", 80)
        );
        let stored = secrets.bot_secrets("shop").await.unwrap().unwrap();
        assert_eq!(stored.app_secret.expose(), "app");
    }

    #[tokio::test]
    async fn bad_input_is_refused_and_nothing_is_stored() {
        let (store, secrets) = (MemoryStore::new(), MemorySecrets::new());
        for (broken, says) in [
            (
                NewConnection {
                    bot_id: "my shop".into(),
                    ..new_connection()
                },
                "bot id",
            ),
            (
                NewConnection {
                    phone_number_id: "+1 555".into(),
                    ..new_connection()
                },
                "phone number id",
            ),
            (
                NewConnection {
                    app_secret: Secret::new(" "),
                    ..new_connection()
                },
                "app secret",
            ),
            (
                NewConnection {
                    rate_limit_per_second: 0,
                    ..new_connection()
                },
                "rate limit",
            ),
        ] {
            let error = connect(&store, &secrets, &broken, 0).await.unwrap_err();
            assert!(error.to_string().contains(says), "{error}");
        }
        assert!(store.connections().await.unwrap().is_empty());
        assert!(secrets.bot_secrets("shop").await.unwrap().is_none());
    }

    #[test]
    fn generated_keys_are_long_random_and_recognisable() {
        let (a, b) = (generate_api_key(), generate_api_key());
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().starts_with("intaj_"));
        assert_eq!(a.expose().len(), "intaj_".len() + 64);
    }
}

//! The Secrets Manager adapter on moto (skipped when it is not running, unless
//! `INTAJ_TEST_REQUIRE_SERVICES=1`).

use std::sync::OnceLock;
use std::time::Duration;

use aws_sdk_secretsmanager::Client;
use intaj_shared::adapters::{CachedSecrets, SecretsManager};
use intaj_shared::ports::{BotSecrets, Secret, SecretStore, SecretsError};
use intaj_test_support::{LocalServices, unique};

async fn client() -> Option<Client> {
    Some(
        LocalServices::from_env("secrets_manager")?
            .secrets_manager()
            .await,
    )
}

/// A prefix of this test process, so runs against one moto never share a secret.
fn prefix() -> &'static str {
    static PREFIX: OnceLock<String> = OnceLock::new();
    PREFIX.get_or_init(|| format!("{}/", unique("intaj-test")))
}

async fn store() -> Option<(SecretsManager, Client)> {
    let client = client().await?;
    Some((SecretsManager::new(client.clone(), prefix()), client))
}

fn secrets(access_token: &str) -> BotSecrets {
    BotSecrets {
        access_token: Secret::new(access_token),
        app_secret: Secret::new("app-secret-value"),
        verify_token: Secret::new("verify-token-value"),
        responder_secret: None,
    }
}

#[tokio::test]
async fn put_then_get_round_trips_under_the_prefixed_name() {
    let Some((store, client)) = store().await else {
        return;
    };
    store
        .put_bot_secrets("round-trip", &secrets("EAA-1"))
        .await
        .unwrap();

    let got = store
        .bot_secrets("round-trip")
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(*got, secrets("EAA-1"));

    // Stored as one JSON object with camelCase names, where IAM's `{prefix}*` grant covers it.
    let raw = client
        .get_secret_value()
        .secret_id(format!("{}round-trip", prefix()))
        .send()
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(raw.secret_string().unwrap()).unwrap();
    assert_eq!(json["accessToken"], "EAA-1");
    assert_eq!(json["appSecret"], "app-secret-value");
    assert_eq!(json["verifyToken"], "verify-token-value");
}

#[tokio::test]
async fn rotation_replaces_the_value_and_refresh_reads_it() {
    let Some((store, _)) = store().await else {
        return;
    };
    store
        .put_bot_secrets("rotate", &secrets("EAA-old"))
        .await
        .unwrap();
    store
        .put_bot_secrets("rotate", &secrets("EAA-new"))
        .await
        .expect("put on an existing secret");
    assert_eq!(
        *store.bot_secrets("rotate").await.unwrap().unwrap(),
        secrets("EAA-new")
    );
    assert_eq!(
        *store.refresh_bot_secrets("rotate").await.unwrap().unwrap(),
        secrets("EAA-new")
    );
}

#[tokio::test]
async fn missing_and_deleted_secrets_are_none() {
    let Some((store, client)) = store().await else {
        return;
    };
    assert!(store.bot_secrets("never-created").await.unwrap().is_none());
    assert!(
        store
            .refresh_bot_secrets("never-created")
            .await
            .unwrap()
            .is_none()
    );

    store
        .put_bot_secrets("deleted", &secrets("EAA-1"))
        .await
        .unwrap();
    store.delete_bot_secrets("deleted").await.unwrap();
    assert!(store.bot_secrets("deleted").await.unwrap().is_none());
    let described = client
        .describe_secret()
        .secret_id(store.secret_id("deleted"))
        .send()
        .await
        .unwrap();
    assert!(
        described.deleted_date.is_some(),
        "scheduled for deletion, recoverable meanwhile"
    );
    store
        .delete_bot_secrets("deleted")
        .await
        .expect("deleting twice is fine");

    // Connecting the same bot id again within the recovery window restores it with the new value.
    store
        .put_bot_secrets("deleted", &secrets("EAA-2"))
        .await
        .unwrap();
    assert_eq!(
        *store.bot_secrets("deleted").await.unwrap().unwrap(),
        secrets("EAA-2")
    );
}

#[tokio::test]
async fn malformed_json_is_malformed_and_the_error_shows_no_value() {
    let Some((store, client)) = store().await else {
        return;
    };
    for (bot, value) in [
        ("not-json", "EAA-leaky-token"),
        ("wrong-shape", r#"{"accessToken":"EAA-leaky-token"}"#),
    ] {
        client
            .create_secret()
            .name(format!("{}{bot}", prefix()))
            .secret_string(value)
            .send()
            .await
            .unwrap();
        let err = store.bot_secrets(bot).await.unwrap_err();
        assert!(matches!(err, SecretsError::Malformed(_)), "{err:?}");
        let shown = format!("{err} {err:?}");
        assert!(shown.contains(bot), "names the secret: {shown}");
        assert!(!shown.contains("leaky"), "never the value: {shown}");
    }
}

#[tokio::test]
async fn an_unreachable_service_is_unavailable() {
    let Some(services) = LocalServices::from_env("secrets_manager") else {
        return;
    };
    let config = aws_sdk_secretsmanager::config::Builder::from(&services.moto_config().await)
        // Port 9 (discard) on loopback: nothing listens there.
        .endpoint_url("http://127.0.0.1:9")
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    let store = SecretsManager::new(Client::from_conf(config), prefix());
    let err = store
        .put_bot_secrets("unreachable", &secrets("EAA-secret-token"))
        .await
        .unwrap_err();
    assert!(matches!(err, SecretsError::Unavailable(_)), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("EAA-secret-token"));
}

#[tokio::test]
async fn cached_secrets_over_secrets_manager_serve_from_the_cache() {
    let Some((store, client)) = store().await else {
        return;
    };
    let behind = SecretsManager::new(client, prefix());
    let cache = CachedSecrets::new(store, Duration::from_secs(300));
    cache
        .put_bot_secrets("cached", &secrets("EAA-1"))
        .await
        .unwrap();
    assert_eq!(
        *cache.bot_secrets("cached").await.unwrap().unwrap(),
        secrets("EAA-1")
    );

    // Rotated behind the cache's back: cached reads keep the old value until refreshed.
    behind
        .put_bot_secrets("cached", &secrets("EAA-2"))
        .await
        .unwrap();
    assert_eq!(
        *cache.bot_secrets("cached").await.unwrap().unwrap(),
        secrets("EAA-1")
    );
    assert_eq!(
        *cache.refresh_bot_secrets("cached").await.unwrap().unwrap(),
        secrets("EAA-2")
    );
    assert_eq!(
        *cache.bot_secrets("cached").await.unwrap().unwrap(),
        secrets("EAA-2")
    );

    // A deletion through the cache is seen at once.
    cache.delete_bot_secrets("cached").await.unwrap();
    assert!(cache.bot_secrets("cached").await.unwrap().is_none());
}

/// The connections API's admin token: a plain secret under `ADMIN_SECRET_ID`, cached for the
/// TTL, never cached while absent.
#[tokio::test]
async fn the_admin_token_is_read_cached_and_refreshed() {
    use intaj_shared::adapters::SecretsManagerAdminToken;
    use intaj_shared::ports::AdminToken;

    let Some(client) = client().await else {
        return;
    };
    let secret_id = format!("{}admin-token", prefix());
    let cached =
        SecretsManagerAdminToken::new(client.clone(), &secret_id, Duration::from_secs(300));
    let uncached = SecretsManagerAdminToken::new(client.clone(), &secret_id, Duration::ZERO);
    assert!(cached.admin_token().await.unwrap().is_none(), "absent");

    client
        .create_secret()
        .name(&secret_id)
        .secret_string("first-admin-token")
        .send()
        .await
        .unwrap();
    let token = cached
        .admin_token()
        .await
        .unwrap()
        .expect("created meanwhile");
    assert!(token.matches("first-admin-token"));

    client
        .put_secret_value()
        .secret_id(&secret_id)
        .secret_string("second-admin-token")
        .send()
        .await
        .unwrap();
    let still = cached.admin_token().await.unwrap().unwrap();
    assert!(still.matches("first-admin-token"), "within the TTL");
    let fresh = uncached.admin_token().await.unwrap().unwrap();
    assert!(fresh.matches("second-admin-token"));
}

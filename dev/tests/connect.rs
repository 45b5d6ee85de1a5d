//! `intaj-connect` adds a connection (creating DynamoDB Local's table) that the real webhook
//! handler, on DynamoDB Local and moto's Secrets Manager, then verifies and routes, with an API
//! key that authenticates.

use std::process::Command;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::config::Credentials;
use intaj_shared::adapters::{DynamoDbStore, SecretsManager};
use intaj_shared::domain::api_key_hash;
use intaj_shared::ports::{ApiKeyStore, ConnectionStore};
use intaj_webhook::{WebhookDeps, handle};
use lambda_http::Body;

/// DynamoDB Local and moto, as `scripts/test.sh` exports them.
fn services() -> Option<(String, String)> {
    let dynamodb = std::env::var("INTAJ_TEST_DYNAMODB_ENDPOINT").ok();
    let secrets = std::env::var("INTAJ_TEST_SECRETS_ENDPOINT").ok();
    match (dynamodb, secrets) {
        (Some(d), Some(s)) => Some((d, s)),
        _ if std::env::var("INTAJ_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") => {
            panic!("INTAJ_TEST_DYNAMODB_ENDPOINT / INTAJ_TEST_SECRETS_ENDPOINT unset")
        }
        _ => {
            eprintln!("connect: skipped; run ./scripts/test.sh to start DynamoDB Local and moto");
            None
        }
    }
}

async fn sdk_config() -> aws_config::SdkConfig {
    intaj_shared::http_clients::aws_defaults()
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "connect-test"))
        .load()
        .await
}

#[tokio::test]
async fn intaj_connect_adds_a_connection_the_functions_can_use() {
    let Some((dynamodb_endpoint, secrets_endpoint)) = services() else {
        return;
    };
    let run = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let table = format!("connect-{run}");
    let prefix = format!("intaj-connect-{run}/");
    let aws = sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&aws)
            .endpoint_url(&dynamodb_endpoint)
            .build(),
    );

    let output = Command::new(env!("CARGO_BIN_EXE_intaj-connect"))
        .env("TABLE_NAME", &table)
        .env("SECRET_PREFIX", &prefix)
        .env("AWS_ENDPOINT_URL_DYNAMODB", &dynamodb_endpoint)
        .env("AWS_ENDPOINT_URL_SECRETS_MANAGER", &secrets_endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("BOT_ID", "shop")
        .env("PHONE_NUMBER_ID", "100000000000042")
        .env("WABA_ID", "200000000000042")
        .env("ACCESS_TOKEN", "shop-access-token")
        .env("APP_SECRET", "shop-app-secret")
        .env("VERIFY_TOKEN", "shop-verify-token")
        .env_remove("API_KEY")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let api_key = stdout
        .lines()
        .find_map(|line| line.split("stored): ").nth(1))
        .expect("the generated API key is printed once")
        .trim()
        .to_owned();

    let store = Arc::new(DynamoDbStore::new(dynamodb, table));
    let secrets_manager = aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::config::Builder::from(&aws)
            .endpoint_url(&secrets_endpoint)
            .build(),
    );
    let secrets = Arc::new(SecretsManager::new(secrets_manager, prefix));
    let key = store.api_key(&api_key_hash(&api_key)).await.unwrap();
    assert_eq!(key.expect("the key's hash is stored").bot_id, "shop");
    let connection = store
        .connection_by_phone_number("100000000000042")
        .await
        .unwrap();
    assert_eq!(connection.expect("routable by phone number").bot_id, "shop");

    // Meta's verification handshake through the real webhook handler.
    let deps = WebhookDeps::new(store, secrets);
    let request = http::Request::builder()
        .uri("/webhook/whatsapp/shop?hub.mode=subscribe&hub.verify_token=shop-verify-token&hub.challenge=42")
        .body(Body::Empty)
        .unwrap();
    let response = handle(request, &deps).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.body().as_ref(), b"42");

    // Bad input: refused with the reason, exit status 2, nothing half-written.
    let refused = Command::new(env!("CARGO_BIN_EXE_intaj-connect"))
        .env("TABLE_NAME", "unused")
        .env_remove("BOT_ID")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("BOT_ID is required"));
}

//! The real `template-sync` binary under `cargo lambda watch`, backed by DynamoDB Local and moto
//! through the AWS SDK's endpoint variables and by the WhatsApp simulator through
//! `WHATSAPP_API_BASE`, invoked with the `events/` files: the route, the listing and the hourly
//! schedule.

use std::sync::Arc;

use intaj_dev::simulator::{self, SimulatedNumber, SimulatorConfig};
use intaj_shared::adapters::dynamodb::create_table_if_missing;
use intaj_shared::adapters::{DynamoDbStore, SecretsManager};
use intaj_shared::clock::unix_now;
use intaj_shared::connecting::{NewConnection, connect};
use intaj_shared::ports::Secret;
use intaj_tests::{LocalServices, WatchedFunction, local_function_env, unique};
use serde_json::Value;

const PHONE: &str = "100000000000001";
const WABA: &str = "200000000000001";

/// An API Gateway answer's JSON body.
fn body(answer: &Value) -> Value {
    serde_json::from_str(answer["body"].as_str().expect("a body")).expect("a JSON body")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_template_sync_binary_syncs_lists_and_runs_the_schedule_under_cargo_lambda() {
    let Some(services) = LocalServices::from_env("template_sync_lambda") else {
        return;
    };
    let simulator = simulator::start(
        SimulatorConfig::with_numbers([SimulatedNumber::new(
            PHONE,
            WABA,
            "dev-access-token",
            "dev-app-secret",
        )]),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let at_meta = simulator.handle().templates(WABA);
    assert!(
        !at_meta.is_empty(),
        "the simulator's business account starts with templates"
    );

    let table = unique("template-sync-e2e");
    let prefix = format!("{}/", unique("intaj-e2e"));
    let dynamodb = services.dynamodb().await;
    create_table_if_missing(&dynamodb, &table).await.unwrap();
    let store = Arc::new(DynamoDbStore::new(dynamodb, table.clone()));
    let secrets = SecretsManager::new(services.secrets_manager().await, prefix.clone());
    // The dev connection and API key the sample events are made for (SPEC §9).
    let demo = NewConnection {
        bot_id: "demo".into(),
        business_account_id: WABA.into(),
        phone_number_id: PHONE.into(),
        access_token: Secret::new("dev-access-token"),
        app_secret: Secret::new("dev-app-secret"),
        verify_token: Secret::new("dev-verify-token"),
        api_key: Secret::new("dev-api-key"),
        rate_limit_per_second: 80,
    };
    connect(store.as_ref(), &secrets, &demo, unix_now())
        .await
        .unwrap();

    let mut env = local_function_env(&services, &table, &prefix);
    env.push(format!("WHATSAPP_API_BASE={}", simulator.base_url()));
    let mut function = WatchedFunction::start("intaj-template-sync", "template-sync", &env);

    // POST /api/whatsapp/sync-templates: every template of the account, stored.
    let synced = function.first_answer("template-sync-now.json");
    assert_eq!(synced["statusCode"], 200, "{synced}");
    assert_eq!(body(&synced)["added"], at_meta.len(), "{synced}");

    // GET /api/whatsapp/templates reads them back from the table.
    let listed = function
        .answer("template-list.json")
        .expect("the listing answered");
    assert_eq!(listed["statusCode"], 200, "{listed}");
    let listing = body(&listed);
    let templates = listing["templates"].as_array().expect("a list");
    let approved_english = at_meta
        .iter()
        .filter(|t| t["status"] == "APPROVED" && t["language"] == "en")
        .count();
    assert_eq!(templates.len(), approved_english.min(20), "{listing}");
    assert!(
        templates
            .iter()
            .all(|t| t["status"] == "APPROVED" && t["language"] == "en")
    );

    // The hourly schedule: the one connection, synced again with nothing new.
    let report = function
        .answer("template-sync-schedule.json")
        .expect("the schedule answered");
    assert_eq!(report["connections"], 1, "{report}");
    assert_eq!(report["succeeded"], 1, "{report}");
}

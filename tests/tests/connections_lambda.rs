//! The real `connections` binary under `cargo lambda watch`, backed by DynamoDB Local and moto
//! (the bots' secrets and the admin token, under `ADMIN_SECRET_ID`) through the AWS SDK's
//! endpoint variables and by the WhatsApp simulator through `WHATSAPP_API_BASE`, invoked with the
//! `events/` files: read, list, change and delete the demo connection.

use intaj_shared::ports::ConnectionStore;
use intaj_tests::{DemoBot, LocalServices, WatchedFunction, answer_body, unique};

#[tokio::test(flavor = "multi_thread")]
async fn the_connections_binary_reads_changes_and_deletes_under_cargo_lambda() {
    let Some(services) = LocalServices::from_env("connections_lambda") else {
        return;
    };
    let mut demo = DemoBot::connect(&services, "connections-e2e").await;
    // The admin token the events carry, where the function reads it.
    let admin_secret = unique("intaj-admin");
    services
        .secrets_manager()
        .await
        .create_secret()
        .name(&admin_secret)
        .secret_string("dev-admin-token")
        .send()
        .await
        .unwrap();
    demo.env.push(format!("ADMIN_SECRET_ID={admin_secret}"));
    let mut function = WatchedFunction::start("intaj-connections", "connections", &demo.env);

    let read = function.first_answer("connections-get.json");
    assert_eq!(read["statusCode"], 200, "{read}");
    let connection = answer_body(&read);
    assert_eq!(connection["botId"], "demo");
    assert_eq!(connection["phoneNumberId"], demo.connection.phone_number_id);
    assert_eq!(
        connection["webhookUrl"],
        "https://abcdef1234.execute-api.us-east-1.amazonaws.com/webhook/whatsapp/demo"
    );
    assert!(connection.get("apiKey").is_none() && connection.get("accessToken").is_none());

    let listed = function
        .answer("connections-list.json")
        .expect("the list answered");
    assert_eq!(listed["statusCode"], 200, "{listed}");
    let bots: Vec<_> = answer_body(&listed)["connections"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| c["botId"].clone())
        .collect();
    assert_eq!(bots, ["demo"]);

    // The same bot again, its credentials checked with Meta (the simulator): a change, 200.
    let changed = function
        .answer("connections-create.json")
        .expect("the create answered");
    assert_eq!(changed["statusCode"], 200, "{changed}");
    assert_eq!(answer_body(&changed)["rateLimitPerSecond"], 20, "{changed}");

    let deleted = function
        .answer("connections-delete.json")
        .expect("the delete answered");
    assert_eq!(deleted["statusCode"], 200, "{deleted}");
    assert!(demo.store.connection("demo").await.unwrap().is_none());
    let gone = function
        .answer("connections-get.json")
        .expect("the read answered");
    assert_eq!(gone["statusCode"], 404, "{gone}");
}

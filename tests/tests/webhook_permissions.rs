//! The webhook function's table permissions in `template.yaml` are exactly the DynamoDB
//! operations its handler makes: every fixture, new and redelivered, through a cold function
//! on DynamoDB Local. The function that faces the internet can do nothing else to the table.

use std::collections::BTreeSet;

use intaj_tests::{
    CountedWebhook, LocalServices, access_of, allowed_table_access, fixture_body, workspace_root,
};

#[tokio::test]
async fn the_webhooks_table_permissions_are_exactly_the_operations_it_makes() {
    let Some(services) = LocalServices::from_env("webhook permissions") else {
        return;
    };
    // Cold: it reads the owner of the number and notes the bot's arrival too.
    let webhook = CountedWebhook::start_cold(&services).await;
    let mut fixtures: Vec<String> =
        std::fs::read_dir(workspace_root().join("shared/tests/fixtures/webhooks"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.ends_with(".json"))
            .collect();
    fixtures.sort();
    let mut bodies: Vec<(String, Vec<u8>)> = fixtures
        .iter()
        .map(|name| (name.clone(), fixture_body(name)))
        .collect();
    bodies.push(("a large unrouted change".into(), large_unrouted_change()));
    let mut made = BTreeSet::new();
    for round in ["new", "redelivered"] {
        for (name, body) in &bodies {
            webhook
                .post_body(&format!("{name} ({round})"), body.clone())
                .await;
            made.extend(webhook.requests.sent().iter().flat_map(access_of));
        }
    }
    assert_eq!(made, allowed_table_access("WebhookFunction"));
}

/// A change for a number no connection owns, kept as it came: over the 300 KB of one item, so
/// it is stored in parts.
fn large_unrouted_change() -> Vec<u8> {
    let text = "x".repeat(400 * 1024);
    format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"200000000000001","changes":[{{"field":"messages","value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"15550000009","phone_number_id":"999999999999999"}},"messages":[{{"from":"15550000000","id":"wamid.LARGE","timestamp":"1760000000","type":"text","text":{{"body":"{text}"}}}}]}}}}]}}]}}"#
    )
    .into_bytes()
}

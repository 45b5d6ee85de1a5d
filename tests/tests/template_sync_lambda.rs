//! The real `template-sync` binary under `cargo lambda watch`, backed by DynamoDB Local and moto
//! through the AWS SDK's endpoint variables and by the WhatsApp simulator through
//! `WHATSAPP_API_BASE`, invoked with the `events/` files: the route, the listing and the hourly
//! schedule.

use intaj_tests::{DemoBot, LocalServices, WatchedFunction, answer_body};

#[tokio::test(flavor = "multi_thread")]
async fn the_template_sync_binary_syncs_lists_and_runs_the_schedule_under_cargo_lambda() {
    let Some(services) = LocalServices::from_env("template_sync_lambda") else {
        return;
    };
    let demo = DemoBot::connect(&services, "template-sync-e2e").await;
    let at_meta = demo
        .simulator
        .handle()
        .templates(&demo.connection.business_account_id);
    assert!(
        !at_meta.is_empty(),
        "the simulator's business account starts with templates"
    );
    let mut function = WatchedFunction::start("intaj-template-sync", "template-sync", &demo.env);

    // POST /api/whatsapp/sync-templates: every template of the account, stored.
    let synced = function.first_answer("template-sync-now.json");
    assert_eq!(synced["statusCode"], 200, "{synced}");
    assert_eq!(answer_body(&synced)["added"], at_meta.len(), "{synced}");

    // GET /api/whatsapp/templates reads them back from the table.
    let listed = function
        .answer("template-list.json")
        .expect("the listing answered");
    assert_eq!(listed["statusCode"], 200, "{listed}");
    let listing = answer_body(&listed);
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

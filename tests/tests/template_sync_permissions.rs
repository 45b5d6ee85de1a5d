//! The template-sync function's table permissions in `template.yaml` are exactly the DynamoDB
//! operations it makes: the hourly schedule, a sync on request (new, changed, unchanged, a
//! template gone, Meta failing), the listing; on DynamoDB Local, with the WhatsApp simulator as
//! Meta, each invocation as Lambda delivers it (`events/`).

use intaj_dev::simulator::FaultConfig;
use intaj_template_sync::{TemplateSyncDeps, invoke};
use intaj_tests::{CountedTable, LocalServices, StackClient, sample_event};
use serde_json::Value;

const WABA: &str = "200000000000001";

/// The status of an HTTP answer (`statusCode`), with its body for a failure's message.
async fn status(deps: &TemplateSyncDeps, table: &mut CountedTable, name: &str) -> (u64, Value) {
    let answer = invoke(sample_event(name), deps).await.unwrap();
    table.collect();
    (
        answer["statusCode"].as_u64().unwrap(),
        answer["body"].clone(),
    )
}

#[tokio::test]
async fn the_template_sync_functions_table_permissions_are_exactly_the_operations_it_makes() {
    let Some(services) = LocalServices::from_env("template sync permissions") else {
        return;
    };
    let meta = StackClient::start_silent().await;
    let sim = meta.sim();
    let mut table =
        CountedTable::with_demo_connection(&services, "intaj-template-sync-permissions").await;
    let deps = TemplateSyncDeps::new(
        table.store.clone(),
        table.secrets.clone(),
        meta.impatient_graph(),
    );

    // The hourly schedule syncs every connection.
    let report = invoke(sample_event("template-sync-schedule.json"), &deps)
        .await
        .unwrap();
    table.collect();
    assert_eq!(report["succeeded"], 1, "{report}");
    // On request: unchanged, then more templates, then fewer.
    assert_eq!(
        status(&deps, &mut table, "template-sync-now.json").await.0,
        200
    );
    sim.generate_templates(WABA, 30);
    assert_eq!(
        status(&deps, &mut table, "template-sync-now.json").await.0,
        200
    );
    let mut fewer = sim.templates(WABA);
    fewer.truncate(10);
    sim.set_templates(WABA, fewer);
    assert_eq!(
        status(&deps, &mut table, "template-sync-now.json").await.0,
        200
    );
    // The listing.
    let (code, body) = status(&deps, &mut table, "template-list.json").await;
    assert_eq!(code, 200, "{body}");
    // Meta keeps failing: the sync gives up, and its lease is let go.
    sim.set_fault(FaultConfig {
        error_rate: 1.0,
        delay: std::time::Duration::ZERO,
    });
    let (code, body) = status(&deps, &mut table, "template-sync-now.json").await;
    assert!(code >= 500, "{code} {body}");

    table.assert_exactly_allowed_by("TemplateSyncFunction");
    meta.stack.shutdown().await;
}

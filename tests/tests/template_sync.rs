//! Template sync end to end: the sync against the WhatsApp simulator (every page, the counts, Meta's
//! failures), its writes counted on DynamoDB Local, the hourly schedule over several connections,
//! template webhooks changing what `/send` accepts, the listing, and the Lambda events.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use intaj_dev::simulator::{
    self, RunningSimulator, SimulatedNumber, SimulatorConfig, SimulatorHandle, TemplateStatusUpdate,
};
use intaj_shared::adapters::{MemorySecrets, MemoryStore};
use intaj_shared::connecting::{NewConnection, connect};
use intaj_shared::graph::{GraphClient, GraphConfig, RetryPolicy};
use intaj_shared::ports::{BotSecrets, Secret, SecretStore, Store};
use intaj_shared::template_sync::{SyncReport, sync_bot};
use intaj_template_sync::{ScheduleSettings, TemplateSyncDeps, invoke, sync_all};
use intaj_tests::{DynamoDbRequests, LocalServices, StackClient, sample_event};
use serde_json::{Value, json};

const NOW: i64 = 1_800_000_000;

/// One business account (and number) of the simulator, connected as `bot`.
struct Account {
    bot: &'static str,
    phone: &'static str,
    waba: &'static str,
    token: &'static str,
}

const SHOP: Account = Account {
    bot: "shop",
    phone: "100000000000011",
    waba: "200000000000011",
    token: "shop-token",
};

fn accounts() -> [Account; 4] {
    [
        SHOP,
        Account {
            bot: "bakery",
            phone: "100000000000012",
            waba: "200000000000012",
            token: "bakery-token",
        },
        Account {
            bot: "revoked",
            phone: "100000000000013",
            waba: "200000000000013",
            token: "revoked-token",
        },
        Account {
            bot: "slow",
            phone: "100000000000014",
            waba: "200000000000014",
            token: "slow-token",
        },
    ]
}

/// The simulator with every account, a store, and the template-sync function's dependencies.
struct Env {
    simulator: RunningSimulator,
    store: Arc<dyn Store>,
    deps: TemplateSyncDeps,
}

impl Env {
    async fn start(store: Arc<dyn Store>) -> Self {
        let numbers =
            accounts().map(|a| SimulatedNumber::new(a.phone, a.waba, a.token, "app-secret"));
        let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let simulator = simulator::start(SimulatorConfig::with_numbers(numbers), bind)
            .await
            .unwrap();
        let secrets: Arc<dyn SecretStore> = Arc::new(MemorySecrets::new());
        for account in accounts() {
            let new = NewConnection {
                bot_id: account.bot.into(),
                business_account_id: account.waba.into(),
                phone_number_id: account.phone.into(),
                access_token: Secret::new(account.token),
                app_secret: Secret::new("app-secret"),
                verify_token: Secret::new("verify"),
                api_key: Secret::new(format!("{}-key", account.bot)),
                rate_limit_per_second: 80,
            };
            connect(store.as_ref(), secrets.as_ref(), &new, NOW)
                .await
                .unwrap();
        }
        let config = GraphConfig {
            retry: RetryPolicy {
                max_attempts: 4,
                base_delay: Duration::from_millis(5),
                max_delay: Duration::from_millis(20),
                budget: Duration::from_secs(5),
            },
            ..GraphConfig::new(simulator.base_url(), "v25.0")
        };
        let graph = GraphClient::new(config).unwrap();
        let deps = TemplateSyncDeps::new(store.clone(), secrets, graph);
        Self {
            simulator,
            store,
            deps,
        }
    }

    fn sim(&self) -> &SimulatorHandle {
        self.simulator.handle()
    }

    async fn sync(&self, bot: &str, at: i64) -> SyncReport {
        sync_bot(self.deps.ports(), bot, at).await.unwrap()
    }
}

fn counts(report: &SyncReport) -> [usize; 5] {
    [
        report.fetched,
        report.added,
        report.updated,
        report.removed,
        report.unchanged,
    ]
}

/// A DynamoDB store on a table of its own, with its requests counted; `None` when DynamoDB Local
/// is not running (and not required).
async fn counted_dynamodb(test: &str) -> Option<(Arc<dyn Store>, DynamoDbRequests)> {
    let services = LocalServices::from_env(test)?;
    Some(intaj_tests::counted_store(&services, "intaj-template-sync").await)
}

#[tokio::test]
async fn a_sync_reads_every_page_and_counts_what_changed() {
    let env = Env::start(Arc::new(MemoryStore::new())).await;
    // More than two pages of the 500 the sync asks for; the last has cursors but no `next`.
    env.sim().generate_templates(SHOP.waba, 1_200);
    let first = env.sync(SHOP.bot, NOW).await;
    assert_eq!(counts(&first), [1_200, 1_200, 0, 0, 0]);
    assert_eq!(first.pages, 3);
    assert_eq!(first.template_limit, Some(250));
    let stored = env.store.templates(SHOP.bot).await.unwrap();
    assert_eq!(stored.templates.len(), 1_200);
    assert_eq!(stored.state.synced_at, Some(NOW));

    // One paused, one gone, one new: the rest unchanged.
    let mut set = env.sim().templates(SHOP.waba);
    let removed = set.remove(10);
    let added = json!({"name": "brand_new", "language": "en", "status": "APPROVED",
        "category": "UTILITY", "parameter_format": "POSITIONAL",
        "components": [{"type": "BODY", "text": "Hello {{1}}"}]});
    set.push(added);
    set[0]["status"] = json!("PAUSED");
    env.sim().set_templates(SHOP.waba, set);
    let second = env.sync(SHOP.bot, NOW + 60).await;
    assert_eq!(counts(&second), [1_200, 1, 1, 1, 1_198]);
    let gone = env
        .store
        .template(
            SHOP.bot,
            &intaj_shared::domain::TemplateKey::new(
                removed["name"].as_str().unwrap(),
                removed["language"].as_str().unwrap(),
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        gone, None,
        "a template gone from Meta is gone from the store"
    );

    let third = env.sync(SHOP.bot, NOW + 120).await;
    assert_eq!(counts(&third), [1_200, 0, 0, 0, 1_200]);
    assert_eq!(
        env.store
            .template_sync_state(SHOP.bot)
            .await
            .unwrap()
            .synced_at,
        Some(NOW + 120)
    );
}

#[tokio::test]
async fn an_unchanged_rerun_writes_no_template_item_on_dynamodb() {
    let Some((store, requests)) = counted_dynamodb("template sync writes").await else {
        return;
    };
    let env = Env::start(store).await;
    env.sim().generate_templates(SHOP.waba, 120);
    let template_item = |sk: &str| sk.starts_with("TEMPLATE#");
    let pointer = |sk: &str| sk == "TEMPLATES";

    requests.reset();
    assert_eq!(counts(&env.sync(SHOP.bot, NOW).await)[1], 120);
    // A new template: its pending value, then its fold; the lease and the commit on the pointer.
    assert_eq!(requests.items_written(template_item), 240);
    assert_eq!(requests.items_written(pointer), 2);

    requests.reset();
    assert_eq!(counts(&env.sync(SHOP.bot, NOW + 60).await)[4], 120);
    assert_eq!(
        requests.items_written(template_item),
        0,
        "{:?}",
        requests.sent()
    );
    assert_eq!(requests.items_written(pointer), 1, "only the sync time");
    assert_eq!(requests.write_requests(), 1);

    // One changed template costs O(1) writes, whatever the size of the set.
    let mut set = env.sim().templates(SHOP.waba);
    set[3]["status"] = json!("PAUSED");
    set.remove(7);
    env.sim().set_templates(SHOP.waba, set);
    requests.reset();
    let report = env.sync(SHOP.bot, NOW + 120).await;
    assert_eq!((report.updated, report.removed), (1, 1));
    assert_eq!(requests.items_written(template_item), 4);
    assert_eq!(requests.items_written(pointer), 2);
    let stored = env.store.templates(SHOP.bot).await.unwrap();
    assert_eq!(stored.templates.len(), 119);
}

#[tokio::test]
async fn concurrent_syncs_of_one_bot_leave_one_whole_result() {
    let Some((store, _)) = counted_dynamodb("concurrent template syncs").await else {
        return;
    };
    let env = Arc::new(Env::start(store).await);
    env.sim().generate_templates(SHOP.waba, 80);
    let racers: Vec<_> = (0..3)
        .map(|i| {
            let env = Arc::clone(&env);
            tokio::spawn(async move { env.sync(SHOP.bot, NOW + i).await })
        })
        .collect();
    let mut added = 0;
    for racer in racers {
        let report = racer.await.unwrap();
        assert_eq!(report.fetched, 80);
        assert_eq!(report.added + report.unchanged, 80, "{report:?}");
        added += report.added;
    }
    assert_eq!(added, 80, "exactly one of them added the set");
    let stored = env.store.templates(SHOP.bot).await.unwrap();
    let mut expected: Vec<String> = env
        .sim()
        .templates(SHOP.waba)
        .iter()
        .map(|t| format!("{}/{}", t["name"], t["language"]))
        .collect();
    expected.sort();
    let mut got: Vec<String> = stored
        .templates
        .iter()
        .map(|t| format!("\"{}\"/\"{}\"", t.name, t.language))
        .collect();
    got.sort();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn the_schedule_syncs_every_connection_despite_a_failing_and_a_slow_one() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let mut env = Env::start(store).await;
    env.deps.schedule = ScheduleSettings {
        concurrency: 2,
        per_connection_timeout: Duration::from_millis(500),
    };
    // Meta refuses one account's token (also after the re-read), and answers another slowly.
    env.deps
        .secrets
        .put_bot_secrets(
            "revoked",
            &BotSecrets {
                access_token: Secret::new("no-longer-valid"),
                app_secret: Secret::new("app-secret"),
                verify_token: Secret::new("verify"),
                responder_secret: None,
            },
        )
        .await
        .unwrap();
    env.sim()
        .set_slow_waba("200000000000014", Duration::from_secs(5));

    let report = sync_all(&env.deps, NOW).await.unwrap();
    assert_eq!(
        (report.connections, report.succeeded, report.failed),
        (4, 2, 2)
    );
    let mut failures: Vec<(&str, &str)> = report
        .failures
        .iter()
        .map(|f| (f.bot_id.as_str(), f.code))
        .collect();
    failures.sort();
    assert_eq!(
        failures,
        [("revoked", "invalid_access_token"), ("slow", "timeout")]
    );
    for bot in ["shop", "bakery"] {
        let state = env.store.template_sync_state(bot).await.unwrap();
        assert_eq!(state.synced_at, Some(NOW), "{bot} synced");
    }
    assert_eq!(
        env.store
            .template_sync_state("revoked")
            .await
            .unwrap()
            .synced_at,
        None
    );
}

#[tokio::test]
async fn meta_failures_are_retried_then_answered_as_the_send_path_does() {
    let env = Env::start(Arc::new(MemoryStore::new())).await;
    // Two 500s with code 131000 are retried away.
    env.sim().fail_next(2, 131000);
    assert_eq!(env.sync(SHOP.bot, NOW).await.added, 17);
    // Meta down for longer than the retries: 503 with Meta's error and a Retry-After.
    env.sim().fail_next(50, 131000);
    let error = sync_bot(env.deps.ports(), SHOP.bot, NOW).await.unwrap_err();
    assert_eq!(
        (error.status.as_u16(), error.code),
        (503, "upstream_unavailable")
    );
    assert_eq!(error.upstream.as_ref().unwrap().code, 131000);
    assert!(error.retry_after.is_some());
    env.sim().fail_next(0, 131000);
    // A token Meta refuses, also after re-reading it: 502 invalid_access_token.
    env.deps
        .secrets
        .put_bot_secrets(
            SHOP.bot,
            &BotSecrets {
                access_token: Secret::new("wrong"),
                app_secret: Secret::new("app-secret"),
                verify_token: Secret::new("verify"),
                responder_secret: None,
            },
        )
        .await
        .unwrap();
    let error = sync_bot(env.deps.ports(), SHOP.bot, NOW).await.unwrap_err();
    assert_eq!(
        (error.status.as_u16(), error.code),
        (502, "invalid_access_token")
    );
    assert_eq!(error.upstream.as_ref().unwrap().code, 190);
    // An unknown bot is a 404.
    let error = sync_bot(env.deps.ports(), "nobody", NOW).await.unwrap_err();
    assert_eq!((error.status.as_u16(), error.code), (404, "unknown_bot"));
}

#[tokio::test]
async fn the_lambda_events_reach_the_routes_and_the_schedule() {
    let env = Env::start(Arc::new(MemoryStore::new())).await;
    // The events are made for the demo bot and its key.
    connect(
        env.store.as_ref(),
        env.deps.secrets.as_ref(),
        &NewConnection {
            bot_id: "demo".into(),
            business_account_id: SHOP.waba.into(),
            phone_number_id: "100000000000019".into(),
            access_token: Secret::new(SHOP.token),
            app_secret: Secret::new("app-secret"),
            verify_token: Secret::new("verify"),
            api_key: Secret::new("dev-api-key"),
            rate_limit_per_second: 80,
        },
        NOW,
    )
    .await
    .unwrap();

    let answer = invoke(sample_event("template-sync-now.json"), &env.deps)
        .await
        .unwrap();
    assert_eq!(answer["statusCode"], 200, "{answer}");
    let report: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(report["added"], 17);
    assert!(answer["headers"]["x-ratelimit-limit"].is_string());

    let answer = invoke(sample_event("template-list.json"), &env.deps)
        .await
        .unwrap();
    assert_eq!(answer["statusCode"], 200, "{answer}");
    let listing: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    let templates = listing["templates"].as_array().unwrap();
    assert!(!templates.is_empty());
    assert!(
        templates
            .iter()
            .all(|t| t["status"] == "APPROVED" && t["language"] == "en")
    );

    let report = invoke(sample_event("template-sync-schedule.json"), &env.deps)
        .await
        .unwrap();
    assert_eq!(report["connections"], 5);
    assert_eq!(report["succeeded"], 5, "{report}");
}

// --- through the local stack -------------------------------------------------------------------

/// Meta changes the guide's template's status; its webhook reaches the stack once.
async fn set_reminder_status(s: &StackClient, waba: &str, update: TemplateStatusUpdate) {
    let outcome = s
        .sim()
        .set_template_status(waba, "appointment_reminder", "en", update)
        .await
        .unwrap();
    assert_eq!(outcome.delivered(), 1, "{:?}", outcome.webhooks);
}

fn guide_example(parameters: &[&str]) -> Value {
    let parameters: Vec<Value> = parameters
        .iter()
        .map(|text| json!({"type": "text", "text": text}))
        .collect();
    json!({"to": "15551234567", "template": {"name": "appointment_reminder", "language": "en",
        "components": [{"type": "body", "parameters": parameters}]}, "type": "template"})
}

#[tokio::test]
async fn the_integration_guides_template_example_works_after_the_stacks_sync() {
    let s = StackClient::start().await;
    // Synced at start: the listing has the demo set.
    let (status, listing) = s
        .call(
            "GET",
            "/api/whatsapp/templates?name=appointment",
            "dev-api-key",
            None,
        )
        .await;
    assert_eq!(status, 200, "{listing}");
    assert_eq!(listing["templates"][0]["name"], "appointment_reminder");
    assert!(listing["syncedAt"].is_i64());

    let (status, answer) = s.send(guide_example(&["John", "2:30 PM"])).await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = s.send(guide_example(&["John"])).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (422, Some("template_parameter_mismatch")),
        "{answer}"
    );
    assert_eq!(
        s.sim().outbox().len(),
        1,
        "the refused send never reached Meta"
    );
    s.stack.shutdown().await;
}

#[tokio::test]
async fn a_status_webhook_pauses_a_template_and_another_reinstates_it() {
    let s = StackClient::start().await;
    let waba = s.stack.settings.waba_id.clone();
    let pause = TemplateStatusUpdate::new("PAUSED")
        .with_other_info("FIRST_PAUSE", "Paused for 3 hours because of low quality.");
    set_reminder_status(&s, &waba, pause).await;

    let (status, answer) = s.send(guide_example(&["John", "2:30 PM"])).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (422, Some("template_paused")),
        "{answer}"
    );
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("low quality"),
        "{answer}"
    );
    assert!(s.sim().outbox().is_empty());
    let (_, listing) = s
        .call(
            "GET",
            "/api/whatsapp/templates?status=PAUSED",
            "dev-api-key",
            None,
        )
        .await;
    assert_eq!(listing["templates"][0]["name"], "appointment_reminder");

    set_reminder_status(&s, &waba, TemplateStatusUpdate::new("APPROVED")).await;
    let (status, answer) = s.send(guide_example(&["John", "2:30 PM"])).await;
    assert_eq!(status, 200, "{answer}");
    // Paused again: the same webhook value at a later time is a new event.
    set_reminder_status(&s, &waba, TemplateStatusUpdate::new("PAUSED")).await;
    let (status, _) = s.send(guide_example(&["John", "2:30 PM"])).await;
    assert_eq!(status, 422);
    s.stack.shutdown().await;
}

#[tokio::test]
async fn the_listing_filters_pages_and_shows_one_bot_only() {
    let s = StackClient::start().await;
    let waba = s.stack.settings.waba_id.clone();
    s.sim().generate_templates(&waba, 230);
    let (status, report) = s
        .call("POST", "/api/whatsapp/sync-templates", "dev-api-key", None)
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["fetched"], 230);
    for field in ["added", "updated", "removed", "unchanged", "syncedAt"] {
        assert!(report[field].is_number(), "{field} in {report}");
    }

    // Every page of the approved Spanish ones, 20 at a time.
    let mut seen = Vec::new();
    let mut path = "/api/whatsapp/templates?status=APPROVED&language=es&limit=20".to_owned();
    loop {
        let (status, page) = s.call("GET", &path, "dev-api-key", None).await;
        assert_eq!(status, 200, "{page}");
        let templates = page["templates"].as_array().unwrap();
        assert!(templates.len() <= 20);
        for t in templates {
            assert_eq!(
                (t["status"].as_str(), t["language"].as_str()),
                (Some("APPROVED"), Some("es"))
            );
            assert!(t["parameters"]["body"].is_object(), "{t}");
            seen.push(t["name"].as_str().unwrap().to_owned());
        }
        match page["nextCursor"].as_str() {
            Some(cursor) => {
                path = format!(
                    "/api/whatsapp/templates?status=APPROVED&language=es&limit=20&cursor={cursor}"
                )
            }
            None => break,
        }
    }
    let expected: Vec<String> = s
        .sim()
        .templates(&waba)
        .iter()
        .filter(|t| t["status"] == "APPROVED" && t["language"] == "es")
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen.len(), expected.len());
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "ordered by name");

    let (status, answer) = s
        .call(
            "GET",
            "/api/whatsapp/templates?limit=0",
            "dev-api-key",
            None,
        )
        .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (400, Some("invalid_limit"))
    );

    // Another bot's key sees its own templates only (none synced yet).
    let other = NewConnection {
        bot_id: "other".into(),
        business_account_id: "200000000000099".into(),
        phone_number_id: "100000000000099".into(),
        access_token: Secret::new("other-token"),
        app_secret: Secret::new("other-secret"),
        verify_token: Secret::new("other-verify"),
        api_key: Secret::new("other-key"),
        rate_limit_per_second: 80,
    };
    connect(
        s.stack.store.as_ref(),
        s.stack.secrets.as_ref(),
        &other,
        NOW,
    )
    .await
    .unwrap();
    let (status, listing) = s
        .call("GET", "/api/whatsapp/templates", "other-key", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(listing["templates"], json!([]));
    assert_eq!(listing["syncedAt"], Value::Null);
    let (status, _) = s
        .call("GET", "/api/whatsapp/templates", "not-a-key", None)
        .await;
    assert_eq!(status, 401);
    s.stack.shutdown().await;
}

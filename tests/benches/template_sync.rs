//! Template sync against the WhatsApp simulator, over real HTTP (loopback):
//!
//! 1. **one big account**: 5,000 templates, synced into the store: Meta page reads, wall time and
//!    DynamoDB writes (items and requests), for the first run and for an unchanged re-run.
//! 2. **the schedule**: 1,000 connections (each with the simulator's 17 demo templates), every
//!    template read answered 200 ms late as a slow Meta would, synced by `sync_all` with the
//!    function's default concurrency, first run and unchanged re-run: wall time against the
//!    function's 900 s timeout, and writes.
//!
//! The store is DynamoDB Local when `INTAJ_TEST_DYNAMODB_ENDPOINT` is set (what
//! `./scripts/test.sh` exports; writes are counted there), else memory.
//!
//! Run: `cargo bench -p intaj-tests --bench template_sync` (with DynamoDB Local running, e.g.
//! `INTAJ_TEST_DYNAMODB_ENDPOINT=http://127.0.0.1:8000`). Without `--bench` it runs a small
//! smoke version of the same phases.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use intaj_dev::simulator::{self, SimulatedNumber, SimulatorConfig};
use intaj_shared::adapters::dynamodb::create_table_if_missing;
use intaj_shared::adapters::{DynamoDbStore, MemorySecrets, MemoryStore};
use intaj_shared::connecting::{NewConnection, connect};
use intaj_shared::graph::{GraphClient, GraphConfig};
use intaj_shared::ports::{SecretStore, Store};
use intaj_shared::template_sync::sync_bot;
use intaj_template_sync::{TemplateSyncDeps, sync_all};
use intaj_tests::{DynamoDbRequests, LocalServices, unique};

struct Scale {
    templates: usize,
    connections: usize,
    meta_latency: Duration,
}

const FULL: Scale = Scale {
    templates: 5_000,
    connections: 1_000,
    meta_latency: Duration::from_millis(200),
};

const SMOKE: Scale = Scale {
    templates: 600,
    connections: 20,
    meta_latency: Duration::from_millis(20),
};

fn number(i: usize) -> SimulatedNumber {
    SimulatedNumber::new(
        format!("1{i:014}"),
        format!("2{i:014}"),
        format!("token-{i}"),
        "app-secret",
    )
}

async fn store(requests: &DynamoDbRequests) -> (Arc<dyn Store>, &'static str) {
    if std::env::var("INTAJ_TEST_DYNAMODB_ENDPOINT").is_err() {
        return (Arc::new(MemoryStore::new()), "memory");
    }
    let services = LocalServices::from_env("template sync bench").expect("endpoints");
    let client = requests.client(services.dynamodb_config().await);
    let table = unique("intaj-bench-templates");
    create_table_if_missing(&client, &table).await.unwrap();
    (
        Arc::new(DynamoDbStore::new(client, table)),
        "DynamoDB Local",
    )
}

async fn deps(
    store: Arc<dyn Store>,
    numbers: &[SimulatedNumber],
    base_url: &str,
) -> TemplateSyncDeps {
    let secrets: Arc<dyn SecretStore> = Arc::new(MemorySecrets::new());
    for (i, number) in numbers.iter().enumerate() {
        let new = NewConnection {
            bot_id: format!("bot-{i}"),
            business_account_id: number.waba_id.clone(),
            phone_number_id: number.phone_number_id.clone(),
            access_token: intaj_shared::ports::Secret::new(format!("token-{i}")),
            app_secret: intaj_shared::ports::Secret::new("app-secret"),
            verify_token: intaj_shared::ports::Secret::new("verify"),
            api_key: intaj_shared::ports::Secret::new(format!("key-{i}")),
            rate_limit_per_second: 80,
        };
        connect(store.as_ref(), secrets.as_ref(), &new, 0)
            .await
            .unwrap();
    }
    let graph = GraphClient::new(GraphConfig::new(base_url, "v25.0")).unwrap();
    TemplateSyncDeps::new(store, secrets, graph)
}

fn main() {
    let scale = if std::env::args().any(|arg| arg == "--bench") {
        &FULL
    } else {
        &SMOKE
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        big_account(scale).await;
        schedule(scale).await;
    });
}

async fn big_account(scale: &Scale) {
    let numbers = vec![number(0)];
    let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let sim = simulator::start(SimulatorConfig::with_numbers(numbers.clone()), bind)
        .await
        .unwrap();
    sim.handle()
        .generate_templates(&numbers[0].waba_id, scale.templates);
    let requests = DynamoDbRequests::default();
    let (store, kind) = store(&requests).await;
    let deps = deps(store, &numbers, sim.base_url()).await;
    println!(
        "\n## {} templates in one account, store: {kind}\n",
        scale.templates
    );
    println!("| run | pages read | wall time | template items written | write requests |");
    println!("|---|---:|---:|---:|---:|");
    for (run, at) in [("first", 1_000), ("unchanged re-run", 2_000)] {
        requests.reset();
        let started = Instant::now();
        let report = sync_bot(deps.ports(), "bot-0", at).await.unwrap();
        let elapsed = started.elapsed();
        assert_eq!(report.fetched, scale.templates);
        let items = requests.items_written(|sk| sk.starts_with("TEMPLATE#"));
        println!(
            "| {run} | {} | {:.2} s | {items} | {} |",
            report.pages,
            elapsed.as_secs_f64(),
            requests.write_requests()
        );
    }
    sim.shutdown().await;
}

async fn schedule(scale: &Scale) {
    let numbers: Vec<SimulatedNumber> = (0..scale.connections).map(number).collect();
    let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let sim = simulator::start(SimulatorConfig::with_numbers(numbers.clone()), bind)
        .await
        .unwrap();
    sim.handle().set_template_delay(scale.meta_latency);
    let requests = DynamoDbRequests::default();
    let (store, kind) = store(&requests).await;
    let deps = deps(store, &numbers, sim.base_url()).await;
    println!(
        "\n## The schedule over {} connections, Meta answering each page {} ms late, store: {kind}\n",
        scale.connections,
        scale.meta_latency.as_millis()
    );
    println!(
        "| run | connections | concurrency | succeeded | failed | wall time | template items written | write requests |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (run, at) in [("first", 1_000), ("unchanged re-run", 2_000)] {
        requests.reset();
        let started = Instant::now();
        let report = sync_all(&deps, at).await.unwrap();
        let elapsed = started.elapsed();
        assert_eq!(report.succeeded, scale.connections, "{report:?}");
        println!(
            "| {run} | {} | {} | {} | {} | {:.1} s | {} | {} |",
            report.connections,
            deps.schedule.concurrency,
            report.succeeded,
            report.failed,
            elapsed.as_secs_f64(),
            requests.items_written(|sk| sk.starts_with("TEMPLATE#")),
            requests.write_requests()
        );
    }
    sim.shutdown().await;
}

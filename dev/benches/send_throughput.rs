//! Send throughput of one process against the WhatsApp simulator, over real HTTP (loopback)
//! through the local stack:
//!
//! 1. **unlimited**: the simulator takes every message; N sends with C in flight give sends/s and
//!    latency percentiles; every answer must be 200 and the outbox must hold N distinct ids.
//! 2. **limited**: the simulator takes 80 msg/s (code 130429 beyond, its bucket holding one
//!    second's worth); 2,000 sends ride the Graph client's default retry policy. It reports the
//!    wall time against the 25 s ideal; a 503 (retries exhausted) is resent at once with the same
//!    `Idempotency-Key` until accepted, and the outbox must hold each message exactly once.
//!
//! Client, stack and simulator share this process and its cores, so sends/s is a floor for one
//! Lambda, not its capacity. Status webhooks are held back for an hour (the run is shut down long
//! before) because they would come back into the same stack and compete with the sends.
//!
//! Run: `cargo bench -p intaj-dev --bench send_throughput`. Without `--bench` (e.g.
//! `cargo test --benches`) it runs a small smoke version of the same checks.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use intaj_dev::simulator::{InboundMessage, SimulatorHandle};
use intaj_dev::stack::{self, RunningStack, StackSettings};
use intaj_shared::domain::{ApiKey, api_key_hash};
use intaj_shared::graph::RetryPolicy;
use serde_json::{Value, json};
use tokio::task::JoinSet;
use tracing::level_filters::LevelFilter;
use tracing::span;

const BENCH_KEY: &str = "bench-key";
const STATUS_DELAY: Duration = Duration::from_secs(3600);
/// A stuck phase fails the bench instead of hanging it.
const PHASE_TIMEOUT: Duration = Duration::from_secs(300);
/// Resends of one message after 503 before the bench gives up on it.
const MAX_RESENDS: u32 = 20;

struct Scale {
    customers: usize,
    unlimited_sends: usize,
    unlimited_concurrency: usize,
    limited_sends: usize,
    limited_rate: u32,
    limited_concurrency: &'static [usize],
}

const FULL: Scale = Scale {
    customers: 50,
    unlimited_sends: 5_000,
    unlimited_concurrency: 32,
    limited_sends: 2_000,
    limited_rate: 80,
    limited_concurrency: &[16, 80],
};

const SMOKE: Scale = Scale {
    customers: 5,
    unlimited_sends: 100,
    unlimited_concurrency: 8,
    limited_sends: 160,
    limited_rate: 80,
    limited_concurrency: &[16],
};

fn main() {
    let scale = if std::env::args().any(|arg| arg == "--bench") {
        &FULL
    } else {
        &SMOKE
    };
    tracing::subscriber::set_global_default(RetryCounter).expect("no other subscriber");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
        println!(
            "send_throughput: {cpus} CPU(s); bench client, stack and simulator in one process\n"
        );
        within_timeout(unlimited(scale)).await;
        println!();
        let policy = RetryPolicy::default();
        println!(
            "limited: {} sends at {} msg/s to {} customers; default RetryPolicy ({} attempts, \
             {} ms doubling to {} s, {} s budget); 503s resent at once",
            scale.limited_sends,
            scale.limited_rate,
            scale.customers,
            policy.max_attempts,
            policy.base_delay.as_millis(),
            policy.max_delay.as_secs(),
            policy.budget.as_secs(),
        );
        let ideal = scale.limited_sends as f64 / f64::from(scale.limited_rate);
        // The simulator's bucket starts full, so one second's worth goes out at once.
        let floor = ideal - 1.0;
        println!("ideal {ideal:.1} s ({floor:.1} s counting the simulator's initial burst)");
        println!(
            "{:>9} {:>8} {:>9} {:>13} {:>7} {:>6} {:>8} {:>8} {:>8} {:>8}  checks",
            "in flight",
            "wall",
            "vs ideal",
            "99% accepted",
            "retries",
            "503s",
            "p50",
            "p90",
            "p99",
            "max"
        );
        for &concurrency in scale.limited_concurrency {
            within_timeout(limited(scale, concurrency, ideal)).await;
        }
    });
}

async fn within_timeout(phase: impl Future<Output = ()>) {
    tokio::time::timeout(PHASE_TIMEOUT, phase)
        .await
        .unwrap_or_else(|_| panic!("a phase ran over {PHASE_TIMEOUT:?}"));
}

async fn unlimited(scale: &Scale) {
    let bench = Bench::start(scale, None).await;
    let client = bench.client();
    let customers = bench.customers.clone();
    let (n, concurrency) = (scale.unlimited_sends, scale.unlimited_concurrency);

    let cpu_before = cpu_time();
    let started = Instant::now();
    let answers = run_workers(n, concurrency, move |i| {
        let client = client.clone();
        let body = text(
            &customers[i % customers.len()],
            &format!("unlimited #{i:05}"),
        );
        async move {
            let sent = Instant::now();
            let (status, answer) = client.post(body, None).await;
            (status, answer, sent.elapsed())
        }
    })
    .await;
    let wall = started.elapsed();
    let cpu = cpu_time()
        .zip(cpu_before)
        .map(|(after, before)| after - before);

    let mut latencies = Vec::with_capacity(n);
    let mut ids = HashSet::with_capacity(n);
    for (status, answer, latency) in answers {
        assert_eq!(status, 200, "every unlimited send is accepted: {answer}");
        ids.insert(answer["messageId"].as_str().expect("messageId").to_owned());
        latencies.push(latency);
    }
    let outbox = bench.sim.outbox();
    let outbox_ids: HashSet<_> = outbox.iter().map(|m| m.id.clone()).collect();
    assert_eq!(outbox.len(), n, "the simulator got each send once");
    assert_eq!(outbox_ids.len(), n, "with distinct ids");
    assert_eq!(outbox_ids, ids, "the ids answered are the ids sent");

    let p = Percentiles::of(latencies);
    let cpu_per_send = cpu.map_or("n/a".to_owned(), |cpu| {
        format!("{:.0} µs", cpu.as_secs_f64() * 1e6 / n as f64)
    });
    let cpu_load = cpu.map_or("n/a".to_owned(), |cpu| {
        format!("{:.2}", cpu.as_secs_f64() / wall.as_secs_f64())
    });
    println!(
        "unlimited: {n} sends to {} customers, {concurrency} in flight, no Idempotency-Key",
        scale.customers
    );
    println!(
        "{:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9}",
        "sends/s", "wall", "p50", "p90", "p99", "max", "CPU/send", "CPU cores"
    );
    println!(
        "{:>9.0} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9}",
        n as f64 / wall.as_secs_f64(),
        secs(wall),
        ms(p.p50),
        ms(p.p90),
        ms(p.p99),
        ms(p.max),
        cpu_per_send,
        cpu_load,
    );
    println!("checks: {n} × 200, outbox {n} messages with {n} distinct ids, the ids answered");
    bench.shutdown().await;
}

/// One message of the limited phase, once accepted.
struct Delivered {
    message_id: String,
    /// First attempt to acceptance, resends included.
    latency: Duration,
    finished: Instant,
    resends: u32,
}

async fn limited(scale: &Scale, concurrency: usize, ideal: f64) {
    let bench = Bench::start(scale, Some(scale.limited_rate)).await;
    let client = bench.client();
    let customers = bench.customers.clone();
    let n = scale.limited_sends;
    GRAPH_RETRIES.store(0, Ordering::Relaxed);

    let started = Instant::now();
    let started_unix_ms = unix_ms();
    let delivered = run_workers(n, concurrency, move |i| {
        let client = client.clone();
        let body = text(&customers[i % customers.len()], &format!("limited #{i:05}"));
        let key = format!("bench-limited-{concurrency}-{i}");
        async move { deliver(&client, body, &key).await }
    })
    .await;
    let retries = GRAPH_RETRIES.load(Ordering::Relaxed);

    let wall = delivered
        .iter()
        .map(|d| d.finished.duration_since(started))
        .max()
        .unwrap_or_default();
    let resends: u32 = delivered.iter().map(|d| d.resends).sum();
    let ids: HashSet<_> = delivered.iter().map(|d| d.message_id.clone()).collect();

    // Exactly once: every sequence number is in the outbox, none twice, and nothing else.
    let outbox = bench.sim.outbox();
    let contents: Vec<&str> = outbox
        .iter()
        .map(|m| m.request["text"]["body"].as_str().expect("a text message"))
        .collect();
    let distinct: HashSet<&str> = contents.iter().copied().collect();
    let expected: Vec<String> = (0..n).map(|i| format!("limited #{i:05}")).collect();
    assert_eq!(contents.len(), n, "outbox holds {n} messages");
    assert_eq!(distinct.len(), n, "no message sent twice");
    assert!(
        expected.iter().all(|c| distinct.contains(c.as_str())),
        "no message lost"
    );
    let outbox_ids: HashSet<_> = outbox.iter().map(|m| m.id.clone()).collect();
    assert_eq!(
        ids, outbox_ids,
        "the ids answered are the ids in the outbox"
    );
    // When 99% were in: the gap to `wall` is the last stragglers' backoff, the bucket idle.
    let mut accepted_ms: Vec<u64> = outbox
        .iter()
        .map(|m| m.received_at_ms.saturating_sub(started_unix_ms))
        .collect();
    accepted_ms.sort_unstable();
    let p99_accepted = accepted_ms[(n * 99).div_ceil(100).clamp(1, n) - 1];

    let p = Percentiles::of(delivered.iter().map(|d| d.latency).collect());
    println!(
        "{:>9} {:>8} {:>+8.1}% {:>13} {:>7} {:>6} {:>8} {:>8} {:>8} {:>8}  {n} distinct in outbox",
        concurrency,
        secs(wall),
        (wall.as_secs_f64() / ideal - 1.0) * 100.0,
        secs(Duration::from_millis(p99_accepted)),
        retries,
        resends,
        ms(p.p50),
        ms(p.p90),
        ms(p.p99),
        ms(p.max),
    );
    bench.shutdown().await;
}

/// Sends until accepted: the handler retries inside its budget; a 503 means it gave up and the
/// same request (same key, same bytes) goes again.
async fn deliver(client: &Client, body: String, key: &str) -> Delivered {
    let started = Instant::now();
    let mut resends = 0;
    loop {
        let (status, answer) = client.post(body.clone(), Some(key)).await;
        match status {
            200 => {
                return Delivered {
                    message_id: answer["messageId"].as_str().expect("messageId").to_owned(),
                    latency: started.elapsed(),
                    finished: Instant::now(),
                    resends,
                };
            }
            503 if answer["error"]["code"] == "upstream_unavailable" && resends < MAX_RESENDS => {
                resends += 1;
            }
            _ => panic!("{key}: unexpected {status} after {resends} resend(s): {answer}"),
        }
    }
}

/// A fresh stack with the bench's API key and open windows for its customers.
struct Bench {
    stack: RunningStack,
    sim: SimulatorHandle,
    customers: Arc<Vec<String>>,
}

impl Bench {
    async fn start(scale: &Scale, throughput: Option<u32>) -> Self {
        let stack = stack::start(StackSettings::ephemeral())
            .await
            .expect("the local stack starts");
        let sim = stack
            .simulator
            .as_ref()
            .expect("the stack runs a simulator")
            .handle()
            .clone();
        sim.set_status_delay(STATUS_DELAY);
        sim.set_throughput(throughput);
        // The demo key's 80 requests/s would measure our rate limiter, not the send path.
        let key = ApiKey {
            bot_id: stack.settings.bot_id.clone(),
            rate_limit_per_second: 1_000_000,
            created_at: 0,
        };
        stack
            .store
            .put_api_key(&api_key_hash(BENCH_KEY), &key)
            .await
            .expect("bench key stored");
        let customers: Vec<String> = (0..scale.customers)
            .map(|i| format!("44770090{i:04}"))
            .collect();
        for customer in &customers {
            let outcome = sim
                .inbound(InboundMessage::text(customer, "hi"))
                .await
                .expect("inbound posted");
            assert_eq!(outcome.webhook_status, Some(200), "window of {customer}");
        }
        Self {
            stack,
            sim,
            customers: Arc::new(customers),
        }
    }

    fn client(&self) -> Client {
        let http = intaj_shared::http_clients::http_client_builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("http client");
        Client {
            http,
            url: Arc::from(format!("{}/api/whatsapp/send", self.stack.base_url)),
        }
    }

    async fn shutdown(self) {
        self.stack.shutdown().await;
    }
}

/// The bench's side: one keep-alive pool shared by every worker.
#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    url: Arc<str>,
}

impl Client {
    async fn post(&self, body: String, idempotency_key: Option<&str>) -> (u16, Value) {
        let mut request = self
            .http
            .post(&*self.url)
            .bearer_auth(BENCH_KEY)
            .header("content-type", "application/json")
            .body(body);
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        let response = request.send().await.expect("the stack answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON answer"))
    }
}

fn text(to: &str, content: &str) -> String {
    json!({"to": to, "type": "text", "content": content}).to_string()
}

/// Runs `job(0..count)` with `concurrency` workers, each taking the next index when done, so that
/// exactly `concurrency` requests are in flight until the end.
async fn run_workers<T, F, Fut>(count: usize, concurrency: usize, job: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = T> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let job = Arc::new(job);
    let mut workers = JoinSet::new();
    for _ in 0..concurrency.clamp(1, count.max(1)) {
        let (next, job) = (next.clone(), job.clone());
        workers.spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return done;
                }
                done.push(job(i).await);
            }
        });
    }
    let mut all = Vec::with_capacity(count);
    while let Some(done) = workers.join_next().await {
        all.extend(done.expect("a worker panicked"));
    }
    all
}

struct Percentiles {
    p50: Duration,
    p90: Duration,
    p99: Duration,
    max: Duration,
}

impl Percentiles {
    /// Nearest rank.
    fn of(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        let at = |p: f64| {
            let rank = (p * samples.len() as f64).ceil() as usize;
            samples
                .get(rank.clamp(1, samples.len().max(1)) - 1)
                .copied()
                .unwrap_or_default()
        };
        Self {
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            max: samples.last().copied().unwrap_or_default(),
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// CPU time of the whole process (user + system), from /proc; `None` off Linux.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the `(comm)`: state is field 3, utime 14 and stime 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux architecture.
    Some(Duration::from_millis(ticks * 10))
}

/// The Graph client's retries in the current phase: it logs one `warn` per retry.
static GRAPH_RETRIES: AtomicU64 = AtomicU64::new(0);

/// A subscriber that only counts those retries; every other callsite is disabled, so logging
/// costs the measured path nothing.
struct RetryCounter;

impl tracing::Subscriber for RetryCounter {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        metadata.is_event()
            && *metadata.level() == tracing::Level::WARN
            && metadata.target() == "intaj_shared::graph::retry"
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::WARN)
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, _: &tracing::Event<'_>) {
        GRAPH_RETRIES.fetch_add(1, Ordering::Relaxed);
    }

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}

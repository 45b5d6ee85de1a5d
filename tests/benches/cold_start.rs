//! Cold start: process start → first answered invocation of the three Lambda binaries, against
//! a hello-world `lambda_http` (`tests/examples/hello_lambda.rs`) in the same run, each started
//! the way Lambda starts it: a fresh process, the Lambda environment, and a Runtime API (here a
//! loopback one in this process) that hands it one API Gateway (payload 2.0) event.
//!
//! For every start it records **init** (spawn → the first `GET …/invocation/next`: everything
//! `main` does before serving, which is what Lambda bills as Init Duration) and **first answer**
//! (spawn → the response POST), and for `send` and `template-sync` when the Graph client's
//! warm-up request arrives. The binaries run in turn, in a rotating order, so that machine noise
//! falls on all of them alike; one discarded round first puts every binary in the page cache.
//!
//! The first invocations touch the AWS clients when DynamoDB Local and moto are running
//! (`INTAJ_TEST_DYNAMODB_ENDPOINT` / `INTAJ_TEST_SECRETS_ENDPOINT`, as `./scripts/test.sh`
//! exports them): the webhook's verification handshake (one Secrets Manager read), and `send`
//! and the template listing with an unknown API key (one DynamoDB read each). Without them each
//! function gets a request it answers without the network. The Graph warm-up goes to this
//! process's loopback server (plain HTTP), so init counts no DNS or TLS to graph.facebook.com.
//!
//! Build the binaries first, the functions on their own as they are deployed (built with
//! `intaj-tests` they would share its feature set, aws-config's SSO among it):
//!
//! ```sh
//! cargo build --release -p intaj-webhook --bin webhook -p intaj-send --bin send \
//!     -p intaj-template-sync --bin template-sync
//! cargo build --release -p intaj-tests --example hello_lambda
//! cargo bench -p intaj-tests --bench cold_start
//! ```
//!
//! The binaries are taken from `INTAJ_COLD_START_BIN_DIR`, else from the `release` folder this
//! bench was built into. `INTAJ_COLD_START_RUNS` sets the starts per binary (30 with `--bench`,
//! 2 without, as `cargo test --benches` runs it).

use std::fs::File;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use intaj_shared::adapters::SecretsManager;
use intaj_shared::adapters::dynamodb::create_table_if_missing;
use intaj_shared::ports::{BotSecrets, Secret, SecretStore};
use intaj_tests::{ChildGuard, LocalServices, unique, workspace_root};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// Longest a start may take before the bench gives up on it.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// What the loopback Runtime API (and Graph stand-in) saw of the process being measured.
enum Seen {
    Next(Instant),
    GraphWarmUp(Instant),
    Answer {
        at: Instant,
        request_id: String,
        body: Bytes,
    },
    Failed {
        what: &'static str,
        body: Bytes,
    },
}

/// The one invocation the process being measured gets.
struct Invocation {
    request_id: String,
    function_name: String,
    event: Bytes,
    handed_out: bool,
    seen: mpsc::UnboundedSender<Seen>,
}

#[derive(Clone, Default)]
struct RuntimeApi {
    current: Arc<Mutex<Option<Invocation>>>,
}

impl RuntimeApi {
    fn report(&self, seen: Seen) {
        if let Some(invocation) = self.current.lock().unwrap().as_ref() {
            let _ = invocation.seen.send(seen);
        }
    }
}

async fn next_invocation(State(api): State<RuntimeApi>) -> Response {
    let at = Instant::now();
    let first = api.current.lock().unwrap().as_mut().and_then(|invocation| {
        if invocation.handed_out {
            return None;
        }
        invocation.handed_out = true;
        let _ = invocation.seen.send(Seen::Next(at));
        Some((
            invocation.request_id.clone(),
            invocation.function_name.clone(),
            invocation.event.clone(),
        ))
    });
    let Some((request_id, function_name, event)) = first else {
        // The runtime asks again once it has answered: as in Lambda between invocations, no
        // answer comes (the process is killed meanwhile, which drops this request).
        return std::future::pending().await;
    };
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let headers = [
        ("lambda-runtime-aws-request-id", request_id),
        ("lambda-runtime-deadline-ms", (now_ms + 30_000).to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            format!("arn:aws:lambda:us-east-1:123456789012:function:{function_name}"),
        ),
        (
            "lambda-runtime-trace-id",
            "Root=1-6b056020-3b3d0dfd85fb44bf5b9dc8d9;Parent=53995c3f42cd8ad8;Sampled=0".into(),
        ),
        (header::CONTENT_TYPE.as_str(), "application/json".into()),
    ];
    (headers, event).into_response()
}

async fn invocation_response(
    State(api): State<RuntimeApi>,
    UrlPath(request_id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    let at = Instant::now();
    api.report(Seen::Answer {
        at,
        request_id,
        body,
    });
    StatusCode::ACCEPTED
}

async fn invocation_error(State(api): State<RuntimeApi>, body: Bytes) -> StatusCode {
    api.report(Seen::Failed {
        what: "invocation error",
        body,
    });
    StatusCode::ACCEPTED
}

async fn init_error(State(api): State<RuntimeApi>, body: Bytes) -> StatusCode {
    api.report(Seen::Failed {
        what: "init error",
        body,
    });
    StatusCode::ACCEPTED
}

async fn graph_warm_up(State(api): State<RuntimeApi>) -> StatusCode {
    api.report(Seen::GraphWarmUp(Instant::now()));
    StatusCode::OK
}

/// Serves the Runtime API routes the `lambda_runtime` client uses, and `/graph` for the Graph
/// client's warm-up; returns the address.
async fn serve(api: RuntimeApi) -> std::net::SocketAddr {
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(invocation_response),
        )
        .route(
            "/2018-06-01/runtime/invocation/{id}/error",
            post(invocation_error),
        )
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .route("/graph", any(graph_warm_up))
        .with_state(api);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback port");
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.expect("runtime API") });
    addr
}

/// One binary and the invocation it is measured with.
struct Target {
    name: &'static str,
    path: PathBuf,
    event: Bytes,
    request: String,
    expected_status: u64,
    warms_graph: bool,
}

/// One start of one binary.
struct Sample {
    init: Duration,
    answer: Duration,
    graph_warm_up: Option<Duration>,
    peak_rss_kib: Option<u64>,
}

fn event(name: &str) -> Value {
    let path = workspace_root().join("events").join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("sample event {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// The sample events that need DynamoDB or Secrets Manager, or (without the local services)
/// variants the functions answer without the network.
fn targets(bin_dir: &Path, with_services: bool) -> Vec<Target> {
    let mut webhook = event("webhook-verify.json");
    let mut send = event("send-text.json");
    let mut templates = event("template-list.json");
    let requests = if with_services {
        [
            "GET verification handshake (1 Secrets Manager read)",
            "POST /send, unknown API key (1 DynamoDB read)",
            "GET /templates, unknown API key (1 DynamoDB read)",
        ]
    } else {
        webhook["requestContext"]["http"]["method"] = json!("PUT");
        for event in [&mut send, &mut templates] {
            event["headers"]
                .as_object_mut()
                .unwrap()
                .remove("authorization");
        }
        [
            "PUT, refused before any read (no network)",
            "POST /send, no API key (no network)",
            "GET /templates, no API key (no network)",
        ]
    };
    let webhook_status = if with_services { 200 } else { 405 };
    let hello = event("template-list.json");
    let bytes = |event: &Value| Bytes::from(serde_json::to_vec(event).unwrap());
    let binary = |name: &str| {
        let path = bin_dir.join(name);
        assert!(
            path.is_file(),
            "{} is missing: build the binaries first (see the doc comment of \
             tests/benches/cold_start.rs), or set INTAJ_COLD_START_BIN_DIR",
            path.display()
        );
        path
    };
    vec![
        Target {
            name: "hello_lambda",
            path: binary("examples/hello_lambda"),
            event: bytes(&hello),
            request: "GET, answered 200 \"hello\"".into(),
            expected_status: 200,
            warms_graph: false,
        },
        Target {
            name: "webhook",
            path: binary("webhook"),
            event: bytes(&webhook),
            request: requests[0].into(),
            expected_status: webhook_status,
            warms_graph: false,
        },
        Target {
            name: "send",
            path: binary("send"),
            event: bytes(&send),
            request: requests[1].into(),
            expected_status: 401,
            warms_graph: true,
        },
        Target {
            name: "template-sync",
            path: binary("template-sync"),
            event: bytes(&templates),
            request: requests[2].into(),
            expected_status: 401,
            warms_graph: true,
        },
    ]
}

/// A table and the demo bot's secrets for the first invocations to read; the environment that
/// points the functions at them.
async fn prepare(services: &LocalServices) -> Vec<(String, String)> {
    let table = unique("intaj-cold-start");
    let prefix = format!("{}/", unique("intaj-cold-start"));
    create_table_if_missing(&services.dynamodb().await, &table)
        .await
        .expect("DynamoDB Local answers (INTAJ_TEST_DYNAMODB_ENDPOINT)");
    // The verify token of events/webhook-verify.json.
    let bot = BotSecrets {
        access_token: Secret::new("dev-access-token"),
        app_secret: Secret::new("dev-app-secret"),
        verify_token: Secret::new("dev-verify-token"),
        responder_secret: None,
    };
    SecretsManager::new(services.secrets_manager().await, prefix.clone())
        .put_bot_secrets("demo", &bot)
        .await
        .expect("moto answers (INTAJ_TEST_SECRETS_ENDPOINT)");
    vec![
        ("TABLE_NAME".into(), table),
        ("SECRET_PREFIX".into(), prefix),
        (
            "AWS_ENDPOINT_URL_DYNAMODB".into(),
            services.dynamodb.clone(),
        ),
        (
            "AWS_ENDPOINT_URL_SECRETS_MANAGER".into(),
            services.moto.clone(),
        ),
    ]
}

/// The variables Lambda documents for a function, with static test credentials (HOME is not
/// among them, so the SDK finds no profile files); `extra` adds the functions' own variables.
fn lambda_env(
    runtime_api: std::net::SocketAddr,
    extra: &[(String, String)],
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ("LANG", "en_US.UTF-8"),
        ("TZ", ":UTC"),
        ("LAMBDA_TASK_ROOT", "/var/task"),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_SESSION_TOKEN", "test"),
        ("LOG_LEVEL", "info"),
        ("TABLE_NAME", "intaj-cold-start"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect();
    env.push(("AWS_LAMBDA_RUNTIME_API".into(), runtime_api.to_string()));
    env.push((
        "WHATSAPP_API_BASE".into(),
        format!("http://{runtime_api}/graph"),
    ));
    env.extend(extra.iter().cloned());
    env
}

/// Starts `target` once and waits (event-driven, up to [`START_TIMEOUT`]) for its answer.
async fn start_once(
    api: &RuntimeApi,
    target: &Target,
    run: usize,
    env: &[(String, String)],
    logs: &Path,
) -> Sample {
    let (seen, mut events) = mpsc::unbounded_channel();
    let request_id = format!("cold-start-{run}-{}", target.name);
    *api.current.lock().unwrap() = Some(Invocation {
        request_id: request_id.clone(),
        function_name: target.name.into(),
        event: target.event.clone(),
        handed_out: false,
        seen,
    });
    // Its logs go to a file (Lambda's are a pipe to the log service), read back on failure.
    let log_path = logs.join(format!("{}.log", target.name));
    let log = File::create(&log_path).unwrap();
    let mut command = Command::new(&target.path);
    command
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("AWS_LAMBDA_FUNCTION_NAME", target.name)
        .env(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{}", target.name),
        )
        .env(
            "AWS_LAMBDA_LOG_STREAM_NAME",
            format!("2026/01/01/[$LATEST]{run:032}"),
        )
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        // Its own process group, which ChildGuard stops.
        .process_group(0);

    let started = Instant::now();
    let mut child = ChildGuard(command.spawn().expect("the binary starts"));
    let fail = |why: String| -> ! {
        let mut log = String::new();
        let _ = File::open(&log_path).and_then(|mut f| f.read_to_string(&mut log));
        panic!(
            "{} (start {run}): {why}\n--- its log ---\n{log}",
            target.name
        )
    };

    let deadline = tokio::time::Instant::now() + START_TIMEOUT;
    // Only to notice a process that exits instead of asking for work; the answer itself
    // arrives on the channel.
    let mut exit_check = tokio::time::interval(Duration::from_millis(20));
    let (mut init, mut graph_warm_up) = (None, None);
    let answer = loop {
        tokio::select! {
            seen = events.recv() => match seen.expect("the runtime API is up") {
                Seen::Next(at) => init = Some(at - started),
                Seen::GraphWarmUp(at) => graph_warm_up = Some(at - started),
                Seen::Answer { at, request_id: id, body } => {
                    if id != request_id {
                        fail(format!("answered {id}, not {request_id}"));
                    }
                    break (at - started, body);
                }
                Seen::Failed { what, body } => {
                    fail(format!("{what}: {}", String::from_utf8_lossy(&body)))
                }
            },
            _ = exit_check.tick() => {
                if let Some(status) = child.0.try_wait().unwrap() {
                    fail(format!("exited ({status}) before answering"));
                }
            }
            _ = tokio::time::sleep_until(deadline) => {
                fail(format!("no answer within {START_TIMEOUT:?}"))
            }
        }
    };
    let peak_rss_kib = peak_rss_kib(child.0.id());
    drop(child);
    *api.current.lock().unwrap() = None;

    let (answer, body) = answer;
    let response: Value =
        serde_json::from_slice(&body).unwrap_or_else(|e| fail(format!("answer is not JSON ({e})")));
    if response["statusCode"].as_u64() != Some(target.expected_status) {
        fail(format!(
            "answered {response}, expected status {}",
            target.expected_status
        ));
    }
    if target.warms_graph && graph_warm_up.is_none() {
        fail("answered without warming up the Graph client during init".into());
    }
    Sample {
        init: init.unwrap_or_else(|| fail("answered without asking for work".into())),
        answer,
        graph_warm_up,
        peak_rss_kib,
    }
}

/// The high-water mark of resident memory (Linux), read before the process is killed.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Nearest-rank percentile.
fn percentile<T: Copy + Ord>(values: &[T], p: f64) -> T {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn report(targets: &[Target], samples: &[Vec<Sample>]) {
    let stat = |samples: &[Sample], f: fn(&Sample) -> Duration, p: f64| {
        percentile(&samples.iter().map(f).collect::<Vec<_>>(), p)
    };
    let init = |s: &Sample| s.init;
    let answer = |s: &Sample| s.answer;
    let hello_init = stat(&samples[0], init, 50.0);
    let hello_answer = stat(&samples[0], answer, 50.0);
    println!(
        "\n| binary | size (bytes) | init p50 ms | init p90 ms | first answer p50 ms | first answer p90 ms | Graph warm-up sent p50 ms | peak RSS p50 KiB | init ÷ hello (p50) | first answer ÷ hello (p50) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (target, samples) in targets.iter().zip(samples) {
        let warm_ups: Vec<Duration> = samples.iter().filter_map(|s| s.graph_warm_up).collect();
        let rss: Vec<u64> = samples.iter().filter_map(|s| s.peak_rss_kib).collect();
        let size = std::fs::metadata(&target.path)
            .map(|m| m.len())
            .unwrap_or(0);
        println!(
            "| {} | {size} | {} | {} | {} | {} | {} | {} | {:.2} | {:.2} |",
            target.name,
            ms(stat(samples, init, 50.0)),
            ms(stat(samples, init, 90.0)),
            ms(stat(samples, answer, 50.0)),
            ms(stat(samples, answer, 90.0)),
            if warm_ups.is_empty() {
                "—".into()
            } else {
                ms(percentile(&warm_ups, 50.0))
            },
            if rss.is_empty() {
                "—".into()
            } else {
                percentile(&rss, 50.0).to_string()
            },
            stat(samples, init, 50.0).as_secs_f64() / hello_init.as_secs_f64(),
            stat(samples, answer, 50.0).as_secs_f64() / hello_answer.as_secs_f64(),
        );
    }
}

#[tokio::main]
async fn main() {
    let full = std::env::args().any(|arg| arg == "--bench");
    let runs: usize = std::env::var("INTAJ_COLD_START_RUNS")
        .ok()
        .map(|n| n.parse().expect("INTAJ_COLD_START_RUNS is a number"))
        .unwrap_or(if full { 30 } else { 2 });
    // This bench runs from <target>/release/deps/, beside the binaries it measures.
    let bin_dir = std::env::var_os("INTAJ_COLD_START_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().unwrap();
            exe.parent().and_then(Path::parent).unwrap().to_path_buf()
        });

    let services = LocalServices::from_env("cold start (requests that read from DynamoDB/moto)");
    let targets = targets(&bin_dir, services.is_some());
    let extra_env = match &services {
        Some(services) => prepare(services).await,
        None => Vec::new(),
    };
    let api = RuntimeApi::default();
    let addr = serve(api.clone()).await;
    let env = lambda_env(addr, &extra_env);
    let logs = std::env::temp_dir().join(unique("intaj-cold-start-logs"));
    std::fs::create_dir_all(&logs).unwrap();

    println!(
        "cold start: {runs} starts per binary from {}, {}",
        bin_dir.display(),
        match &services {
            Some(s) => format!("DynamoDB Local {} and moto {}", s.dynamodb, s.moto),
            None => "no local services".into(),
        }
    );
    for target in &targets {
        println!("  {}: {}", target.name, target.request);
    }

    // Round 0 only warms the page cache; every later round starts the binaries in a different
    // order so that none always follows the same neighbour.
    let mut samples: Vec<Vec<Sample>> = targets.iter().map(|_| Vec::new()).collect();
    for round in 0..=runs {
        for i in 0..targets.len() {
            let which = (i + round) % targets.len();
            let sample = start_once(&api, &targets[which], round, &env, &logs).await;
            if round > 0 {
                samples[which].push(sample);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&logs);
    report(&targets, &samples);
}

//! A function's real binary under `cargo lambda watch`, invoked with the `events/` files as
//! `cargo lambda invoke` sends them: the Lambda runtime, the function's `main` and its wiring,
//! on the local services.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use intaj_dev::simulator::{self, RunningSimulator, SimulatedNumber, SimulatorConfig};
use intaj_shared::adapters::dynamodb::create_table_if_missing;
use intaj_shared::adapters::{DynamoDbStore, SecretsManager};
use intaj_shared::clock::unix_now;
use intaj_shared::connecting::{NewConnection, connect};
use intaj_shared::domain::{CustomerIds, InboundMessage};
use intaj_shared::ports::ConversationStore;
use serde_json::Value;

use crate::{
    ChildGuard, LocalServices, demo_connection, free_port, poll_until, unique, workspace_root,
};

/// The dev connection the sample events are made for (SPEC §9: bot `demo`, key `dev-api-key`),
/// on a table and secret prefix of its own, its number served by an in-process simulator.
pub struct DemoBot {
    pub connection: NewConnection,
    /// The function's table, to read what it stored.
    pub store: Arc<DynamoDbStore>,
    /// The function's secrets, under its prefix.
    pub secrets: SecretsManager,
    pub simulator: RunningSimulator,
    /// The function's environment: its table and secret prefix, the AWS SDK pointed at
    /// DynamoDB Local and moto with test credentials, the simulator as Meta.
    pub env: Vec<String>,
}

impl DemoBot {
    /// Connected as `POST /api/whatsapp/connections` would, without asking Meta.
    pub async fn connect(services: &LocalServices, name: &str) -> Self {
        let demo = demo_connection();
        let simulator = simulator::start(
            SimulatorConfig::with_numbers([SimulatedNumber::new(
                &demo.phone_number_id,
                &demo.business_account_id,
                demo.access_token.expose(),
                demo.app_secret.expose(),
            )]),
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .expect("the simulator starts");
        let table = unique(name);
        let prefix = format!("{}/", unique("intaj-e2e"));
        let dynamodb = services.dynamodb().await;
        create_table_if_missing(&dynamodb, &table).await.unwrap();
        let store = Arc::new(DynamoDbStore::new(dynamodb, table.clone()));
        let secrets = SecretsManager::new(services.secrets_manager().await, prefix.clone());
        connect(store.as_ref(), &secrets, &demo, unix_now())
            .await
            .unwrap();
        let env = vec![
            format!("TABLE_NAME={table}"),
            format!("SECRET_PREFIX={prefix}"),
            format!("AWS_ENDPOINT_URL_DYNAMODB={}", services.dynamodb),
            format!("AWS_ENDPOINT_URL_SECRETS_MANAGER={}", services.moto),
            format!("AWS_ENDPOINT_URL_S3={}", services.moto),
            format!("AWS_ENDPOINT_URL_SQS={}", services.moto),
            format!("WHATSAPP_API_BASE={}", simulator.base_url()),
            "AWS_ACCESS_KEY_ID=test".into(),
            "AWS_SECRET_ACCESS_KEY=test".into(),
            "AWS_REGION=us-east-1".into(),
            "LOG_LEVEL=info".into(),
            // The tests' bot backends and events URLs listen on 127.0.0.1.
            "ALLOW_PRIVATE_BUSINESS_URLS=true".into(),
        ];
        Self {
            connection: demo,
            store,
            secrets,
            simulator,
            env,
        }
    }

    /// `customer` writes to the bot now, recorded as the webhook records it: the customer's
    /// window opens.
    pub async fn customer_writes(&self, customer: &str) {
        let message = InboundMessage {
            message_id: unique("wamid.IN"),
            customer: CustomerIds::new(Some(customer), None),
            phone_number_id: self.connection.phone_number_id.clone(),
            kind: "text".into(),
            timestamp: unix_now(),
            profile_name: None,
            content: r#"{"type":"text","text":{"body":"Hello!"}}"#.into(),
        };
        self.store
            .record_customer_message(&self.connection.bot_id, message)
            .await
            .expect("the customer's message is recorded");
    }
}

/// An API Gateway answer's JSON body.
pub fn answer_body(answer: &Value) -> Value {
    serde_json::from_str(answer["body"].as_str().expect("a body")).expect("a JSON body")
}

/// How long one invocation may take, the first one's build of the function included; a hung
/// invoke (e.g. behind another cargo's lock) fails the test instead of holding CI.
const INVOKE_DEADLINE_SECONDS: &str = "600";
/// The first answer waits for cargo-lambda to build the function.
const FIRST_ANSWER_DEADLINE: Duration = Duration::from_secs(600);

/// How often a waiting invoke looks whether the function's process has ended.
const ENDED_CHECK_EVERY: Duration = Duration::from_millis(100);
/// The watcher's last lines kept, to show why a function ended.
const LAST_LINES: usize = 20;

/// One function served by `cargo lambda watch` on a port of its own, stopped when dropped.
pub struct WatchedFunction {
    binary: &'static str,
    port: u16,
    watch: ChildGuard,
    output: Arc<Mutex<WatcherOutput>>,
}

/// What the watcher and the function printed last, and whether the function's process ended
/// (a configuration error, a failed build, a crash): an invoke would then never answer.
#[derive(Default)]
struct WatcherOutput {
    last: VecDeque<String>,
    ended: bool,
}

impl WatchedFunction {
    /// Starts `cargo lambda watch` for `binary` of `package`, with `env` (`NAME=value`) as the
    /// function's environment. `INTAJ_E2E_RELEASE=1` builds it with `--release`
    /// (BENCHMARKS.md measures the optimised binary).
    pub fn start(package: &str, binary: &'static str, env: &[String]) -> Self {
        // Without it the first invoke would be retried until its deadline.
        let installed = Command::new("cargo")
            .args(["lambda", "--version"])
            .output()
            .is_ok_and(|output| output.status.success());
        assert!(
            installed,
            "cargo lambda is not on PATH: ./scripts/test.sh installs it (pip install cargo-lambda)"
        );
        let port = free_port();
        // cargo-lambda builds with its own flags: a target dir of its own keeps it from
        // invalidating the workspace build (and vice versa).
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("target"))
            .join("cargo-lambda");
        let mut watch = Command::new("cargo");
        watch
            .env("CARGO_TARGET_DIR", target)
            .args(["lambda", "watch", "--ignore-changes", "--invoke-port"])
            .arg(port.to_string())
            .args(["--package", package, "--bin", binary])
            .current_dir(workspace_root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        if std::env::var("INTAJ_E2E_RELEASE").as_deref() == Ok("1") {
            watch.arg("--release");
        }
        for pair in env {
            watch.args(["--env-var", pair]);
        }
        let mut watch = ChildGuard(watch.spawn().expect("cargo lambda watch starts"));
        // cargo-lambda logs to stdout (kept only, as before); cargo and the function write to
        // stderr (passed on as well).
        let output = Arc::default();
        let stdout = watch
            .0
            .stdout
            .take()
            .expect("the watcher's stdout is piped");
        let stderr = watch
            .0
            .stderr
            .take()
            .expect("the watcher's stderr is piped");
        for (stream, shown) in [
            (Box::new(stdout) as Box<dyn Read + Send>, false),
            (Box::new(stderr), true),
        ] {
            let output = Arc::clone(&output);
            std::thread::spawn(move || keep_lines(stream, shown, &output));
        }
        Self {
            binary,
            port,
            watch,
            output,
        }
    }

    /// `cargo lambda invoke` with the event file at `path`, as it ended. Panics with the
    /// function's last lines if its process ends meanwhile.
    fn invoke(&self, path: &Path) -> Output {
        let invoke = Command::new("timeout")
            .args([
                INVOKE_DEADLINE_SECONDS,
                "cargo",
                "lambda",
                "invoke",
                self.binary,
            ])
            .args(["--invoke-port", &self.port.to_string()])
            .args(["--output-format", "json", "--data-file"])
            .arg(path)
            .current_dir(workspace_root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect(
                "coreutils' timeout and cargo lambda are installed (scripts/test.sh installs it)",
            );
        let pid = invoke.id();
        let (answered, answer) = mpsc::channel();
        std::thread::spawn(move || answered.send(invoke.wait_with_output()));
        loop {
            match answer.recv_timeout(ENDED_CHECK_EVERY) {
                Ok(output) => return output.expect("cargo lambda invoke ran"),
                Err(RecvTimeoutError::Disconnected) => panic!("the invoke's waiter went away"),
                Err(RecvTimeoutError::Timeout) => {}
            }
            // Read, then released before the panic: the readers keep the lock usable.
            let ended = {
                let output = self.output.lock().unwrap();
                output
                    .ended
                    .then(|| Vec::from(output.last.clone()).join("\n"))
            };
            if let Some(last_lines) = ended {
                if let Ok(pid) = libc::pid_t::try_from(pid) {
                    // SAFETY: only sends a signal; `timeout` passes it on to the invoke.
                    unsafe { libc::kill(pid, libc::SIGTERM) };
                }
                panic!(
                    "{} ended under cargo lambda; its last lines:\n{last_lines}",
                    self.binary
                );
            }
        }
    }

    /// The function's answer to `events/<event>`, if the invoke succeeded.
    pub fn answer(&self, event: &str) -> Option<Value> {
        Self::answered(self.invoke(&workspace_root().join("events").join(event)))
    }

    /// The function's answer to `event`, e.g. a sample event changed to name what the test made.
    pub fn answer_to(&self, event: &Value) -> Option<Value> {
        let path = std::env::temp_dir().join(format!("{}.json", unique("intaj-event")));
        std::fs::write(&path, event.to_string()).expect("the event is written to a temp file");
        let output = self.invoke(&path);
        let _ = std::fs::remove_file(&path);
        Self::answered(output)
    }

    fn answered(output: Output) -> Option<Value> {
        output
            .status
            .success()
            .then(|| serde_json::from_slice(&output.stdout).ok())
            .flatten()
    }

    /// The first answer, once the function is built and serving: polled while the watcher runs.
    pub fn first_answer(&mut self, event: &str) -> Value {
        let what = format!("{} under cargo lambda", self.binary);
        poll_until(&what, FIRST_ANSWER_DEADLINE, || {
            if let Ok(Some(status)) = self.watch.0.try_wait() {
                panic!("cargo lambda watch ended ({status}); its output is above");
            }
            self.answer(event)
        })
    }
}

/// One of the watcher's streams, its last lines kept in `output`; `shown` also passes each
/// line on to stderr as it comes (as if inherited).
fn keep_lines(stream: Box<dyn Read + Send>, shown: bool, output: &Mutex<WatcherOutput>) {
    for line in BufReader::new(stream).lines().map_while(Result::ok) {
        if shown {
            let _ = writeln!(std::io::stderr(), "{line}");
        }
        let mut output = output.lock().unwrap();
        if output.last.len() == LAST_LINES {
            output.last.pop_front();
        }
        // cargo-lambda's words when the function's process ends: `command exited code=2`.
        output.ended |= line.contains("command exited");
        output.last.push_back(line);
    }
}

//! A 100 MiB document through the media function both ways, with the function's memory
//! measured: a customer's file copied from Meta (the simulator) into S3 (moto), and a business's
//! upload streamed from S3 to Meta. The function must stream: its peak heap stays under 128 MiB
//! (a Lambda's smallest useful size) while a whole file would take 100.
//!
//! Its own `main` (no test harness): the simulator runs in a child process (this binary again,
//! with `INTAJ_STREAM_ROLE=simulator`), so that its copy of the file is not counted. Needs the
//! local services `scripts/test.sh` starts (skipped without them, unless
//! `INTAJ_TEST_REQUIRE_SERVICES=1`).
//! Prints the figures BENCHMARKS.md keeps:
//! `cargo test -p intaj-tests --test media_streaming`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use bytes::Bytes;
use intaj_dev::simulator::{SimulatedNumber, SimulatorConfig};
use intaj_media::{MediaDeps, handle};
use intaj_shared::adapters::{MemorySecrets, MemoryStore, S3MediaStore};
use intaj_shared::domain::{ApiKey, Connection, CustomerIds, InboundMessage, api_key_hash};
use intaj_shared::graph::{GraphClient, GraphConfig};
use intaj_shared::ports::{
    ApiKeyStore, BotSecrets, ConnectionStore, MessageStore, Secret, SecretStore,
};
use lambda_http::Body;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const FILE_SIZE: usize = 100 * 1024 * 1024;
const MEMORY_LIMIT: usize = 128 * 1024 * 1024;
const PHONE_NUMBER_ID: &str = "100000000000001";
const ACCESS_TOKEN: &str = "stream-access-token";
const KEY: &str = "stream-api-key";
const CHUNK: usize = 64 * 1024;

/// Counts live heap bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: every call goes to `System` unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            grew(layout.size());
        }
        pointer
    }
    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The `i`-th 64 KiB chunk of the test document (a PDF header, then a pattern no part repeats).
fn chunk(i: usize) -> Bytes {
    let start = i * CHUNK;
    let end = (start + CHUNK).min(FILE_SIZE);
    let mut bytes: Vec<u8> = (start..end)
        .map(|n| (n as u32).wrapping_mul(2_654_435_761).rotate_right(13) as u8)
        .collect();
    if i == 0 {
        bytes[..9].copy_from_slice(b"%PDF-1.7\n");
    }
    Bytes::from(bytes)
}

fn chunks() -> impl Iterator<Item = Bytes> {
    (0..FILE_SIZE.div_ceil(CHUNK)).map(chunk)
}

fn sha256_of_file() -> String {
    let mut hasher = Sha256::new();
    chunks().for_each(|chunk| hasher.update(&chunk));
    hex::encode(hasher.finalize())
}

/// The peak resident set since the last reset, when Linux tells it.
fn resident_peak() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn reset_peaks() {
    PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
    // "5" resets VmHWM to the current resident set (Linux ≥ 4.0); without it the figure is a
    // whole-process bound.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

struct Measured {
    what: &'static str,
    seconds: f64,
    heap_peak: usize,
    resident_peak: Option<usize>,
}

/// Runs `work` with the peaks reset, and notes its time and peaks under `what`.
async fn measure<T>(
    measured: &mut Vec<Measured>,
    what: &'static str,
    work: impl std::future::Future<Output = T>,
) -> T {
    reset_peaks();
    let started = Instant::now();
    let output = work.await;
    measured.push(Measured {
        what,
        seconds: started.elapsed().as_secs_f64(),
        heap_peak: PEAK.load(Ordering::Relaxed),
        resident_peak: resident_peak(),
    });
    output
}

fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// The child: a simulator keeping the 100 MiB document a customer sends, until stdin closes.
async fn run_simulator() {
    let number = SimulatedNumber::new(PHONE_NUMBER_ID, "200000000000001", ACCESS_TOKEN, "secret");
    let running = intaj_dev::simulator::start(
        SimulatorConfig::with_numbers([number]),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let file: Vec<u8> = chunks().flat_map(|chunk| chunk.to_vec()).collect();
    let media_id = running
        .handle()
        .add_media(PHONE_NUMBER_ID, "application/pdf", file);
    println!("{}", running.base_url());
    println!("{media_id}");
    let _ = tokio::task::spawn_blocking(|| std::io::stdin().read_line(&mut String::new())).await;
}

async fn call(deps: &MediaDeps, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {KEY}"))
        .header("content-type", "application/json")
        .body(body.map_or(Body::Empty, |body| Body::from(body.to_string())))
        .unwrap();
    let response = handle(request, deps).await;
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null),
    )
}

#[tokio::main]
async fn main() {
    if std::env::var("INTAJ_STREAM_ROLE").as_deref() == Ok("simulator") {
        return run_simulator().await;
    }
    let Some(services) = intaj_tests::LocalServices::from_env("media_streaming") else {
        return;
    };

    let mut child = Command::new(std::env::current_exe().unwrap())
        .env("INTAJ_STREAM_ROLE", "simulator")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let sim_url = lines.next().unwrap().unwrap();
    let inbound_media_id = lines.next().unwrap().unwrap();
    let expected_sha256 = sha256_of_file();

    let s3 = intaj_shared::bootstrap::s3_client(&services.moto_config().await, true);
    let bucket = intaj_tests::unique("intaj-stream");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();

    let store = MemoryStore::new();
    let key = ApiKey {
        bot_id: "demo".into(),
        rate_limit_per_second: 80,
        created_at: 0,
    };
    store.put_api_key(&api_key_hash(KEY), &key).await.unwrap();
    store
        .put_connection(&Connection {
            bot_id: "demo".into(),
            business_account_id: "200000000000001".into(),
            phone_number_id: PHONE_NUMBER_ID.into(),
            created_at: 0,
            updated_at: 0,
            display_phone_number: None,
            verified_name: None,
            rate_limit_per_second: None,
            responder: None,
            events_url: None,
            fallback_reply: None,
            typing_indicator: None,
            last_webhook_at: None,
        })
        .await
        .unwrap();
    let document = json!({"type": "document", "document": {"id": inbound_media_id}});
    let message = InboundMessage {
        message_id: "wamid.stream".into(),
        customer: CustomerIds::default(),
        phone_number_id: PHONE_NUMBER_ID.into(),
        kind: "document".into(),
        timestamp: 1_760_000_000,
        profile_name: None,
        content: document.to_string(),
    };
    store.record_inbound("demo", message).await.unwrap();
    let secrets = MemorySecrets::new();
    let bot_secrets = BotSecrets {
        access_token: Secret::new(ACCESS_TOKEN),
        app_secret: Secret::new("secret"),
        verify_token: Secret::new("verify"),
        responder_secret: None,
    };
    secrets.put_bot_secrets("demo", &bot_secrets).await.unwrap();
    let deps = MediaDeps::new(
        Arc::new(store),
        Arc::new(secrets),
        GraphClient::new(GraphConfig::new(&sim_url, "v25.0")).unwrap(),
        Arc::new(S3MediaStore::new(s3.clone(), bucket)),
    );
    let mut measured = Vec::new();

    // In: Meta → S3, the customer's document.
    let (status, media) = measure(
        &mut measured,
        "in: GET /api/whatsapp/media/{id} (Meta → S3)",
        call(
            &deps,
            "GET",
            &format!("/api/whatsapp/media/{inbound_media_id}"),
            None,
        ),
    )
    .await;
    assert_eq!(status, 200, "{media}");
    assert_eq!(
        (media["size"].as_u64(), media["sha256"].as_str()),
        (Some(FILE_SIZE as u64), Some(expected_sha256.as_str()))
    );

    // Out: the business's upload, PUT as a client would (streamed), then S3 → Meta.
    let (status, made) = call(
        &deps,
        "POST",
        "/api/whatsapp/media/uploads",
        Some(
            json!({"mimeType": "application/pdf", "size": FILE_SIZE, "filename": "catalogue.pdf"}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let body = futures::stream::iter(chunks().map(Ok::<_, std::io::Error>));
    let mut put = intaj_shared::http_clients::http_client()
        .put(made["url"].as_str().unwrap())
        .header("content-length", FILE_SIZE)
        .body(reqwest::Body::wrap_stream(body));
    for (name, value) in made["headers"].as_object().unwrap() {
        put = put.header(name, value.as_str().unwrap());
    }
    let put = put.send().await.unwrap();
    assert_eq!(put.status(), 200);

    let (status, sent) = measure(
        &mut measured,
        "out: POST /api/whatsapp/media (S3 → Meta)",
        call(
            &deps,
            "POST",
            "/api/whatsapp/media",
            Some(json!({"uploadId": made["uploadId"]})),
        ),
    )
    .await;
    assert_eq!(status, 201, "{sent}");
    let at_meta: Value = intaj_shared::http_clients::http_client()
        .get(format!(
            "{sim_url}/v25.0/{}",
            sent["mediaId"].as_str().unwrap()
        ))
        .bearer_auth(ACCESS_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        at_meta["sha256"],
        expected_sha256.as_str(),
        "WhatsApp got the very file"
    );
    assert_eq!(at_meta["file_size"], FILE_SIZE);

    drop(child.stdin.take());
    let _ = child.wait();

    println!("| 100 MiB document | time | peak heap | peak resident |");
    println!("|---|---|---|---|");
    for m in &measured {
        println!(
            "| {} | {:.2} s | {} | {} |",
            m.what,
            m.seconds,
            mib(m.heap_peak),
            m.resident_peak.map_or("n/a".to_owned(), mib)
        );
    }
    for m in &measured {
        assert!(
            m.heap_peak < MEMORY_LIMIT,
            "{}: peak heap {} is not under 128 MiB",
            m.what,
            mib(m.heap_peak)
        );
    }
}

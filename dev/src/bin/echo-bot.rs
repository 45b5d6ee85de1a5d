//! A bot backend for a `forward` responder, as small as one can be: it checks the
//! `X-Intaj-Signature` of each message (refusing replays older than five minutes) and echoes
//! the text back.
//!
//! `RESPONDER_SECRET=<the connection's responderSecret> cargo run -p intaj-dev --bin echo-bot`
//! listens on `127.0.0.1:${BOT_PORT:-4000}`; give `http://127.0.0.1:4000/intaj` as the
//! responder's `url`.

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use intaj_shared::clock::unix_now;
use intaj_shared::responding::{SIGNATURE_HEADER, verify};
use serde_json::{Value, json};

/// How old a signed request may be: older ones are refused as replays.
const TOLERANCE_SECONDS: i64 = 300;

#[tokio::main]
async fn main() {
    let secret = std::env::var("RESPONDER_SECRET").unwrap_or_else(|_| {
        eprintln!("RESPONDER_SECRET must be the connection's responderSecret");
        std::process::exit(2)
    });
    let port: u16 = std::env::var("BOT_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(4000);
    let app = Router::new().route(
        "/intaj",
        post(move |headers: HeaderMap, body: String| answer(secret.clone(), headers, body)),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap_or_else(|error| {
            eprintln!("cannot listen on 127.0.0.1:{port}: {error} (set BOT_PORT)");
            std::process::exit(1)
        });
    println!("echo bot on http://127.0.0.1:{port}/intaj");
    axum::serve(listener, app).await.expect("the echo bot runs");
}

async fn answer(secret: String, headers: HeaderMap, body: String) -> (StatusCode, String) {
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if let Err(error) = verify(
        secret.as_bytes(),
        signature,
        body.as_bytes(),
        unix_now(),
        TOLERANCE_SECONDS,
    ) {
        eprintln!("refused: {error}");
        return (StatusCode::UNAUTHORIZED, String::new());
    }
    let message: Value = serde_json::from_str(&body).unwrap_or_default();
    let reply = match message["text"].as_str() {
        Some(text) => format!("You said: {text}"),
        None => format!(
            "Thanks for the {}!",
            message["type"].as_str().unwrap_or("message")
        ),
    };
    let answer = json!({"replies": [{"type": "text", "content": reply}]});
    (StatusCode::OK, answer.to_string())
}

//! The baseline for the cold-start bench (`tests/benches/cold_start.rs`): a hello-world
//! `lambda_http` function, nothing but `run(service_fn(…))` answering every request with 200
//! "hello". (No logging set-up: `lambda_http`'s `tracing` feature is not on in this workspace,
//! and the bare runtime is the strictest baseline.)
//!
//! Build: `cargo build --release -p intaj-tests --example hello_lambda`.

use lambda_http::{Body, Error, Request, Response, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|_request: Request| async {
        Ok::<_, Error>(
            Response::builder()
                .status(200)
                .header("content-type", "text/plain")
                .body(Body::from("hello"))?,
        )
    }))
    .await
}

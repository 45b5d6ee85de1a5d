//! Lambda entry point: build the clients once, then serve every request with them.

use intaj_shared::bootstrap;
use intaj_webhook::allocator::MiMalloc;
use intaj_webhook::{WebhookDeps, handle};
use lambda_http::{Error, Request, run, service_fn};

/// A receipt allocates for every message and status it records; mimalloc serves that faster than
/// the system allocator (BENCHMARKS.md, receipt CPU).
#[global_allocator]
static ALLOCATOR: MiMalloc = MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = bootstrap::config_or_exit();
    bootstrap::init_tracing(&config.log_level);
    let aws = bootstrap::aws_config().await;
    let deps = WebhookDeps::new(
        bootstrap::dynamodb_store(&aws, &config),
        bootstrap::secret_store(&aws, &config),
    );
    run(service_fn(|request: Request| {
        let deps = &deps;
        async move { Ok::<_, Error>(handle(request, deps).await) }
    }))
    .await
}

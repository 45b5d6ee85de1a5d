//! Lambda entry point: build the clients once (the Graph API connection pool included), then
//! serve every request with them.

use intaj_media::{MediaDeps, handle};
use intaj_shared::bootstrap;
use lambda_http::{Error, Request, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = bootstrap::config_or_exit();
    bootstrap::init_tracing(&config.log_level);
    let aws = bootstrap::aws_config().await;
    let deps = MediaDeps::new(
        bootstrap::dynamodb_store(&aws, &config),
        bootstrap::secret_store(&aws, &config),
        bootstrap::graph_client(&config),
        bootstrap::media_store(&aws, &config),
    );
    bootstrap::warm_up_in_background(&deps.graph);
    run(service_fn(|request: Request| {
        let deps = &deps;
        async move { Ok::<_, Error>(handle(request, deps).await) }
    }))
    .await
}

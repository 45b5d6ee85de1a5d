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
    let deps = MediaDeps {
        store: bootstrap::dynamodb_store(&aws, &config),
        secrets: bootstrap::secret_store(&aws, &config),
        graph: bootstrap::graph_client(&config),
        media: bootstrap::media_store(&aws, &config),
    };
    bootstrap::warm_up_in_background(&deps.graph);
    run(service_fn(|request: Request| {
        let deps = &deps;
        async move { Ok::<_, Error>(handle(request, deps).await) }
    }))
    .await
}

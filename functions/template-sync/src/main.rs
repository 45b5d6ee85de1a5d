//! Lambda entry point: build the clients once, then serve every invocation (an API Gateway
//! request or the hourly schedule) with them.

use intaj_shared::bootstrap;
use intaj_template_sync::{TemplateSyncDeps, invoke};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = bootstrap::config_or_exit();
    bootstrap::init_tracing(&config.log_level);
    let aws = bootstrap::aws_config().await;
    let deps = TemplateSyncDeps::new(
        bootstrap::dynamodb_store(&aws, &config),
        bootstrap::secret_store(&aws, &config),
        bootstrap::graph_client(&config),
    );
    bootstrap::warm_up_in_background(&deps.graph);
    run(service_fn(|event: LambdaEvent<Value>| {
        let deps = &deps;
        async move { invoke(event.payload, deps).await }
    }))
    .await
}

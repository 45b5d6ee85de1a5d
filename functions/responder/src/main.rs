//! Lambda entry point: build the clients once, then answer every batch of the responder's
//! queue (new customer messages) and of the table's stream (status changes) with them.

use intaj_responder::{ResponderDeps, handle_event};
use intaj_shared::bootstrap;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = bootstrap::config_or_exit();
    bootstrap::init_tracing(&config.log_level);
    let aws = bootstrap::aws_config().await;
    let deps = ResponderDeps::new(
        bootstrap::dynamodb_store(&aws, &config),
        bootstrap::secret_store(&aws, &config),
        bootstrap::graph_client(&config),
        bootstrap::business_reach(&config),
    );
    let retry = bootstrap::retry_delay(&aws);
    bootstrap::warm_up_in_background(&deps.graph);
    run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let (deps, retry) = (&deps, retry.as_ref());
        async move { Ok::<_, Error>(handle_event(deps, retry, event.payload).await?) }
    }))
    .await
}

//! Lambda entry point: build the clients once, then answer every batch of the responder's
//! queue with them.

use aws_lambda_events::sqs::SqsEvent;
use intaj_responder::{ResponderDeps, queue};
use intaj_shared::{bootstrap, http_clients};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = bootstrap::config_or_exit();
    bootstrap::init_tracing(&config.log_level);
    let aws = bootstrap::aws_config().await;
    let deps = ResponderDeps {
        store: bootstrap::dynamodb_store(&aws, &config),
        secrets: bootstrap::secret_store(&aws, &config),
        graph: bootstrap::graph_client(&config),
        http: http_clients::http_client(),
    };
    bootstrap::warm_up_in_background(&deps.graph);
    run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let deps = &deps;
        async move { Ok::<_, Error>(queue::handle_batch(deps, event.payload).await) }
    }))
    .await
}

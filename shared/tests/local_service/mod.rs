//! An AWS SDK configuration for a local service (DynamoDB Local, moto) whose URL `scripts/test.sh`
//! exports; `None` (with a notice) when it is unset, unless `INTAJ_TEST_REQUIRE_SERVICES=1`.

use aws_config::{Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;

pub async fn sdk_config(endpoint_variable: &str, service: &str) -> Option<SdkConfig> {
    let Some(endpoint) = std::env::var(endpoint_variable)
        .ok()
        .filter(|v| !v.is_empty())
    else {
        if std::env::var("INTAJ_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("{endpoint_variable} is not set but INTAJ_TEST_REQUIRE_SERVICES=1");
        }
        eprintln!("skipped: set {endpoint_variable} ({service}) to run these tests");
        return None;
    };
    Some(
        intaj_shared::http_clients::aws_defaults()
            .region(Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .credentials_provider(Credentials::new("test", "test", None, None, "intaj-tests"))
            .load()
            .await,
    )
}

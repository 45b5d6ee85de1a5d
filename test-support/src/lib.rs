//! The local AWS services `scripts/test.sh` starts, for every crate's tests: DynamoDB Local, and
//! moto for Secrets Manager, S3 and SQS. A test asks [`LocalServices::from_env`] and skips (with
//! a notice) when they are not running, unless the test command requires them. Also unique run
//! names, and log lines kept in memory.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_config::{Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;

/// Endpoints of DynamoDB Local and moto, as exported by `scripts/test.sh`.
pub struct LocalServices {
    pub dynamodb: String,
    /// One moto server serves Secrets Manager, S3 and SQS.
    pub moto: String,
}

impl LocalServices {
    /// `None` (with a notice naming `test`) when the services are not running, unless
    /// `INTAJ_TEST_REQUIRE_SERVICES=1`, in which case their absence is a failure.
    pub fn from_env(test: &str) -> Option<Self> {
        let endpoint = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        match (
            endpoint("INTAJ_TEST_DYNAMODB_ENDPOINT"),
            endpoint("INTAJ_TEST_SECRETS_ENDPOINT"),
        ) {
            (Some(dynamodb), Some(moto)) => Some(Self { dynamodb, moto }),
            _ if std::env::var("INTAJ_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") => {
                panic!("{test}: INTAJ_TEST_DYNAMODB_ENDPOINT / INTAJ_TEST_SECRETS_ENDPOINT unset")
            }
            _ => {
                eprintln!(
                    "{test}: skipped; run ./scripts/test.sh to start DynamoDB Local and moto"
                );
                None
            }
        }
    }

    /// The SDK's configuration with test credentials and no endpoint (set one per client).
    pub async fn sdk_config(&self) -> SdkConfig {
        self.loader().load().await
    }

    /// The SDK's configuration for moto's services (Secrets Manager, S3, SQS).
    pub async fn moto_config(&self) -> SdkConfig {
        self.loader().endpoint_url(&self.moto).load().await
    }

    /// A DynamoDB client's configuration, to add interceptors to.
    pub async fn dynamodb_config(&self) -> aws_sdk_dynamodb::Config {
        aws_sdk_dynamodb::config::Builder::from(&self.sdk_config().await)
            .endpoint_url(&self.dynamodb)
            .build()
    }

    pub async fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::from_conf(self.dynamodb_config().await)
    }

    pub async fn secrets_manager(&self) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::new(&self.moto_config().await)
    }

    fn loader(&self) -> aws_config::ConfigLoader {
        intaj_shared::http_clients::aws_defaults()
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "intaj-tests"))
    }
}

/// A name no other run has used, for tables, buckets, queues and secret prefixes.
pub fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// The lines a log subscriber writes, kept in memory (give the subscriber a clone per write).
#[derive(Clone, Default)]
pub struct LogLines(Arc<Mutex<Vec<u8>>>);

impl Write for LogLines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogLines {
    /// What was written since the last call.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    /// Everything written so far, kept.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

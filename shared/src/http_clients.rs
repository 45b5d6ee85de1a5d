//! One HTTP and TLS stack for every outbound client, AWS SDK and Graph API alike: reqwest
//! (hyper 1, HTTP/1.1) on rustls with `ring`. The SDK's own client would link a second
//! connection pool with HTTP/2 and, by default, aws-lc-rs; together about 1 MB of each
//! deployment package, for requests that gain nothing from HTTP/2.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;

/// `aws_config::defaults` with the SDK's requests sent through reqwest.
pub fn aws_defaults() -> aws_config::ConfigLoader {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(sdk_http_client())
}

/// The SDK's HTTP client: one reqwest client (and connection pool) per timeout setting, made
/// when the SDK first asks for it; the TLS configuration is made here, during init.
pub fn sdk_http_client() -> SharedHttpClient {
    let _ = tls_config();
    SharedHttpClient::new(ReqwestForSdk::default())
}

/// A reqwest builder with the process's one TLS configuration.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().tls_backend_preconfigured(tls_config())
}

/// A reqwest client with defaults, for tools and tests.
pub fn http_client() -> reqwest::Client {
    http_client_builder()
        .build()
        .expect("a default reqwest client always builds")
}

/// The TLS settings every client shares, made once: Mozilla's root certificates compiled in
/// (reading and parsing the system's certificate files took most of a function's start), ring
/// for the cryptography.
fn tls_config() -> rustls::ClientConfig {
    static CONFIG: OnceLock<rustls::ClientConfig> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .expect("ring supports TLS 1.2 and 1.3")
            .with_root_certificates(roots)
            .with_no_client_auth()
        })
        .clone()
}

type Timeouts = (Option<Duration>, Option<Duration>);

#[derive(Debug, Default)]
struct ReqwestForSdk {
    /// The SDK asks for a connector per client and operation; the same settings share one.
    connectors: Mutex<HashMap<Timeouts, SharedHttpConnector>>,
}

impl HttpClient for ReqwestForSdk {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let timeouts = (settings.connect_timeout(), settings.read_timeout());
        let mut connectors = self.connectors.lock().unwrap_or_else(|p| p.into_inner());
        connectors
            .entry(timeouts)
            .or_insert_with(|| {
                let mut builder = http_client_builder();
                if let Some(connect) = timeouts.0 {
                    builder = builder.connect_timeout(connect);
                }
                if let Some(read) = timeouts.1 {
                    builder = builder.read_timeout(read);
                }
                // Building fails only if TLS cannot start; each call then reports it.
                SharedHttpConnector::new(ReqwestConnector {
                    client: builder.build().map_err(Arc::new),
                })
            })
            .clone()
    }
}

#[derive(Debug)]
struct ReqwestConnector {
    client: Result<reqwest::Client, Arc<reqwest::Error>>,
}

impl HttpConnector for ReqwestConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = self.client.clone();
        HttpConnectorFuture::new(async move {
            let client = client.map_err(|error| ConnectorError::other(error.into(), None))?;
            let request = to_reqwest(&client, request)?;
            let response = client.execute(request).await.map_err(connector_error)?;
            // Streamed, not read whole: an S3 object may be 100 MB.
            let answer =
                http::Response::<reqwest::Body>::from(response).map(SdkBody::from_body_1_x);
            HttpResponse::try_from(answer)
                .map_err(|error| ConnectorError::other(error.into(), None))
        })
    }
}

fn to_reqwest(
    client: &reqwest::Client,
    request: HttpRequest,
) -> Result<reqwest::Request, ConnectorError> {
    let method = reqwest::Method::from_bytes(request.method().as_bytes())
        .map_err(|error| ConnectorError::user(error.into()))?;
    // The SDK's DynamoDB and Secrets Manager bodies are always in memory.
    let body = request
        .body()
        .bytes()
        .ok_or_else(|| ConnectorError::user("streaming request bodies are not supported".into()))?
        .to_vec();
    let mut builder = client.request(method, request.uri());
    for (name, value) in request.headers() {
        builder = builder.header(name, value);
    }
    builder
        .body(body)
        .build()
        .map_err(|error| ConnectorError::user(error.into()))
}

/// Timeouts and I/O failures are transient, so the SDK retries them.
fn connector_error(error: reqwest::Error) -> ConnectorError {
    if error.is_timeout() {
        ConnectorError::timeout(error.into())
    } else {
        ConnectorError::io(error.into())
    }
}

#[cfg(test)]
mod tests {
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;

    use super::*;

    fn connector(read_timeout: Duration) -> SharedHttpConnector {
        let settings = HttpConnectorSettings::builder()
            .connect_timeout(Duration::from_secs(1))
            .read_timeout(read_timeout)
            .build();
        let components = RuntimeComponentsBuilder::for_tests().build().unwrap();
        sdk_http_client().http_connector(&settings, &components)
    }

    fn request(method: &str, url: &str) -> HttpRequest {
        HttpRequest::try_from(
            http::Request::builder()
                .method(method)
                .uri(url)
                .body(SdkBody::from("{}"))
                .unwrap(),
        )
        .unwrap()
    }

    /// The SDK retries transient failures only: a refused connection and a silent server must
    /// reach it as I/O and timeout errors.
    #[tokio::test]
    async fn failures_reach_the_sdk_as_retryable_kinds() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let silent = listener.local_addr().unwrap();
        let refused = {
            let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            closed.local_addr().unwrap()
        };
        let error = connector(Duration::from_secs(1))
            .call(request("GET", &format!("http://{refused}/")))
            .await
            .unwrap_err();
        assert!(error.is_io(), "{error:?}");
        let error = connector(Duration::from_millis(50))
            .call(request("GET", &format!("http://{silent}/")))
            .await
            .unwrap_err();
        assert!(error.is_timeout(), "{error:?}");
        drop(listener);
    }

    #[tokio::test]
    async fn an_answer_comes_back_whole_through_its_stream() {
        let app = axum::Router::new().route(
            "/",
            axum::routing::post(|body: String| async move { ([("x-echo", "yes")], body) }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let response = connector(Duration::from_secs(1))
            .call(request("POST", &format!("http://{address}/")))
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers().get("x-echo"), Some("yes"));
        let body = aws_smithy_types::byte_stream::ByteStream::new(response.into_body())
            .collect()
            .await
            .unwrap()
            .into_bytes();
        assert_eq!(&body[..], b"{}");
    }
}

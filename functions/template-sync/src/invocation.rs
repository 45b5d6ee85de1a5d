//! One Lambda invocation: the hourly EventBridge schedule, or an API Gateway (HTTP API) request.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use http::header::CONTENT_TYPE;
use intaj_shared::clock::unix_now;
use lambda_http::Body;
use lambda_http::request::LambdaRequest;
use lambda_runtime::Error;
use serde_json::{Map, Value, json};

use crate::handler::{TemplateSyncDeps, handle};
use crate::schedule::sync_all;

/// Runs the schedule for an EventBridge event, the HTTP routes for anything else.
pub async fn invoke(event: Value, deps: &TemplateSyncDeps) -> Result<Value, Error> {
    if let Ok(scheduled) = serde_json::from_value::<EventBridgeEvent>(event.clone()) {
        tracing::info!(source = scheduled.source, "scheduled template sync started");
        let report = sync_all(deps, unix_now()).await?;
        return Ok(serde_json::to_value(report)?);
    }
    let request: LambdaRequest = serde_json::from_value(event)
        .map_err(|e| format!("neither a schedule event nor an HTTP API request: {e}"))?;
    let response = handle(request.into(), deps).await;
    Ok(http_api_response(response))
}

/// The HTTP API (payload 2.0) answer for a response.
fn http_api_response(response: http::Response<Body>) -> Value {
    let (parts, body) = response.into_parts();
    let mut headers = Map::new();
    for (name, value) in &parts.headers {
        if let Ok(value) = value.to_str() {
            headers.insert(name.as_str().to_owned(), Value::String(value.to_owned()));
        }
    }
    let body = match body {
        Body::Text(text) => text,
        Body::Binary(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        _ => String::new(),
    };
    if !headers.contains_key(CONTENT_TYPE.as_str()) {
        headers.insert(CONTENT_TYPE.as_str().to_owned(), json!("application/json"));
    }
    json!({
        "statusCode": parts.status.as_u16(),
        "headers": headers,
        "body": body,
        "isBase64Encoded": false,
    })
}

//! Serves a Lambda HTTP handler from axum: the local stack runs the very handlers the Lambda
//! binaries run, only the transport differs.

use axum::body::{Body as AxumBody, to_bytes};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use intaj_shared::api::ApiError;
use lambda_http::Body as LambdaBody;

/// The largest request body passed on: Lambda's 6 MB event, and one byte more, so that each
/// handler answers its own 413 (the webhook's 3 MiB, the media route's 5 MB).
pub const MAX_FORWARDED_BODY: usize = 6 * 1024 * 1024 + 1;

/// Turns an axum request into the `lambda_http::Request` API Gateway would have produced.
pub async fn to_lambda(request: axum::extract::Request) -> Result<lambda_http::Request, Response> {
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, MAX_FORWARDED_BODY).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the body is too large",
        )
        .to_response()
        .into_response()
    })?;
    let body = if bytes.is_empty() {
        LambdaBody::Empty
    } else {
        LambdaBody::from(bytes.to_vec())
    };
    Ok(http::Request::from_parts(parts, body))
}

pub fn from_lambda(response: lambda_http::Response<LambdaBody>) -> Response {
    response
        .map(|body| match body {
            LambdaBody::Empty => AxumBody::empty(),
            LambdaBody::Text(text) => AxumBody::from(text),
            LambdaBody::Binary(bytes) => AxumBody::from(bytes),
            _ => AxumBody::empty(),
        })
        .into_response()
}

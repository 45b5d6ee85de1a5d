//! The HTTP answer shapes shared by every route: JSON bodies, and errors as
//! `{"error":{"code":"snake_case","message":"what to do"}}`.

use http::{HeaderValue, Response, StatusCode, header};
use serde::Serialize;

/// An error answer. `code` is stable and machine-readable; `message` tells a user what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds, for 429 and 503 answers.
    pub retry_after: Option<u64>,
    /// Meta's own error, when Meta caused this one.
    /// Boxed: rarely set, and it would make every `Result<_, ApiError>` large.
    pub upstream: Option<Box<UpstreamError>>,
    /// The methods the route serves, for a 405's `Allow` header.
    pub allow: Option<&'static str>,
}

/// Meta's error as it reached us, kept for the caller's support tickets with Meta.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpstreamError {
    pub code: i64,
    pub message: String,
    /// Meta's `error_data.details`, which usually says more than `message`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fbtrace_id: Option<String>,
}

impl From<&crate::graph::MetaApiError> for UpstreamError {
    fn from(meta: &crate::graph::MetaApiError) -> Self {
        Self {
            code: meta.code,
            message: meta.message.clone(),
            details: meta.details.clone(),
            fbtrace_id: meta.fbtrace_id.clone(),
        }
    }
}

/// A store failure: logged with its cause, answered 503 so that the caller retries.
impl From<crate::ports::StoreError> for ApiError {
    fn from(error: crate::ports::StoreError) -> Self {
        tracing::error!(%error, "storage unavailable");
        Self::unavailable("storage_unavailable", "storage is unavailable; retry later")
            .with_retry_after(1)
    }
}

/// A secrets failure: logged with its cause, answered 503 so that the caller retries.
impl From<crate::ports::SecretsError> for ApiError {
    fn from(error: crate::ports::SecretsError) -> Self {
        tracing::error!(%error, "secrets unavailable");
        Self::unavailable(
            "secrets_unavailable",
            "credentials could not be read; retry later",
        )
        .with_retry_after(1)
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    upstream: Option<&'a UpstreamError>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
            upstream: None,
            allow: None,
        }
    }

    /// 405 `method_not_allowed`, with the `Allow` header HTTP asks for.
    pub fn method_not_allowed(allow: &'static str) -> Self {
        let mut error = Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("this route accepts {allow} only"),
        );
        error.allow = Some(allow);
        error
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn with_upstream(mut self, upstream: UpstreamError) -> Self {
        self.upstream = Some(Box::new(upstream));
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// A dependency failed: the caller should retry later.
    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }

    /// Meta is down or throttling after our own retries: 503 `upstream_unavailable`.
    pub fn upstream_unavailable(retry_after_secs: u64) -> Self {
        Self::unavailable(
            "upstream_unavailable",
            "WhatsApp is unavailable or throttling right now; retry after the Retry-After delay",
        )
        .with_retry_after(retry_after_secs.max(1))
    }

    /// The connection's secret holds no access token: Meta cannot be asked.
    pub fn no_access_token() -> Self {
        Self::new(
            StatusCode::BAD_GATEWAY,
            "invalid_access_token",
            "this connection has no access token; update the connection's credentials",
        )
    }

    /// Meta refused a call that is not a send (which maps Meta's codes finely): 503 when it may
    /// work later, 502 `invalid_access_token` for a rejected token, else 502 `upstream_error`
    /// saying what Meta did not do (`doing`, e.g. "list the templates"); Meta's error in
    /// `upstream`.
    pub fn of_meta(error: &crate::graph::GraphError, retry_after_secs: u64, doing: &str) -> Self {
        let answer = if error.is_retryable() {
            Self::upstream_unavailable(retry_after_secs)
        } else if error.meta_code() == Some(crate::graph::INVALID_TOKEN) {
            Self::new(
                StatusCode::BAD_GATEWAY,
                "invalid_access_token",
                "Meta rejects this connection's access token; generate a new one and update the \
                 connection",
            )
        } else {
            Self::new(
                StatusCode::BAD_GATEWAY,
                "upstream_error",
                format!("WhatsApp did not {doing}: {error}; see error.upstream"),
            )
        };
        answer.with_upstream_of(error)
    }

    /// `self` with Meta's error in `error.upstream`, when Meta answered one.
    pub fn with_upstream_of(self, error: &crate::graph::GraphError) -> Self {
        match error.meta_error() {
            Some(meta) => self.with_upstream(UpstreamError::from(meta)),
            None => self,
        }
    }

    pub fn to_response(&self) -> Response<String> {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: &self.message,
                upstream: self.upstream.as_deref(),
            },
        };
        let mut response = json(self.status, &body);
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(allow) = self.allow {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        response
    }
}

/// A path parameter from API Gateway's route match, or the one segment after `prefix` in the
/// path when the request comes from the local stack or a test.
pub fn path_parameter(request: &lambda_http::Request, name: &str, prefix: &str) -> Option<String> {
    use lambda_http::RequestExt;
    if let Some(value) = request.path_parameters_ref().and_then(|p| p.first(name)) {
        return Some(value.to_owned());
    }
    let raw = request
        .uri()
        .path()
        .strip_prefix(prefix)?
        .trim_end_matches('/');
    if raw.is_empty() || raw.contains('/') {
        return None;
    }
    Some(
        percent_encoding::percent_decode_str(raw)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

/// A query parameter: from API Gateway's parsed query, or from the URI when the request comes
/// from the local stack or a test.
pub fn query_param(request: &lambda_http::Request, name: &str) -> Option<String> {
    use lambda_http::RequestExt;
    if let Some(value) = request
        .query_string_parameters_ref()
        .and_then(|q| q.first(name))
    {
        return Some(value.to_owned());
    }
    let query = request.uri().query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, v)| v.into_owned())
}

/// A request body read as `T`, which must be a JSON object: serde reads a struct from an array
/// too, field by field in order, which no client means (`["15551234567","text","hi"]` would
/// send a message).
pub fn json_object<'a, T: serde::Deserialize<'a>>(body: &'a [u8]) -> Result<T, serde_json::Error> {
    let got = match body.iter().find(|byte| !byte.is_ascii_whitespace()) {
        None | Some(b'{') => return serde_json::from_slice(body),
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b'-' | b'0'..=b'9') => "a number",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        Some(_) => "something that is not JSON",
    };
    Err(serde::de::Error::custom(format_args!(
        "got {got}, not a JSON object"
    )))
}

/// A JSON answer with the given status.
pub fn json(status: StatusCode, body: &impl Serialize) -> Response<String> {
    let text = serde_json::to_string(body).expect("response types serialise to JSON");
    let mut response = Response::new(text);
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_body_is_read_only_from_a_json_object() {
        #[derive(serde::Deserialize, Debug)]
        struct Pair {
            #[allow(dead_code)]
            a: String,
            #[allow(dead_code)]
            b: bool,
        }
        assert!(super::json_object::<Pair>(br#" {"a":"x","b":true}"#).is_ok());
        let positional = super::json_object::<Pair>(br#"["x",true]"#).unwrap_err();
        assert!(
            positional.to_string().contains("not a JSON object"),
            "{positional}"
        );
        assert!(super::json_object::<Pair>(b"").is_err());
        assert!(super::json_object::<Pair>(b"\"x\"").is_err());
    }

    use super::*;

    #[test]
    fn errors_have_the_documented_shape() {
        let response = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "slow down")
            .with_retry_after(2)
            .to_response();
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let body: serde_json::Value = serde_json::from_str(response.body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"error":{"code":"rate_limited","message":"slow down"}})
        );
    }
}

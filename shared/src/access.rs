//! Who is calling a Bearer route, and whether they are within their rate limit.

use std::future::Future;

use http::{HeaderMap, HeaderValue, Response, StatusCode};

use crate::api::ApiError;
use crate::domain::{Connection, api_key_hash};
use crate::ports::{
    AdminToken, ApiKeyStore, BotSecrets, ConnectionStore, RateLimitStore, SecretStore,
};

/// An authenticated caller: the one bot its API key belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub bot_id: String,
    pub key_hash: String,
    pub rate_limit_per_second: u32,
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in any case, RFC 9110).
fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim_start().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Lets through `Authorization: Bearer <admin token>` only (the connections routes), compared
/// in constant time. A bot's API key is never an admin token.
pub async fn authenticate_admin(
    admin: &dyn AdminToken,
    authorization: Option<&str>,
) -> Result<(), ApiError> {
    let unauthorized =
        |message: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message.to_owned());
    let token = authorization.and_then(bearer).ok_or_else(|| {
        unauthorized("send the stack's admin token as `Authorization: Bearer <admin token>`")
    })?;
    match admin.admin_token().await {
        Ok(Some(expected)) if expected.matches(token) => Ok(()),
        Ok(Some(_)) => {
            tracing::warn!("admin route refused: wrong admin token");
            Err(unauthorized(
                "this is not the stack's admin token; read it with the command the stack outputs",
            ))
        }
        Ok(None) => {
            tracing::error!("admin token secret missing; admin routes refused");
            Err(ApiError::unavailable(
                "admin_token_unavailable",
                "the stack's admin token secret does not exist; redeploy the stack",
            ))
        }
        Err(error) => {
            tracing::error!(%error, "admin token unavailable");
            Err(ApiError::unavailable(
                "secrets_unavailable",
                "could not read the admin token; retry",
            ))
        }
    }
}

/// Resolves `Authorization: Bearer <api key>` to its bot. The key is looked up by its SHA-256,
/// so response timing says nothing about how much of a guessed key was right.
pub async fn authenticate(
    keys: &dyn ApiKeyStore,
    authorization: Option<&str>,
) -> Result<Caller, ApiError> {
    let unauthorized =
        |message: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message.to_owned());
    let header = authorization
        .ok_or_else(|| unauthorized("send your API key as `Authorization: Bearer <api key>`"))?;
    let key = bearer(header)
        .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <api key>`"))?;
    let hash = api_key_hash(key);
    match keys.api_key(&hash).await {
        Ok(Some(api_key)) => Ok(Caller {
            bot_id: api_key.bot_id,
            key_hash: hash,
            rate_limit_per_second: api_key.rate_limit_per_second,
        }),
        Ok(None) => Err(unauthorized(
            "this API key is not valid (revoked, or never issued); use the key given when the \
             connection was created",
        )),
        Err(error) => {
            tracing::error!(%error, "API key lookup failed");
            Err(ApiError::unavailable(
                "storage_unavailable",
                "could not check the API key; retry",
            ))
        }
    }
}

/// The bot's secrets, for calling Meta; 502 `invalid_access_token` when it has none.
pub async fn secrets_of(
    secrets: &dyn SecretStore,
    bot_id: &str,
) -> Result<std::sync::Arc<BotSecrets>, ApiError> {
    secrets
        .bot_secrets(bot_id)
        .await?
        .ok_or_else(ApiError::no_access_token)
}

/// The caller's WhatsApp connection; 404 `unknown_bot` when it has none (deleted meanwhile).
pub async fn connection_of(
    connections: &dyn ConnectionStore,
    bot_id: &str,
) -> Result<Connection, ApiError> {
    connections.connection(bot_id).await?.ok_or_else(|| {
        ApiError::not_found(
            "unknown_bot",
            format!("bot \"{bot_id}\" has no WhatsApp connection"),
        )
    })
}

/// A key's standing in the current one-second window, sent on every answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: u32,
    pub remaining: u32,
    /// Unix seconds at which the window resets.
    pub reset: i64,
}

impl RateLimit {
    pub fn apply(&self, headers: &mut HeaderMap) {
        headers.insert("x-ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(self.remaining));
        headers.insert("x-ratelimit-reset", HeaderValue::from(self.reset));
    }
}

/// Counts this request against the caller's per-second limit, shared by every instance
/// through the store. Over the limit → 429 `rate_limited` (with the limit's state, so the
/// caller still gets the headers).
pub async fn count_request(
    counters: &dyn RateLimitStore,
    caller: &Caller,
    now: i64,
) -> Result<RateLimit, (ApiError, Option<RateLimit>)> {
    // Counters outlive their second a little so a lagging clock never resets one early.
    let count = counters
        .count_request(&caller.key_hash, now, now + 60)
        .await
        .map_err(|error| {
            tracing::error!(%error, "rate-limit counter unavailable");
            (
                ApiError::unavailable("storage_unavailable", "could not count the request; retry"),
                None,
            )
        })?;
    let limit = caller.rate_limit_per_second;
    let state = RateLimit {
        limit,
        remaining: limit.saturating_sub(u32::try_from(count).unwrap_or(u32::MAX)),
        reset: now + 1,
    };
    if count > u64::from(limit) {
        tracing::warn!(bot_id = caller.bot_id, limit, "rate limit exceeded");
        let error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("this API key may make {limit} requests per second; retry after the reset"),
        )
        .with_retry_after(1);
        return Err((error, Some(state)));
    }
    Ok(state)
}

/// A Bearer route: authenticates the caller, counts the request against its limit, runs
/// `route` for it, and puts the rate-limit headers on whatever the answer is.
pub async fn guarded<F, Fut>(
    keys: &dyn ApiKeyStore,
    counters: &dyn RateLimitStore,
    authorization: Option<&str>,
    now: i64,
    route: F,
) -> Response<String>
where
    F: FnOnce(Caller) -> Fut,
    Fut: Future<Output = Result<Response<String>, ApiError>>,
{
    let caller = match authenticate(keys, authorization).await {
        Ok(caller) => caller,
        Err(error) => return error.to_response(),
    };
    let limit = match count_request(counters, &caller, now).await {
        Ok(limit) => limit,
        Err((error, limit)) => {
            let mut response = error.to_response();
            if let Some(limit) = limit {
                limit.apply(response.headers_mut());
            }
            return response;
        }
    };
    let mut response = route(caller).await.unwrap_or_else(|e| e.to_response());
    limit.apply(response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::FixedAdminToken;
    use crate::connecting::generate_api_key;
    use crate::ports::Secret;

    #[test]
    fn the_bearer_scheme_is_read_in_any_case() {
        for header in ["Bearer k1", "bearer k1", "BEARER k1", "Bearer   k1 "] {
            assert_eq!(super::bearer(header), Some("k1"), "{header}");
        }
        for header in ["Basic k1", "Bearer ", "Bearerk1", "k1"] {
            assert_eq!(super::bearer(header), None, "{header}");
        }
    }

    #[tokio::test]
    async fn only_the_admin_token_opens_the_admin_routes() {
        let admin = FixedAdminToken(Some(Secret::new("admin-token-value")));
        assert!(
            authenticate_admin(&admin, Some("Bearer admin-token-value"))
                .await
                .is_ok()
        );
        let api_key = generate_api_key();
        for header in [
            None,
            Some("admin-token-value".to_owned()),
            Some("Bearer ".to_owned()),
            Some("Bearer admin-token-valuE".to_owned()),
            Some(format!("Bearer {}", api_key.expose())),
        ] {
            let error = authenticate_admin(&admin, header.as_deref())
                .await
                .unwrap_err();
            assert_eq!(
                (error.status, error.code),
                (StatusCode::UNAUTHORIZED, "unauthorized")
            );
            assert!(!error.message.contains("admin-token-value"));
        }
        let none = FixedAdminToken(None);
        let error = authenticate_admin(&none, Some("Bearer anything"))
            .await
            .unwrap_err();
        assert_eq!(error.code, "admin_token_unavailable");
    }
}

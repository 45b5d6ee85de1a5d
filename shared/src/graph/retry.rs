//! Retries with exponential backoff and full jitter inside a time budget (SPEC §4, "Upstream").
//!
//! [`run`] works for any operation whose error says whether it is worth retrying
//! ([`Retryable`]). Before retry number `n` (0-based) it sleeps
//! `max(retry_after, random(0, min(max_delay, base_delay * 2^n)))`, where `retry_after` is the
//! server's `Retry-After` when it sent one. It gives up with the last error when the error is not
//! retryable, after `max_attempts`, or as soon as the next sleep would not fit in what is left of
//! the budget. Each attempt is also cut off when the budget runs out, so the whole call never
//! takes (much) longer than `budget`: a caller behind API Gateway's 29 s can count on it.

use std::fmt::Display;
use std::time::Duration;

use rand::{Rng, RngExt};
use thiserror::Error;
use tokio::time::Instant;

/// How hard to try before giving up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included (1 = no retry).
    pub max_attempts: u32,
    /// Backoff ceiling before the first retry; doubled for each further retry.
    pub base_delay: Duration,
    /// Cap on the backoff ceiling.
    pub max_delay: Duration,
    /// Wall time for all attempts and sleeps together.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    /// 6 attempts, 200 ms doubling to at most 5 s, within 20 s: leaves about 9 s of API
    /// Gateway's 29 s for the rest of the request.
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            budget: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no sleeping, no budget cut-off (the HTTP client's own timeout still applies).
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            base_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
            budget: Duration::MAX,
        }
    }

    /// `min(max_delay, base_delay * 2^retry)`: the most full jitter may sleep before retry `retry`
    /// (0-based).
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// Full jitter: uniform in `[0, backoff_ceiling(retry)]`, raised to `floor` (the server's
    /// `Retry-After`) when one is given.
    pub fn delay(&self, retry: u32, floor: Option<Duration>, rng: &mut impl Rng) -> Duration {
        let ceiling = u64::try_from(self.backoff_ceiling(retry).as_nanos()).unwrap_or(u64::MAX);
        let jittered = Duration::from_nanos(rng.random_range(0..=ceiling));
        jittered.max(floor.unwrap_or(Duration::ZERO))
    }
}

/// What [`run`] needs to know about an operation's error.
pub trait Retryable {
    /// Whether trying again may succeed.
    fn is_retryable(&self) -> bool;

    /// The server's `Retry-After`, used as a floor for the next sleep.
    fn retry_after(&self) -> Option<Duration> {
        None
    }

    /// A short code for the retry log line (e.g. Meta's error code or the HTTP status).
    fn code(&self) -> Option<i64> {
        None
    }

    /// The error for an attempt cut off because the budget ran out.
    fn timed_out() -> Self;
}

/// How a retried operation failed. `retry_after` is what to put in our own `Retry-After` (e.g. the
/// 503 `upstream_unavailable` or 429 `recipient_rate_limited` answers): the server's
/// `Retry-After` when it sent one, otherwise the next backoff ceiling; whole seconds, at least 1 s.
/// It is filled in whatever the error, so callers need not special-case non-retryable errors.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{error} (after {attempts} attempt(s))")]
pub struct Failure<E> {
    #[source]
    pub error: E,
    pub attempts: u32,
    pub retry_after: Duration,
}

impl<E> Failure<E> {
    /// `retry_after` in whole seconds, ready for a `Retry-After` header.
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_secs()
    }

    pub fn into_error(self) -> E {
        self.error
    }
}

/// Runs `operation` until it succeeds or `policy` says to stop; see the module docs.
///
/// Logs one `warn` per retry with the error's code, the attempt that failed and the sleep; the
/// error is logged through its `Display`, which must not hold secrets.
pub async fn run<T, E, F, Fut>(policy: RetryPolicy, mut operation: F) -> Result<T, Failure<E>>
where
    E: Retryable + Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let started = Instant::now();
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let left = policy.budget.saturating_sub(started.elapsed());
        let error = match tokio::time::timeout(left, operation()).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(error)) => error,
            Err(_elapsed) => E::timed_out(),
        };

        let retry = attempt - 1;
        if !error.is_retryable() || attempt >= policy.max_attempts.max(1) {
            return Err(give_up(&policy, error, attempt));
        }
        // ThreadRng is not Send: draw the delay in one statement so it is gone before the await.
        let delay = policy.delay(retry, error.retry_after(), &mut rand::rng());
        let left = policy.budget.saturating_sub(started.elapsed());
        if delay >= left {
            return Err(give_up(&policy, error, attempt));
        }
        log_retry(&error, attempt, delay);
        tokio::time::sleep(delay).await;
    }
}

fn give_up<E: Retryable>(policy: &RetryPolicy, error: E, attempts: u32) -> Failure<E> {
    let suggested = error
        .retry_after()
        .unwrap_or_else(|| policy.backoff_ceiling(attempts.saturating_sub(1)));
    Failure {
        error,
        attempts,
        retry_after: whole_seconds_at_least_one(suggested),
    }
}

fn whole_seconds_at_least_one(delay: Duration) -> Duration {
    let secs = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
    Duration::from_secs(secs.max(1))
}

fn log_retry<E: Retryable + Display>(error: &E, attempt: u32, delay: Duration) {
    let delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
    tracing::warn!(
        code = error.code(),
        attempt,
        delay_ms,
        error = %error,
        "upstream call failed; retrying"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            ..RetryPolicy::default()
        }
    }

    #[test]
    fn ceiling_doubles_then_caps_without_overflow() {
        let policy = policy();
        assert_eq!(policy.backoff_ceiling(0), Duration::from_millis(100));
        assert_eq!(policy.backoff_ceiling(1), Duration::from_millis(200));
        assert_eq!(policy.backoff_ceiling(3), Duration::from_millis(800));
        assert_eq!(policy.backoff_ceiling(4), Duration::from_secs(1));
        assert_eq!(policy.backoff_ceiling(200), Duration::from_secs(1));
    }

    #[test]
    fn full_jitter_stays_within_zero_and_the_ceiling_and_spreads() {
        let policy = policy();
        let mut rng = rand::rng();
        for retry in 0..8 {
            let ceiling = policy.backoff_ceiling(retry);
            let samples: Vec<Duration> = (0..2000)
                .map(|_| policy.delay(retry, None, &mut rng))
                .collect();
            assert!(samples.iter().all(|d| *d <= ceiling), "retry {retry}");
            // Full jitter, not "ceiling plus a little": both halves of the range are used.
            assert!(samples.iter().any(|d| *d < ceiling / 2), "retry {retry}");
            assert!(samples.iter().any(|d| *d > ceiling / 2), "retry {retry}");
        }
    }

    #[test]
    fn retry_after_is_a_floor() {
        let policy = policy();
        let mut rng = rand::rng();
        let floor = Duration::from_secs(3);
        for _ in 0..100 {
            assert_eq!(policy.delay(0, Some(floor), &mut rng), floor);
        }
    }

    #[test]
    fn none_has_no_jitter() {
        let none = RetryPolicy::none();
        assert_eq!(none.delay(5, None, &mut rand::rng()), Duration::ZERO);
    }

    #[test]
    fn suggested_retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(
            whole_seconds_at_least_one(Duration::ZERO),
            Duration::from_secs(1)
        );
        assert_eq!(
            whole_seconds_at_least_one(Duration::from_millis(1500)),
            Duration::from_secs(2)
        );
        assert_eq!(
            whole_seconds_at_least_one(Duration::from_secs(7)),
            Duration::from_secs(7)
        );
    }
}

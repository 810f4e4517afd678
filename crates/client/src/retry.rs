//! When to retry a call, as a pure function of what happened (no clock, no randomness).
//!
//! Order of precedence: a POST without an `Idempotency-Key` is never retried (it might
//! create twice); the attempt budget; Stripe's `Stripe-Should-Retry` header; then the
//! status (409 lock conflicts, 429 rate limits, 5xx) or the transport failure (connection
//! errors and timeouts). The delay is `Retry-After` when the server gave one, otherwise
//! exponential backoff with "equal jitter" (half fixed, half random), capped.

use std::time::Duration;

/// What one attempt produced, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// A response with an error status.
    Status {
        /// HTTP status.
        status: u16,
        /// The `Stripe-Should-Retry` header, if present.
        should_retry: Option<bool>,
        /// The `Retry-After` header, if present and parseable.
        retry_after: Option<Duration>,
    },
    /// No response: connection failure or timeout.
    Transport,
}

/// The policy's answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// Wait this long, then try again.
    RetryAfter(Duration),
    /// Stop and report the error.
    GiveUp,
}

/// Retry limits and backoff shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so at most `max_retries + 1` attempts).
    pub max_retries: u32,
    /// Backoff before the first retry (before jitter).
    pub base_delay: Duration,
    /// Upper bound for the computed backoff.
    pub max_delay: Duration,
    /// Upper bound for a server-given `Retry-After`.
    pub max_retry_after: Duration,
    /// Retries allowed when the attempt was rate limited (429). Larger than
    /// `max_retries`: a 429 says "slower", not "broken", and the limiter has
    /// already slowed the endpoint down, so a scan keeps going instead of failing.
    pub max_rate_limited_retries: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
            max_rate_limited_retries: 12,
        }
    }
}

impl RetryPolicy {
    /// Decides after attempt number `attempt` (1 = the first try) failed with `outcome`.
    /// `jitter` is a number in `[0, 1)` supplied by the caller (random in production).
    pub fn decide(
        &self,
        attempt: u32,
        method: &str,
        has_idempotency_key: bool,
        outcome: &Outcome,
        jitter: f64,
    ) -> Decision {
        if method.eq_ignore_ascii_case("POST") && !has_idempotency_key {
            return Decision::GiveUp;
        }
        let rate_limited = matches!(outcome, Outcome::Status { status: 429, .. });
        let budget = if rate_limited { self.max_retries.max(self.max_rate_limited_retries) } else { self.max_retries };
        if attempt > budget {
            return Decision::GiveUp;
        }
        let retry_after = match *outcome {
            Outcome::Status { status, should_retry, retry_after } => {
                let retryable = match should_retry {
                    Some(explicit) => explicit,
                    None => status == 409 || status == 429 || (500..600).contains(&status),
                };
                if !retryable {
                    return Decision::GiveUp;
                }
                retry_after
            }
            Outcome::Transport => None,
        };
        let delay = match retry_after {
            Some(d) => d.min(self.max_retry_after),
            None => self.backoff(attempt, jitter),
        };
        Decision::RetryAfter(delay)
    }

    /// Exponential backoff for retry number `attempt` with equal jitter.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let exp = 2u32.saturating_pow(attempt.saturating_sub(1).min(20));
        let full = self.base_delay.saturating_mul(exp).min(self.max_delay);
        let jitter = jitter.clamp(0.0, 1.0);
        full.mul_f64(0.5 + 0.5 * jitter)
    }
}

/// Parses `Retry-After` given in seconds (Stripe's form); HTTP dates are ignored.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// Parses `Stripe-Should-Retry: true|false`.
pub fn parse_should_retry(value: &str) -> Option<bool> {
    match value.trim() {
        v if v.eq_ignore_ascii_case("true") => Some(true),
        v if v.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16) -> Outcome {
        Outcome::Status { status, should_retry: None, retry_after: None }
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            max_retry_after: Duration::from_secs(5),
            max_rate_limited_retries: 6,
        }
    }

    #[test]
    fn rate_limits_get_a_larger_retry_budget() {
        let p = policy();
        assert_eq!(p.decide(4, "GET", false, &status(500), 0.0), Decision::GiveUp);
        assert!(matches!(p.decide(4, "GET", false, &status(429), 0.0), Decision::RetryAfter(_)));
        assert!(matches!(p.decide(6, "GET", false, &status(429), 0.0), Decision::RetryAfter(_)));
        assert_eq!(p.decide(7, "GET", false, &status(429), 0.0), Decision::GiveUp);
        let none = RetryPolicy { max_retries: 0, max_rate_limited_retries: 0, ..p };
        assert_eq!(none.decide(1, "GET", false, &status(429), 0.0), Decision::GiveUp);
    }

    #[test]
    fn retryable_statuses_and_transport_errors() {
        let p = policy();
        for s in [409, 429, 500, 502, 503] {
            assert!(matches!(p.decide(1, "GET", false, &status(s), 0.0), Decision::RetryAfter(_)), "{s}");
        }
        for s in [400, 401, 402, 403, 404] {
            assert_eq!(p.decide(1, "GET", false, &status(s), 0.0), Decision::GiveUp, "{s}");
        }
        assert!(matches!(p.decide(1, "DELETE", false, &Outcome::Transport, 0.0), Decision::RetryAfter(_)));
    }

    #[test]
    fn stripe_should_retry_wins_over_status() {
        let p = policy();
        let no = Outcome::Status { status: 503, should_retry: Some(false), retry_after: None };
        assert_eq!(p.decide(1, "GET", false, &no, 0.5), Decision::GiveUp);
        let yes = Outcome::Status { status: 400, should_retry: Some(true), retry_after: None };
        assert!(matches!(p.decide(1, "GET", false, &yes, 0.5), Decision::RetryAfter(_)));
    }

    #[test]
    fn post_is_retried_only_with_an_idempotency_key() {
        let p = policy();
        assert_eq!(p.decide(1, "POST", false, &status(500), 0.0), Decision::GiveUp);
        assert_eq!(p.decide(1, "POST", false, &Outcome::Transport, 0.0), Decision::GiveUp);
        assert!(matches!(p.decide(1, "POST", true, &status(500), 0.0), Decision::RetryAfter(_)));
    }

    #[test]
    fn attempts_are_bounded() {
        let p = policy();
        assert!(matches!(p.decide(3, "GET", false, &status(500), 0.0), Decision::RetryAfter(_)));
        assert_eq!(p.decide(4, "GET", false, &status(500), 0.0), Decision::GiveUp);
        let none = RetryPolicy { max_retries: 0, ..p };
        assert_eq!(none.decide(1, "GET", false, &status(500), 0.0), Decision::GiveUp);
    }

    #[test]
    fn backoff_grows_exponentially_with_jitter_and_cap() {
        let p = policy();
        assert_eq!(p.backoff(1, 0.0), Duration::from_millis(50));
        assert_eq!(p.backoff(1, 1.0), Duration::from_millis(100));
        assert_eq!(p.backoff(2, 1.0), Duration::from_millis(200));
        assert_eq!(p.backoff(3, 1.0), Duration::from_millis(400));
        assert_eq!(p.backoff(10, 1.0), Duration::from_millis(1000));
        let d = p.backoff(2, 0.5);
        assert!(d > Duration::from_millis(100) && d < Duration::from_millis(200), "{d:?}");
    }

    #[test]
    fn retry_after_is_used_and_capped() {
        let p = policy();
        let o = Outcome::Status { status: 429, should_retry: None, retry_after: Some(Duration::from_secs(2)) };
        assert_eq!(p.decide(1, "GET", false, &o, 0.9), Decision::RetryAfter(Duration::from_secs(2)));
        let o = Outcome::Status { status: 429, should_retry: None, retry_after: Some(Duration::from_secs(600)) };
        assert_eq!(p.decide(1, "GET", false, &o, 0.9), Decision::RetryAfter(Duration::from_secs(5)));
    }

    #[test]
    fn header_parsing() {
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_should_retry("true"), Some(true));
        assert_eq!(parse_should_retry("False"), Some(false));
        assert_eq!(parse_should_retry("maybe"), None);
    }
}

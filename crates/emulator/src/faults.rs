//! Fault injection: latency (fixed + jitter), per-endpoint and global rate limits
//! (429; a token bucket or a strict sliding window, see [`super::limits`]), random and scheduled failures, hung responses, truncated bodies, bodies
//! that stall half way, and connections dropped before a request is handled or
//! after a write was committed. Deterministic with the seed.

use super::config::EmulatorConfig;
use super::errors::ApiError;
use super::limits::{Limiter, RateWindow};
use super::rng::Rng;
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
struct FailRule {
    remaining: u32,
    status: u16,
    prefix: Option<String>,
}

/// Runtime fault settings (shared, behind a mutex).
#[derive(Debug)]
pub struct Faults {
    latency: Duration,
    jitter: Duration,
    endpoint_rps: f64,
    global_rps: f64,
    rate_window: RateWindow,
    fail_rate: f64,
    drop_rate: f64,
    rng: Rng,
    global: Option<Limiter>,
    endpoints: HashMap<String, Limiter>,
    fail_next: Vec<FailRule>,
    drop_next: u32,
    truncate_next: u32,
    hang_next: u32,
    drop_before_next: u32,
    stall_next: u32,
}

/// What to do before handling a request.
#[derive(Debug)]
pub struct Before {
    /// Sleep this long first.
    pub delay: Duration,
    /// Never answer (until shutdown).
    pub hang: bool,
    /// Answer with this error instead of handling.
    pub reject: Option<ApiError>,
    /// Drop the connection without handling the request (nothing is committed).
    pub drop: bool,
}

/// What to do with a handled request's answer.
#[derive(Debug, Default)]
pub struct After {
    /// Drop the connection instead of answering.
    pub drop: bool,
    /// Send only part of the JSON body.
    pub truncate: bool,
    /// Send half of the body, then stop answering (until shutdown).
    pub stall: bool,
}

/// `GET /v1/customers/cus_1` -> `GET /v1/customers/{id}`.
pub fn endpoint_key(method: &str, path: &str) -> String {
    let segs: Vec<&str> =
        path.split('/').enumerate().map(|(i, s)| if i == 3 && s != "search" { "{id}" } else { s }).collect();
    format!("{method} {}", segs.join("/"))
}

impl Faults {
    /// Settings from the configuration.
    pub fn new(c: &EmulatorConfig) -> Self {
        Faults {
            latency: c.latency,
            jitter: c.jitter,
            endpoint_rps: c.endpoint_rps,
            global_rps: c.global_rps,
            rate_window: c.rate_window,
            fail_rate: c.fail_rate,
            drop_rate: c.drop_after_commit_rate,
            rng: Rng::new(c.seed ^ 0xFA17),
            global: None,
            endpoints: HashMap::new(),
            fail_next: vec![],
            drop_next: 0,
            truncate_next: 0,
            hang_next: 0,
            drop_before_next: 0,
            stall_next: 0,
        }
    }

    /// Decides latency, hanging, rate limiting and injected failures for a request.
    pub fn before(&mut self, method: &str, path: &str) -> Before {
        let jitter = if self.jitter.is_zero() { Duration::ZERO } else { self.jitter.mul_f64(self.rng.unit()) };
        let mut b = Before { delay: self.latency + jitter, hang: false, reject: None, drop: false };
        if self.hang_next > 0 {
            self.hang_next -= 1;
            b.hang = true;
            return b;
        }
        if self.drop_before_next > 0 {
            self.drop_before_next -= 1;
            b.drop = true;
            return b;
        }
        let now = Instant::now();
        let kind = self.rate_window;
        if self.global_rps > 0.0 {
            let limiter = self.global.get_or_insert_with(|| Limiter::new(kind, self.global_rps, now));
            if !limiter.take(self.global_rps, now) {
                b.reject = Some(ApiError::rate_limited());
                return b;
            }
        }
        if self.endpoint_rps > 0.0 {
            let rps = self.endpoint_rps;
            let limiter =
                self.endpoints.entry(endpoint_key(method, path)).or_insert_with(|| Limiter::new(kind, rps, now));
            if !limiter.take(rps, now) {
                b.reject = Some(ApiError::rate_limited());
                return b;
            }
        }
        if let Some(rule) = self
            .fail_next
            .iter_mut()
            .find(|r| r.remaining > 0 && r.prefix.as_deref().is_none_or(|p| path.starts_with(p)))
        {
            rule.remaining -= 1;
            let status = rule.status;
            self.fail_next.retain(|r| r.remaining > 0);
            b.reject = Some(if status == 429 { ApiError::rate_limited() } else { ApiError::server(status) });
            return b;
        }
        if self.fail_rate > 0.0 && self.rng.chance(self.fail_rate) {
            b.reject = Some(ApiError::server(500));
        }
        b
    }

    /// Decides whether a handled request's answer is dropped or truncated.
    pub fn after(&mut self, write: bool) -> After {
        let mut a = After::default();
        if write && self.drop_next > 0 {
            self.drop_next -= 1;
            a.drop = true;
        } else if write && self.drop_rate > 0.0 && self.rng.chance(self.drop_rate) {
            a.drop = true;
        } else if self.truncate_next > 0 {
            self.truncate_next -= 1;
            a.truncate = true;
        } else if self.stall_next > 0 {
            self.stall_next -= 1;
            a.stall = true;
        }
        a
    }

    /// Fails the next `n` requests (optionally only those under `prefix`) with `status`.
    pub fn fail_next(&mut self, n: u32, status: u16, prefix: Option<String>) {
        self.fail_next.push(FailRule { remaining: n, status, prefix });
    }

    /// Drops the connection of the next `n` writes after committing them.
    pub fn drop_next_writes(&mut self, n: u32) {
        self.drop_next = n;
    }

    /// Truncates the next `n` JSON bodies.
    pub fn truncate_next(&mut self, n: u32) {
        self.truncate_next = n;
    }

    /// Never answers the next `n` requests.
    pub fn hang_next(&mut self, n: u32) {
        self.hang_next = n;
    }

    /// Drops the connection of the next `n` requests before handling them.
    pub fn drop_next_before(&mut self, n: u32) {
        self.drop_before_next = n;
    }

    /// Sends half of the next `n` bodies, then stops answering.
    pub fn stall_next(&mut self, n: u32) {
        self.stall_next = n;
    }

    /// Sets latency.
    pub fn set_latency(&mut self, fixed: Duration, jitter: Duration) {
        self.latency = fixed;
        self.jitter = jitter;
    }

    /// Sets rate limits (0 = unlimited).
    pub fn set_rate_limits(&mut self, endpoint_rps: f64, global_rps: f64) {
        self.endpoint_rps = endpoint_rps;
        self.global_rps = global_rps;
        self.global = None;
        self.endpoints.clear();
    }

    /// Sets the random 500 rate and the random drop-after-commit rate.
    pub fn set_rates(&mut self, fail_rate: f64, drop_after_commit_rate: f64) {
        self.fail_rate = fail_rate;
        self.drop_rate = drop_after_commit_rate;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_keys_and_scheduled_failures() {
        assert_eq!(endpoint_key("GET", "/v1/customers/cus_1"), "GET /v1/customers/{id}");
        assert_eq!(endpoint_key("GET", "/v1/customers/search"), "GET /v1/customers/search");
        let mut f = Faults::new(&EmulatorConfig::default());
        f.fail_next(1, 503, Some("/v1/charges".into()));
        assert!(f.before("GET", "/v1/customers").reject.is_none());
        assert_eq!(f.before("GET", "/v1/charges").reject.unwrap().status, 503);
        assert!(f.before("GET", "/v1/charges").reject.is_none());
    }

    #[test]
    fn drops_before_handling_and_stalls_are_scheduled() {
        let mut f = Faults::new(&EmulatorConfig::default());
        f.drop_next_before(1);
        assert!(f.before("POST", "/v1/customers").drop);
        assert!(!f.before("POST", "/v1/customers").drop);
        f.stall_next(1);
        assert!(f.after(false).stall);
        assert!(!f.after(false).stall);
        f.truncate_next(1);
        f.stall_next(1);
        let (first, second) = (f.after(true), f.after(true));
        assert!(first.truncate && !first.stall && second.stall);
    }

    #[test]
    fn rate_limit_rejects_burst() {
        let mut f = Faults::new(&EmulatorConfig { global_rps: 2.0, ..Default::default() });
        let rejected = (0..10).filter(|_| f.before("GET", "/v1/x").reject.is_some()).count();
        assert!(rejected >= 7, "{rejected}");
    }
}

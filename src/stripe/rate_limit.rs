//! Client-side request budget: one global rate and one rate per endpoint, shared by every
//! clone of the client and every concurrent request.
//!
//! Each request reserves the next free time slot of both budgets (slots are `1/rps` apart)
//! and sleeps until it. Slots are reserved under a short lock and never while sleeping, so
//! concurrent callers are served in arrival order and the rate holds in every window.
//! After a 429 the endpoint's rate is halved (never below 1/s) and its next slot pushed
//! past `Retry-After`; each success wins back 5% of the configured rate.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// A shared limiter; cloning shares the budget.
#[derive(Clone, Debug)]
pub struct RateLimiter {
    inner: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    global_rps: f64,
    endpoint_rps: f64,
    global_next: Option<Instant>,
    endpoints: HashMap<String, Endpoint>,
}

#[derive(Debug)]
struct Endpoint {
    next: Option<Instant>,
    rps: f64,
}

fn interval(rps: f64) -> Duration {
    if rps.is_finite() && rps > 0.0 { Duration::from_secs_f64(1.0 / rps) } else { Duration::ZERO }
}

impl RateLimiter {
    /// A limiter allowing `global_rps` requests per second overall and `endpoint_rps` per
    /// endpoint. Zero, negative or infinite means unlimited.
    pub fn new(global_rps: f64, endpoint_rps: f64) -> Self {
        RateLimiter {
            inner: Arc::new(Mutex::new(State {
                global_rps,
                endpoint_rps,
                global_next: None,
                endpoints: HashMap::new(),
            })),
        }
    }

    /// Waits until a request to `endpoint` fits both budgets.
    pub async fn acquire(&self, endpoint: &str) {
        let slot = self.reserve(endpoint, Instant::now());
        if slot > Instant::now() {
            tokio::time::sleep_until(slot).await;
        }
    }

    /// Reserves the next slot for `endpoint` at or after `now` and returns it.
    pub fn reserve(&self, endpoint: &str, now: Instant) -> Instant {
        let mut st = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let endpoint_rps = st.endpoint_rps;
        let ep = st
            .endpoints
            .entry(endpoint.to_owned())
            .or_insert(Endpoint { next: None, rps: endpoint_rps });
        let ep_next = ep.next.unwrap_or(now);
        let ep_interval = interval(ep.rps);
        let slot = now.max(ep_next).max(st.global_next.unwrap_or(now));
        if let Some(ep) = st.endpoints.get_mut(endpoint) {
            ep.next = Some(slot + ep_interval);
        }
        st.global_next = Some(slot + interval(st.global_rps));
        slot
    }

    /// Slows `endpoint` down after a 429: halves its rate and waits out `retry_after`.
    pub fn on_rate_limited(&self, endpoint: &str, retry_after: Option<Duration>) {
        let mut st = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let configured = st.endpoint_rps;
        let ep = st
            .endpoints
            .entry(endpoint.to_owned())
            .or_insert(Endpoint { next: None, rps: configured });
        if ep.rps.is_finite() && ep.rps > 0.0 {
            ep.rps = (ep.rps / 2.0).max(1.0_f64.min(configured));
        }
        if let Some(wait) = retry_after {
            let until = Instant::now() + wait;
            ep.next = Some(ep.next.map_or(until, |n| n.max(until)));
        }
    }

    /// Wins back part of the rate lost to earlier 429s.
    pub fn on_success(&self, endpoint: &str) {
        let mut st = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let configured = st.endpoint_rps;
        if let Some(ep) = st.endpoints.get_mut(endpoint) {
            if ep.rps < configured {
                ep.rps = (ep.rps + configured * 0.05).min(configured);
            }
        }
    }

    /// The current rate of `endpoint` (requests per second), after any adaptive slowdown.
    pub fn endpoint_rate(&self, endpoint: &str) -> f64 {
        let st = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        st.endpoints.get(endpoint).map_or(st.endpoint_rps, |e| e.rps)
    }
}

/// The endpoint a request counts against: method plus path with ids collapsed, e.g.
/// `GET /v1/customers/{id}`. A segment is an id when it has anything besides lower-case
/// letters and underscores (Stripe ids carry digits or upper-case letters).
pub fn endpoint_key(method: &str, path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let collapsed: Vec<&str> = path
        .split('/')
        .map(|seg| {
            let word = seg.chars().all(|c| c.is_ascii_lowercase() || c == '_');
            if word || seg == "v1" || seg == "v2" { seg } else { "{id}" }
        })
        .collect();
    format!("{} {}", method.to_ascii_uppercase(), collapsed.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_keys_collapse_ids() {
        assert_eq!(endpoint_key("get", "/v1/customers"), "GET /v1/customers");
        assert_eq!(endpoint_key("GET", "/v1/customers/cus_NffrFeUfNV2Hib"), "GET /v1/customers/{id}");
        assert_eq!(
            endpoint_key("POST", "/v1/payment_intents/pi_3MtwBwLkdIwHu7ix28a3tqPa/capture"),
            "POST /v1/payment_intents/{id}/capture"
        );
        assert_eq!(endpoint_key("GET", "/v1/customers/search?query=x"), "GET /v1/customers/search");
        assert_eq!(endpoint_key("GET", "/v1/customers/cus_0001/sources/card_9"), "GET /v1/customers/{id}/sources/{id}");
    }

    #[test]
    fn slots_are_spaced_per_endpoint_and_globally() {
        let lim = RateLimiter::new(100.0, 10.0);
        let now = Instant::now();
        let a: Vec<Duration> = (0..3).map(|_| lim.reserve("GET /v1/customers", now) - now).collect();
        assert_eq!(a, vec![Duration::ZERO, Duration::from_millis(100), Duration::from_millis(200)]);
        // Another endpoint only waits for the global budget.
        let b = lim.reserve("GET /v1/charges", now) - now;
        assert_eq!(b, Duration::from_millis(210));
    }

    #[test]
    fn unlimited_when_zero() {
        let lim = RateLimiter::new(0.0, 0.0);
        let now = Instant::now();
        for _ in 0..5 {
            assert_eq!(lim.reserve("GET /v1/x", now), now);
        }
    }

    #[test]
    fn a_429_halves_the_endpoint_rate_and_success_recovers_it() {
        let lim = RateLimiter::new(100.0, 20.0);
        let ep = "GET /v1/customers";
        lim.on_rate_limited(ep, None);
        assert_eq!(lim.endpoint_rate(ep), 10.0);
        lim.on_rate_limited(ep, None);
        lim.on_rate_limited(ep, None);
        lim.on_rate_limited(ep, None);
        lim.on_rate_limited(ep, None);
        assert_eq!(lim.endpoint_rate(ep), 1.0);
        for _ in 0..100 {
            lim.on_success(ep);
        }
        assert_eq!(lim.endpoint_rate(ep), 20.0);
    }

    #[test]
    fn a_429_with_retry_after_pushes_the_next_slot() {
        let lim = RateLimiter::new(0.0, 10.0);
        let ep = "GET /v1/customers";
        let now = Instant::now();
        lim.on_rate_limited(ep, Some(Duration::from_secs(2)));
        assert!(lim.reserve(ep, now) >= now + Duration::from_millis(1990));
    }
}

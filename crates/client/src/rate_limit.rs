//! Client-side request budget: one global rate and one rate per endpoint, shared by every
//! clone of the client and every concurrent request.
//!
//! Each request reserves a time slot that fits both budgets (an endpoint's slots are
//! `1/endpoint_rps` apart, all booked slots at least `1/global_rps` apart) and sleeps until
//! it. Slots are reserved under a short lock and never while sleeping, so
//! concurrent callers are served in arrival order and the rate holds in every window.
//! After a 429 the endpoint's rate is halved (never below 1/s) and its next slot pushed
//! past `Retry-After`; each success wins back 5% of the configured rate. An endpoint
//! without a configured rate that gets a 429 starts at Stripe's documented 25/s
//! (halved from there on further 429s) and grows back by 5% per success until it is
//! unlimited again.

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
    /// Booked global slots, sorted, pruned once they are a full interval in the past.
    global_slots: Vec<Instant>,
    endpoints: HashMap<String, Endpoint>,
}

impl State {
    /// Books the earliest global slot at or after `earliest` that keeps every booked slot
    /// at least one global interval from its neighbours. Searching the gaps (instead of
    /// appending after the last booking) lets a request to an idle endpoint go ahead of a
    /// queue that is waiting for a busy endpoint's budget.
    fn reserve_global(&mut self, earliest: Instant, now: Instant) -> Instant {
        let gap = interval(self.global_rps);
        if gap.is_zero() {
            return earliest;
        }
        self.global_slots.retain(|s| *s + gap > now);
        let mut slot = earliest;
        for booked in &self.global_slots {
            if *booked + gap <= slot {
                continue;
            }
            if slot + gap <= *booked {
                break;
            }
            slot = *booked + gap;
        }
        let at = self.global_slots.partition_point(|s| *s <= slot);
        self.global_slots.insert(at, slot);
        slot
    }
}

#[derive(Debug)]
struct Endpoint {
    next: Option<Instant>,
    rps: f64,
}

/// An endpoint without a configured rate, slowed down by 429s, is unlimited again
/// once its adaptive rate grows past this.
const UNLIMITED_AGAIN_RPS: f64 = 400.0;

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
                global_slots: Vec::new(),
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
        let ep = st.endpoints.entry(endpoint.to_owned()).or_insert(Endpoint { next: None, rps: endpoint_rps });
        let earliest = now.max(ep.next.unwrap_or(now));
        let ep_interval = interval(ep.rps);
        let slot = st.reserve_global(earliest, now);
        if let Some(ep) = st.endpoints.get_mut(endpoint) {
            ep.next = Some(slot + ep_interval);
        }
        slot
    }

    /// Slows `endpoint` down after a 429: halves its rate and waits out `retry_after`.
    pub fn on_rate_limited(&self, endpoint: &str, retry_after: Option<Duration>) {
        let mut st = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let configured = st.endpoint_rps;
        let ep = st.endpoints.entry(endpoint.to_owned()).or_insert(Endpoint { next: None, rps: configured });
        if ep.rps.is_finite() && ep.rps > 0.0 {
            let floor = if configured > 0.0 { 1.0_f64.min(configured) } else { 1.0 };
            ep.rps = (ep.rps / 2.0).max(floor);
        } else {
            ep.rps = super::config::MAX_ENDPOINT_RPS;
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
        let Some(ep) = st.endpoints.get_mut(endpoint) else { return };
        if configured > 0.0 && configured.is_finite() {
            if ep.rps < configured {
                ep.rps = (ep.rps + configured * 0.05).min(configured);
            }
        } else if ep.rps > 0.0 {
            ep.rps *= 1.05;
            if ep.rps >= UNLIMITED_AGAIN_RPS {
                ep.rps = configured;
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
        // Another endpoint takes the first free global slot, not a place behind the queue.
        let b = lim.reserve("GET /v1/charges", now) - now;
        assert_eq!(b, Duration::from_millis(10));
        let c = lim.reserve("GET /v1/charges", now) - now;
        assert_eq!(c, Duration::from_millis(110), "the endpoint's own interval applies");
    }

    #[test]
    fn booked_global_slots_stay_one_interval_apart() {
        let lim = RateLimiter::new(20.0, 5.0);
        let now = Instant::now();
        let ms = |ep: &str| (lim.reserve(ep, now) - now).as_millis();
        assert_eq!([ms("A"), ms("A"), ms("A")], [0, 200, 400]);
        assert_eq!([ms("B"), ms("B")], [50, 250]);
        assert_eq!(ms("C"), 100, "first gap of 50ms on both sides");
        assert_eq!(ms("D"), 150);
        assert_eq!(ms("E"), 300);
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
    fn an_unlimited_endpoint_slows_down_on_429_and_recovers() {
        let lim = RateLimiter::new(0.0, 0.0);
        let ep = "GET /v1/charges";
        lim.on_rate_limited(ep, None);
        assert_eq!(lim.endpoint_rate(ep), 25.0);
        lim.on_rate_limited(ep, None);
        assert_eq!(lim.endpoint_rate(ep), 12.5);
        let now = Instant::now();
        let gap = lim.reserve(ep, now);
        assert_eq!(lim.reserve(ep, now) - gap, Duration::from_millis(80), "12.5/s spacing");
        for _ in 0..200 {
            lim.on_success(ep);
        }
        assert_eq!(lim.endpoint_rate(ep), 0.0, "unlimited again");
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

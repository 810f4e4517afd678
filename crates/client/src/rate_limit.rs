//! Client-side request budget: one global rate and one rate per endpoint, shared by every
//! clone of the client and every concurrent request.
//!
//! Pacing is a GCRA (leaky bucket) with no burst beyond one request: each request
//! reserves a time slot that fits both budgets (an endpoint's slots are
//! `SPAN/endpoint_rps` apart, all booked slots at least `SPAN/global_rps` apart, where
//! [`SPAN`] is a second plus a margin for jitter) and sleeps until it. Slots are reserved
//! under a short lock and never while sleeping, so concurrent callers are served in
//! arrival order. When the request actually goes out, a sliding window of the real send
//! times ([`SendWindow`]) is checked too: a request that woke late cannot let the next
//! ones crowd a second, so no window of a second sees more than the budget.
//! After a 429 the endpoint's rate drops by a quarter (never below 1/s) and its next slot
//! is pushed past `Retry-After`; each success wins back 5% of the configured rate, so
//! the full rate is back after five successes. An endpoint without a configured rate
//! that gets a 429 starts at Stripe's documented 25/s (a quarter less on further 429s)
//! and grows back by 5% per success until it is unlimited again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

use super::window::{SPAN, SendWindow};

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
    /// When requests actually went out, against the global budget.
    global_sent: SendWindow,
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
    /// When requests actually went out, against the configured budget.
    sent: SendWindow,
}

impl Endpoint {
    fn new(rps: f64) -> Self {
        Endpoint { next: None, rps, sent: SendWindow::new(rps) }
    }
}

/// The share of its rate an endpoint keeps after a 429.
const AFTER_429: f64 = 0.75;

/// An endpoint without a configured rate, slowed down by 429s, is unlimited again
/// once its adaptive rate grows past this.
const UNLIMITED_AGAIN_RPS: f64 = 400.0;

/// Time between two slots at `rps`: `rps` slots per [`SPAN`], so a window of one
/// second never holds more than `rps` of them.
fn interval(rps: f64) -> Duration {
    if rps.is_finite() && rps > 0.0 { SPAN.div_f64(rps) } else { Duration::ZERO }
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
                global_sent: SendWindow::new(global_rps),
                endpoints: HashMap::new(),
            })),
        }
    }

    /// Waits until a request to `endpoint` fits both budgets, and records it as sent.
    pub async fn acquire(&self, endpoint: &str) {
        let slot = self.reserve(endpoint, Instant::now());
        if slot > Instant::now() {
            tokio::time::sleep_until(slot).await;
        }
        while let Err(until) = self.admit(endpoint, Instant::now()) {
            tokio::time::sleep_until(until).await;
        }
    }

    /// Records a request to `endpoint` going out at `now` when the windows of real
    /// send times allow it; otherwise the time to try again.
    pub fn admit(&self, endpoint: &str, now: Instant) -> Result<(), Instant> {
        let mut st = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let configured = st.endpoint_rps;
        let ep = st.endpoints.entry(endpoint.to_owned()).or_insert_with(|| Endpoint::new(configured));
        let at = ep.sent.earliest(now).max(st.global_sent.earliest(now));
        if at > now {
            return Err(at);
        }
        st.global_sent.record(now);
        if let Some(ep) = st.endpoints.get_mut(endpoint) {
            ep.sent.record(now);
        }
        Ok(())
    }

    /// Reserves the next slot for `endpoint` at or after `now` and returns it.
    pub fn reserve(&self, endpoint: &str, now: Instant) -> Instant {
        let mut st = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let endpoint_rps = st.endpoint_rps;
        let ep = st.endpoints.entry(endpoint.to_owned()).or_insert_with(|| Endpoint::new(endpoint_rps));
        let earliest = now.max(ep.next.unwrap_or(now));
        let ep_interval = interval(ep.rps);
        let slot = st.reserve_global(earliest, now);
        if let Some(ep) = st.endpoints.get_mut(endpoint) {
            ep.next = Some(slot + ep_interval);
        }
        slot
    }

    /// Slows `endpoint` down after a 429: a quarter off its rate, and waits out `retry_after`.
    pub fn on_rate_limited(&self, endpoint: &str, retry_after: Option<Duration>) {
        let mut st = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let configured = st.endpoint_rps;
        let ep = st.endpoints.entry(endpoint.to_owned()).or_insert_with(|| Endpoint::new(configured));
        if ep.rps.is_finite() && ep.rps > 0.0 {
            let floor = if configured > 0.0 { 1.0_f64.min(configured) } else { 1.0 };
            ep.rps = (ep.rps * AFTER_429).max(floor);
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

    fn micros(d: Duration) -> u64 {
        (d.as_nanos() as f64 / 1000.0).round() as u64
    }

    #[test]
    fn slots_are_spaced_per_endpoint_and_globally() {
        let lim = RateLimiter::new(100.0, 10.0);
        let (g, e) = (interval(100.0), interval(10.0));
        assert_eq!((micros(g), micros(e)), (10_150, 101_500), "a second plus the margin, per request");
        let now = Instant::now();
        let a: Vec<Duration> = (0..3).map(|_| lim.reserve("GET /v1/customers", now) - now).collect();
        assert_eq!(a, vec![Duration::ZERO, e, e * 2]);
        // Another endpoint takes the first free global slot, not a place behind the queue.
        let b = lim.reserve("GET /v1/charges", now) - now;
        assert_eq!(b, g);
        let c = lim.reserve("GET /v1/charges", now) - now;
        assert_eq!(c, g + e, "the endpoint's own interval applies");
    }

    #[test]
    fn booked_global_slots_stay_one_interval_apart() {
        let lim = RateLimiter::new(20.0, 5.0);
        let now = Instant::now();
        let us = |ep: &str| micros(lim.reserve(ep, now) - now);
        assert_eq!([us("A"), us("A"), us("A")], [0, 203_000, 406_000]);
        assert_eq!([us("B"), us("B")], [50_750, 253_750]);
        assert_eq!(us("C"), 101_500, "first gap of 50.75ms on both sides");
        assert_eq!(us("D"), 152_250);
        assert_eq!(us("E"), 304_500);
    }

    #[test]
    fn unlimited_when_zero() {
        let lim = RateLimiter::new(0.0, 0.0);
        let now = Instant::now();
        for _ in 0..5 {
            assert_eq!(lim.reserve("GET /v1/x", now), now);
            assert_eq!(lim.admit("GET /v1/x", now), Ok(()));
        }
    }

    #[test]
    fn a_429_slows_the_endpoint_by_a_quarter_and_five_successes_recover_it() {
        let lim = RateLimiter::new(100.0, 20.0);
        let ep = "GET /v1/customers";
        lim.on_rate_limited(ep, None);
        assert_eq!(lim.endpoint_rate(ep), 15.0, "not halved");
        for _ in 0..5 {
            lim.on_success(ep);
        }
        assert_eq!(lim.endpoint_rate(ep), 20.0, "the full rate is back after five successes");
        for _ in 0..20 {
            lim.on_rate_limited(ep, None);
        }
        assert_eq!(lim.endpoint_rate(ep), 1.0, "never below 1/s");
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
        assert_eq!(lim.endpoint_rate(ep), 18.75);
        let now = Instant::now();
        let gap = lim.reserve(ep, now);
        assert_eq!(lim.reserve(ep, now) - gap, interval(18.75), "18.75/s spacing");
        for _ in 0..200 {
            lim.on_success(ep);
        }
        assert_eq!(lim.endpoint_rate(ep), 0.0, "unlimited again");
    }

    /// Sixteen workers, each sending as soon as the limiter lets it after its
    /// previous answer (300 ms, plus up to 40 ms of jitter); wakeups are late by up
    /// to 15 ms and some answers are 429s. Simulated clock: no wall-time sleeps.
    #[test]
    fn no_one_second_window_ever_holds_more_than_the_budget() {
        let (budget, workers, seconds) = (25usize, 16usize, 60u64);
        let lim = RateLimiter::new(budget as f64, budget as f64);
        let ep = "GET /v1/charges";
        let t0 = Instant::now();
        let end = t0 + Duration::from_secs(seconds);
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move |max_ms: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            Duration::from_micros(rng % (max_ms * 1000 + 1))
        };
        // When each worker next asks the limiter.
        let mut ready: Vec<Instant> = vec![t0; workers];
        let mut sent: Vec<Instant> = Vec::new();
        loop {
            let (w, at) = ready.iter().copied().enumerate().min_by_key(|(_, t)| *t).unwrap();
            if at >= end {
                break;
            }
            // `acquire`: a slot, a late wakeup, then the window of real send times.
            let mut t = lim.reserve(ep, at).max(at) + next(15);
            while let Err(until) = lim.admit(ep, t) {
                t = until + next(15);
            }
            sent.push(t);
            if sent.len().is_multiple_of(97) {
                lim.on_rate_limited(ep, None);
            } else {
                lim.on_success(ep);
            }
            ready[w] = t + Duration::from_millis(300) + next(40);
        }
        sent.sort();
        for (i, pair) in sent.windows(budget + 1).enumerate() {
            let span = pair[budget] - pair[0];
            assert!(span >= Duration::from_secs(1), "{} sends within {span:?} from send {i}", budget + 1);
        }
        let rate = sent.len() as f64 / seconds as f64;
        assert!(rate >= 0.93 * budget as f64, "{rate:.1} requests/s of {budget}");
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

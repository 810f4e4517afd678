//! The emulator's rate limiters (429 past the budget), on a clock the caller
//! passes in: a token bucket (`bucket`: bursts up to one second's budget, then
//! the steady rate) or a strict sliding window (`sliding`: at most the budget in
//! any one second, as a proxy enforcing Stripe's limit would).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How the per-endpoint and global budgets are enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum RateWindow {
    /// Token bucket holding one second's budget (bursts allowed).
    #[default]
    Bucket,
    /// At most the budget in any window of one second (no burst).
    Sliding,
}

/// One budget's state.
#[derive(Debug)]
pub enum Limiter {
    /// Tokens left and when they were last counted.
    Bucket { tokens: f64, last: Instant },
    /// Times of the requests let through within the last second.
    Sliding(VecDeque<Instant>),
}

impl Limiter {
    /// A fresh limiter of `kind` allowing `rps` per second, as of `now`.
    pub fn new(kind: RateWindow, rps: f64, now: Instant) -> Self {
        match kind {
            RateWindow::Bucket => Limiter::Bucket { tokens: rps.max(1.0), last: now },
            RateWindow::Sliding => Limiter::Sliding(VecDeque::new()),
        }
    }

    /// Whether a request at `now` is within the budget (and counts it if so).
    pub fn take(&mut self, rps: f64, now: Instant) -> bool {
        match self {
            Limiter::Bucket { tokens, last } => {
                let cap = rps.max(1.0);
                *tokens = (*tokens + now.saturating_duration_since(*last).as_secs_f64() * rps).min(cap);
                *last = now;
                if *tokens >= 1.0 {
                    *tokens -= 1.0;
                    true
                } else {
                    false
                }
            }
            Limiter::Sliding(admitted) => {
                let window = Duration::from_secs(1);
                while admitted.front().is_some_and(|t| now.saturating_duration_since(*t) >= window) {
                    admitted.pop_front();
                }
                let limit = (rps.floor() as usize).max(1);
                if admitted.len() >= limit {
                    return false;
                }
                admitted.push_back(now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_a_burst_and_a_sliding_window_does_not_allow_more_than_the_budget_in_any_second() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        // 25/s: 25 at once pass both; the 26th in the same second only through the bucket
        // once it refilled a little.
        let mut bucket = Limiter::new(RateWindow::Bucket, 25.0, t0);
        let mut sliding = Limiter::new(RateWindow::Sliding, 25.0, t0);
        for i in 0..25 {
            assert!(bucket.take(25.0, ms(i)) && sliding.take(25.0, ms(i)));
        }
        assert!(bucket.take(25.0, ms(100)), "the bucket refilled 2.5 tokens");
        assert!(!sliding.take(25.0, ms(100)), "26 in one second");
        assert!(!sliding.take(25.0, ms(999)));
        assert!(sliding.take(25.0, ms(1000)), "the first left the window");
        assert!(!sliding.take(25.0, ms(1000)));
        // Evenly paced at the budget: every request passes.
        let mut paced = Limiter::new(RateWindow::Sliding, 25.0, t0);
        assert!((0..250).all(|i| paced.take(25.0, ms(10_000 + i * 40))));
        // One millisecond before the next paced slot: 26 in a second, refused.
        assert!(!paced.take(25.0, ms(10_000 + 250 * 40 - 1)));
        assert!(paced.take(25.0, ms(10_000 + 250 * 40)));
    }
}

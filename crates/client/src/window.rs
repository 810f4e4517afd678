//! A sliding window over send times: at most `limit` sends in any window of
//! `span`. Stripe counts requests per second in a strict window; the span is a
//! second plus a safety margin, so the jitter between sending a request and the
//! server counting it cannot put one request too many into any second.

use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;

/// The window's length: one second plus a 15 ms margin for jitter (measured
/// against the emulator's strict window: 0 answers of 429 with 15 ms).
pub const SPAN: Duration = Duration::from_millis(1_015);

/// Send times within the last [`SPAN`], oldest first.
#[derive(Debug, Clone)]
pub struct SendWindow {
    limit: usize,
    sent: VecDeque<Instant>,
}

impl SendWindow {
    /// A window allowing `rps` sends per second (rounded down, at least one);
    /// zero, negative or infinite: unlimited.
    pub fn new(rps: f64) -> Self {
        let limit = if rps.is_finite() && rps > 0.0 { (rps.floor() as usize).max(1) } else { 0 };
        SendWindow { limit, sent: VecDeque::new() }
    }

    /// The earliest time at or after `now` a send keeps every window within the limit.
    pub fn earliest(&self, now: Instant) -> Instant {
        if self.limit == 0 || self.sent.len() < self.limit {
            return now;
        }
        now.max(self.sent[self.sent.len() - self.limit] + SPAN)
    }

    /// Records a send at `at` (not before the last recorded one) and forgets
    /// sends that no longer matter.
    pub fn record(&mut self, at: Instant) {
        if self.limit == 0 {
            return;
        }
        let at = self.sent.back().map_or(at, |last| at.max(*last));
        self.sent.push_back(at);
        while self.sent.len() > self.limit || self.sent.front().is_some_and(|t| *t + SPAN <= at) {
            self.sent.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_send_waits_for_the_oldest_of_the_window_to_leave_it() {
        let t0 = Instant::now();
        let mut w = SendWindow::new(3.0);
        for ms in [0, 10, 20] {
            let at = t0 + Duration::from_millis(ms);
            assert_eq!(w.earliest(at), at);
            w.record(at);
        }
        assert_eq!(w.earliest(t0 + Duration::from_millis(30)), t0 + SPAN);
        w.record(t0 + SPAN);
        assert_eq!(w.earliest(t0 + SPAN), t0 + SPAN + Duration::from_millis(10));
        assert_eq!(SendWindow::new(0.0).earliest(t0), t0, "unlimited");
    }
}

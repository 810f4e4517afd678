//! The calls-per-window budget of a watch (`--max-calls-per-minute`, for the
//! seed connectors' "100 calls per 60 s"). It is enforced by the client's
//! limiter: calls are spaced at least `window / calls` apart (with a 5% margin
//! for timer jitter), which keeps every window of that length within budget
//! however many calls one poll needs. Polls simply wait for their slots.

use std::time::{Duration, SystemTime};

use crate::stripe::LogEntry;

/// At most `calls` API calls in any window of length `per`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallBudget {
    /// Calls allowed per window.
    pub calls: u32,
    /// The window.
    pub per: Duration,
}

/// Share of the budget the limiter is set to, leaving room for timer jitter.
const MARGIN: f64 = 0.95;

impl CallBudget {
    /// `calls` per minute.
    pub fn per_minute(calls: u32) -> Self {
        CallBudget { calls, per: Duration::from_secs(60) }
    }

    /// The steady request rate (requests/second) that keeps to the budget.
    pub fn rps(&self) -> f64 {
        f64::from(self.calls) / self.per.as_secs_f64().max(1e-3) * MARGIN
    }

    /// A client rate limit (`max_rps`, 0 = unlimited) tightened to this budget.
    pub fn limit(&self, max_rps: f64) -> f64 {
        if max_rps > 0.0 { max_rps.min(self.rps()) } else { self.rps() }
    }
}

/// The most calls sent in any window of length `per` (from the request log).
pub fn busiest_window(entries: &[LogEntry], per: Duration) -> usize {
    let mut times: Vec<SystemTime> = entries.iter().map(|e| e.sent_at).collect();
    times.sort();
    let mut best = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end].duration_since(times[start]).unwrap_or_default() >= per {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

/// Calls sent within `per` before `now`.
pub fn calls_in_last(entries: &[LogEntry], per: Duration, now: SystemTime) -> usize {
    entries.iter().filter(|e| now.duration_since(e.sent_at).is_ok_and(|age| age < per)).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> LogEntry {
        LogEntry {
            seq: 0,
            method: "GET".into(),
            path: "/v1/charges".into(),
            params: vec![],
            status: Some(200),
            attempt: 1,
            duration: Duration::ZERO,
            error: None,
            idempotency_key: false,
            cached: false,
            sent_at: SystemTime::UNIX_EPOCH + Duration::from_millis(ms),
            account: None,
        }
    }

    #[test]
    fn the_rate_keeps_a_minute_under_budget() {
        let b = CallBudget::per_minute(100);
        assert!((b.rps() - 100.0 / 60.0 * 0.95).abs() < 1e-9);
        assert_eq!(b.limit(25.0), b.rps());
        assert_eq!(b.limit(0.0), b.rps());
        assert_eq!(b.limit(1.0), 1.0);
    }

    #[test]
    fn counts_the_busiest_window() {
        let log: Vec<LogEntry> = [0, 100, 900, 1000, 1500, 2600].into_iter().map(at).collect();
        assert_eq!(busiest_window(&log, Duration::from_secs(1)), 3);
        assert_eq!(busiest_window(&log, Duration::from_millis(100)), 1);
        assert_eq!(busiest_window(&log, Duration::from_secs(10)), 6);
        assert_eq!(busiest_window(&[], Duration::from_secs(1)), 0);
        let now = SystemTime::UNIX_EPOCH + Duration::from_millis(2000);
        assert_eq!(calls_in_last(&log, Duration::from_secs(1), now), 1);
    }
}

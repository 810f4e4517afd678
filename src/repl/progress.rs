//! A one-line progress display on the error stream while a statement waits for
//! Stripe: API requests so far (one per page of a scan), requests per second
//! and elapsed time. Shown only on a terminal, only after a short delay (quick
//! statements print nothing), and erased when the statement ends.

use std::io::Write;
use std::time::{Duration, Instant};

/// How long a statement runs before progress appears.
pub(crate) const DELAY: Duration = Duration::from_millis(500);
/// How often the line is redrawn.
pub(crate) const INTERVAL: Duration = Duration::from_millis(200);

/// The progress line of one running statement.
pub(crate) struct Progress {
    started: Instant,
    shown: bool,
}

impl Progress {
    /// Starts timing a statement.
    pub fn start() -> Self {
        Self { started: Instant::now(), shown: false }
    }

    /// Redraws the line with `requests` made so far (nothing before [`DELAY`]).
    pub fn tick(&mut self, requests: usize, err: &mut dyn Write) {
        let elapsed = self.started.elapsed();
        if elapsed < DELAY {
            return;
        }
        let _ = write!(err, "\r\x1b[K{}", line(requests, elapsed));
        let _ = err.flush();
        self.shown = true;
    }

    /// Erases the line, if it was drawn.
    pub fn clear(&mut self, err: &mut dyn Write) {
        if self.shown {
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
            self.shown = false;
        }
    }
}

/// `12 API requests (8.0/s), 1.5s elapsed`.
pub(crate) fn line(requests: usize, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 { requests as f64 / secs } else { 0.0 };
    let noun = if requests == 1 { "request" } else { "requests" };
    format!("{requests} API {noun} ({rate:.1}/s), {secs:.1}s elapsed; Ctrl-C cancels")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_shows_requests_rate_and_elapsed() {
        assert_eq!(line(12, Duration::from_millis(1500)), "12 API requests (8.0/s), 1.5s elapsed; Ctrl-C cancels");
        assert_eq!(line(1, Duration::from_secs(2)), "1 API request (0.5/s), 2.0s elapsed; Ctrl-C cancels");
    }

    #[test]
    fn nothing_is_drawn_before_the_delay_and_clear_erases_what_was() {
        let mut out = Vec::new();
        let mut progress = Progress::start();
        progress.tick(3, &mut out);
        progress.clear(&mut out);
        assert!(out.is_empty());
        progress.started -= DELAY;
        progress.tick(3, &mut out);
        progress.clear(&mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("\r\x1b[K3 API requests (") && text.ends_with("\r\x1b[K"), "{text:?}");
    }
}

//! The request log: one entry per HTTP attempt (and one per response served
//! from the cache, marked `cached`), kept for the session.
//!
//! Shared by every clone of the client (an `Arc`), so tests and the REPL's `\requests` can
//! see exactly which calls were made. Entries hold the encoded parameters (the key travels in
//! a header and is never part of them) and whether an `Idempotency-Key` was sent, not the
//! key value itself.

use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One HTTP attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    /// Position in the log, from 0.
    pub seq: u64,
    /// HTTP method, upper case.
    pub method: String,
    /// Request path without the query string, e.g. `/v1/customers`.
    pub path: String,
    /// Query (GET/DELETE) or form body (POST) parameters, as encoded pairs.
    pub params: Vec<(String, String)>,
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// Attempt number for this logical call, from 1.
    pub attempt: u32,
    /// Time from sending to the end of the response body.
    pub duration: Duration,
    /// Error message when the attempt failed.
    pub error: Option<String>,
    /// Whether the request carried an `Idempotency-Key`.
    pub idempotency_key: bool,
    /// Wall-clock time the attempt was sent (after any wait for the rate limiter), so
    /// the calls made in any time window can be counted.
    pub sent_at: std::time::SystemTime,
    /// Whether the response came from the client's cache (no HTTP request was made).
    pub cached: bool,
}

impl LogEntry {
    /// The value of parameter `name`, if sent (first occurrence).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Shared, append-only list of [`LogEntry`]; clones see the same entries.
#[derive(Debug, Clone, Default)]
pub struct RequestLog {
    entries: Arc<Mutex<Vec<LogEntry>>>,
}

impl RequestLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an entry; its `seq` is assigned here and returned.
    pub fn push(&self, mut entry: LogEntry) -> u64 {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entry.seq = entries.len() as u64;
        let seq = entry.seq;
        entries.push(entry);
        seq
    }

    /// A copy of every entry so far.
    pub fn entries(&self) -> Vec<LogEntry> {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Number of entries; also the `seq` the next entry will get.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// True when nothing was logged yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries with `seq >= seq` (take `len()` before an operation, then `since` it).
    pub fn since(&self, seq: u64) -> Vec<LogEntry> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.iter().skip(seq as usize).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> LogEntry {
        LogEntry {
            seq: 99,
            method: "GET".into(),
            path: path.into(),
            params: vec![("limit".into(), "10".into())],
            status: Some(200),
            attempt: 1,
            duration: Duration::from_millis(3),
            error: None,
            idempotency_key: false,
            sent_at: std::time::SystemTime::UNIX_EPOCH,
            cached: false,
        }
    }

    #[test]
    fn clones_share_entries_and_seq_is_assigned() {
        let log = RequestLog::new();
        let other = log.clone();
        assert_eq!(log.push(entry("/v1/a")), 0);
        assert_eq!(other.push(entry("/v1/b")), 1);
        let mark = log.len() as u64;
        other.push(entry("/v1/c"));
        assert_eq!(log.len(), 3);
        let new: Vec<String> = log.since(mark).into_iter().map(|e| e.path).collect();
        assert_eq!(new, vec!["/v1/c"]);
        assert_eq!(log.entries()[1].seq, 1);
        assert_eq!(log.entries()[0].param("limit"), Some("10"));
    }
}

//! The request log: one entry per HTTP attempt (and one per response served
//! from the cache, marked `cached`), kept as a ring of the most recent entries.
//!
//! Shared by every clone of the client (an `Arc`) unless a clone is given a log
//! of its own ([`super::Client::with_request_log`]: each `serve` connection
//! has one), so tests and the REPL's `\requests` can see exactly which calls
//! were made. Entries hold the encoded parameters (the key travels in a header
//! and is never part of them) and whether an `Idempotency-Key` was sent, not
//! the key value itself.
//!
//! The log is bounded: a process that runs for months (`serve`, `watch`, `sync`)
//! keeps the last [`DEFAULT_CAPACITY`] entries and counts the ones it dropped.
//! Sequence numbers keep counting across drops, so a mark taken with
//! [`RequestLog::len`] (entries logged so far) stays valid.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Entries kept by default. A list page or retrieve is one entry of ~300 bytes,
/// so the log holds at most a few MB; 10,000 entries is the whole of a split scan
/// of a million objects (100 per page), so one statement's calls stay visible in
/// `stripe_last_requests()` for any table a person would scan live.
pub const DEFAULT_CAPACITY: usize = 10_000;

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
    /// The connected account the call was made as (`Stripe-Account`), if any.
    pub account: Option<String>,
}

impl LogEntry {
    /// The value of parameter `name`, if sent (first occurrence).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A shared ring of [`LogEntry`]; clones see the same entries.
#[derive(Debug, Clone)]
pub struct RequestLog {
    inner: Arc<Mutex<Ring>>,
}

#[derive(Debug)]
struct Ring {
    entries: VecDeque<LogEntry>,
    capacity: usize,
    /// The `seq` the next entry gets (= entries ever pushed).
    next_seq: u64,
}

impl Default for RequestLog {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl RequestLog {
    /// An empty log keeping [`DEFAULT_CAPACITY`] entries.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty log keeping the last `capacity` entries (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        let ring = Ring { entries: VecDeque::new(), capacity, next_seq: 0 };
        Self { inner: Arc::new(Mutex::new(ring)) }
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends an entry (dropping the oldest when full); its `seq` is assigned
    /// here and returned.
    pub fn push(&self, mut entry: LogEntry) -> u64 {
        let mut ring = self.ring();
        entry.seq = ring.next_seq;
        ring.next_seq += 1;
        if ring.entries.len() == ring.capacity {
            ring.entries.pop_front();
        }
        ring.entries.push_back(entry);
        ring.next_seq - 1
    }

    /// A copy of every entry still kept.
    pub fn entries(&self) -> Vec<LogEntry> {
        self.ring().entries.iter().cloned().collect()
    }

    /// Number of entries logged so far, the dropped ones included; also the
    /// `seq` the next entry will get, so a mark for [`RequestLog::since`].
    pub fn len(&self) -> usize {
        self.ring().next_seq as usize
    }

    /// True when nothing was logged yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of entries kept now (at most the capacity).
    pub fn kept(&self) -> usize {
        self.ring().entries.len()
    }

    /// Entries dropped so far to stay within the capacity.
    pub fn dropped(&self) -> u64 {
        let ring = self.ring();
        ring.next_seq - ring.entries.len() as u64
    }

    /// How many entries the log keeps.
    pub fn capacity(&self) -> usize {
        self.ring().capacity
    }

    /// Changes how many entries are kept, dropping the oldest beyond it.
    pub fn set_capacity(&self, capacity: usize) {
        let mut ring = self.ring();
        ring.capacity = capacity.max(1);
        while ring.entries.len() > ring.capacity {
            ring.entries.pop_front();
        }
        let capacity = ring.capacity;
        ring.entries.shrink_to(capacity);
    }

    /// Kept entries with `seq >= seq` (take [`RequestLog::len`] before an
    /// operation, then `since` it).
    pub fn since(&self, seq: u64) -> Vec<LogEntry> {
        let ring = self.ring();
        let first = ring.entries.front().map_or(ring.next_seq, |e| e.seq);
        let skip = seq.saturating_sub(first) as usize;
        ring.entries.iter().skip(skip).cloned().collect()
    }

    /// Kept entries with `start <= seq < end`, and how many of that range were
    /// dropped before they could be read.
    pub fn range(&self, start: u64, end: u64) -> (Vec<LogEntry>, u64) {
        let ring = self.ring();
        let first = ring.entries.front().map_or(ring.next_seq, |e| e.seq);
        let lost = first.clamp(start, end.max(start)) - start;
        let kept = ring.entries.iter().filter(|e| e.seq >= start && e.seq < end).cloned().collect();
        (kept, lost)
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
            account: None,
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

    #[test]
    fn a_full_log_drops_its_oldest_entries_and_counts_them() {
        let log = RequestLog::with_capacity(3);
        for i in 0..5 {
            assert_eq!(log.push(entry(&format!("/v1/{i}"))), i);
        }
        assert_eq!((log.kept(), log.dropped(), log.len()), (3, 2, 5));
        let seqs: Vec<u64> = log.entries().iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![2, 3, 4]);
        // A mark from before the drops still finds what is left after it.
        assert_eq!(log.since(1).len(), 3);
        assert_eq!(log.since(4).len(), 1);
        assert_eq!(log.since(9).len(), 0);
        let (kept, lost) = log.range(0, 4);
        assert_eq!((kept.len(), lost), (2, 2));
        let (kept, lost) = log.range(3, 5);
        assert_eq!((kept.len(), lost), (2, 0));
        log.set_capacity(1);
        assert_eq!((log.kept(), log.dropped()), (1, 4));
        assert_eq!(log.entries()[0].path, "/v1/4");
    }

    #[test]
    fn memory_stays_bounded_over_many_entries() {
        let log = RequestLog::with_capacity(100);
        for i in 0..10_000 {
            log.push(entry(&format!("/v1/{i}")));
        }
        assert_eq!(log.kept(), 100);
        assert_eq!(log.dropped(), 9_900);
        assert!(log.ring().entries.capacity() < 256, "ring grew past its bound");
    }
}

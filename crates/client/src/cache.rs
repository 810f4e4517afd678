//! The response cache: GET response bodies (list pages and retrieves) kept for a
//! time-to-live chosen per call, keyed by the full request (method, path and
//! encoded params), shared by every clone of the client.
//!
//! Any write or action (POST, DELETE) through the client empties the whole
//! cache, not only the written resource's entries: Stripe writes change other
//! resources too (a refund updates its charge, capturing a payment intent
//! creates a charge, paying an invoice updates its payment intent), so a
//! per-resource invalidation would serve stale rows. A generation counter keeps
//! a read that started before a write from storing its pre-write answer.
//! The cache is bounded ([`MAX_ENTRIES`]): it is for repeated interactive
//! queries, not a copy of the account.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;

/// Most responses kept at once; beyond it, new responses are not cached.
pub const MAX_ENTRIES: usize = 512;

#[derive(Debug, Default)]
struct State {
    entries: HashMap<String, (Instant, Bytes)>,
    generation: u64,
}

/// A shared, bounded cache of GET responses.
#[derive(Debug, Default)]
pub struct ResponseCache {
    state: Mutex<State>,
}

impl ResponseCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The response body stored for `key` less than `ttl` ago, if any.
    pub fn get(&self, key: &str, ttl: Duration, now: Instant) -> Option<Bytes> {
        let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (stored, value) = st.entries.get(key)?;
        (now.saturating_duration_since(*stored) < ttl).then(|| value.clone())
    }

    /// The current generation; pass it to [`ResponseCache::put`] with the
    /// response of a request that started now.
    pub fn generation(&self) -> u64 {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).generation
    }

    /// Stores `value` for `key`, unless a write happened since `generation`
    /// was read (the value may predate it) or the cache is full of live entries.
    pub fn put(&self, key: String, value: Bytes, generation: u64, ttl: Duration, now: Instant) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.generation != generation {
            return;
        }
        if st.entries.len() >= MAX_ENTRIES && !st.entries.contains_key(&key) {
            st.entries.retain(|_, (stored, _)| now.saturating_duration_since(*stored) < ttl);
            if st.entries.len() >= MAX_ENTRIES {
                return;
            }
        }
        st.entries.insert(key, (now, value));
    }

    /// Drops every entry (after a write, or `\cache clear`).
    pub fn clear(&self) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.entries.clear();
        st.generation += 1;
    }

    /// Number of entries (live or expired).
    pub fn len(&self) -> usize {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).entries.len()
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Told about each call a client clone makes (e.g. a scan's EXPLAIN ANALYZE metrics).
pub trait CallObserver: Send + Sync + std::fmt::Debug {
    /// A request went to the API (counted once per attempt).
    fn on_request(&self);
    /// A response was served from the cache.
    fn on_cache_hit(&self);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Bytes {
        Bytes::copy_from_slice(text.as_bytes())
    }

    #[test]
    fn entries_live_for_their_ttl() {
        let cache = ResponseCache::new();
        let t0 = Instant::now();
        let ttl = Duration::from_secs(30);
        cache.put("GET /v1/charges?limit=10".into(), json(r#"{"data": []}"#), cache.generation(), ttl, t0);
        assert_eq!(
            cache.get("GET /v1/charges?limit=10", ttl, t0 + Duration::from_secs(29)),
            Some(json(r#"{"data": []}"#))
        );
        assert_eq!(cache.get("GET /v1/charges?limit=10", ttl, t0 + Duration::from_secs(30)), None);
        assert_eq!(cache.get("GET /v1/charges?limit=11", ttl, t0), None, "other params are another entry");
        assert_eq!(cache.get("GET /v1/charges?limit=10", Duration::ZERO, t0), None, "a zero ttl never hits");
    }

    #[test]
    fn a_write_empties_the_cache_and_refuses_older_reads() {
        let cache = ResponseCache::new();
        let now = Instant::now();
        let ttl = Duration::from_secs(30);
        let before_write = cache.generation();
        cache.put("a".into(), json("1"), before_write, ttl, now);
        cache.clear();
        assert!(cache.is_empty());
        cache.put("b".into(), json("2"), before_write, ttl, now);
        assert_eq!(cache.get("b", ttl, now), None, "a read that started before the write is not stored");
        cache.put("b".into(), json("3"), cache.generation(), ttl, now);
        assert_eq!(cache.get("b", ttl, now), Some(json("3")));
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = ResponseCache::new();
        let now = Instant::now();
        let ttl = Duration::from_secs(30);
        for i in 0..MAX_ENTRIES + 10 {
            cache.put(format!("k{i}"), json(&i.to_string()), cache.generation(), ttl, now);
        }
        assert_eq!(cache.len(), MAX_ENTRIES);
        // Expired entries make room.
        cache.put("late".into(), json("0"), cache.generation(), ttl, now + ttl);
        assert_eq!(cache.get("late", ttl, now + ttl), Some(json("0")));
    }
}

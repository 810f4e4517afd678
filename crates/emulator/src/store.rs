//! The emulator's state: one collection per resource, each ordered by
//! (created, insertion sequence) so lists are newest first with a stable tie-break,
//! plus the id generator and clock.

use super::errors::{ApiError, ApiResult};
use super::rng::Rng;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// One stored object with its wire JSON, serialized once on first read.
#[derive(Debug)]
struct Entry {
    key: Key,
    value: Value,
    json: OnceLock<Arc<str>>,
}

impl Entry {
    fn new(key: Key, value: Value) -> Self {
        Entry { key, value, json: OnceLock::new() }
    }
}

/// Sort key of one object: (created, insertion sequence).
pub type Key = (i64, u64);

/// Objects of one resource.
#[derive(Debug, Default)]
pub struct Collection {
    /// Ascending by key; lists walk it backwards.
    pub order: Vec<(Key, String)>,
    objects: HashMap<String, Entry>,
}

impl Collection {
    /// Number of objects.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The object with this id.
    pub fn get(&self, id: &str) -> Option<&Value> {
        self.objects.get(id).map(|e| &e.value)
    }

    /// The sort key of an id.
    pub fn key(&self, id: &str) -> Option<Key> {
        self.objects.get(id).map(|e| e.key)
    }

    /// The object at an index of `order`.
    pub fn at(&self, idx: usize) -> &Value {
        &self.objects[&self.order[idx].1].value
    }

    /// The wire JSON (hidden fields removed) of the object at an index of `order`,
    /// serialized once and cached until the object changes.
    pub fn json_at(&self, idx: usize) -> Arc<str> {
        let e = &self.objects[&self.order[idx].1];
        e.json
            .get_or_init(|| {
                let v = crate::events::strip_hidden(&e.value);
                Arc::from(serde_json::to_string(&v).unwrap_or_default())
            })
            .clone()
    }

    fn insert(&mut self, key: Key, id: String, obj: Value) {
        let pos = if self.order.last().is_none_or(|(k, _)| *k < key) {
            self.order.len()
        } else {
            self.order.partition_point(|(k, _)| *k < key)
        };
        self.order.insert(pos, (key, id.clone()));
        self.objects.insert(id, Entry::new(key, obj));
    }

    fn remove(&mut self, id: &str) -> Option<Value> {
        let Entry { key, value: obj, .. } = self.objects.remove(id)?;
        let pos = self.order.partition_point(|(k, _)| *k < key);
        if self.order.get(pos).is_some_and(|(_, i)| i == id) {
            self.order.remove(pos);
        }
        Some(obj)
    }

    /// First index whose key is >= `key`.
    pub fn lower_bound(&self, key: Key) -> usize {
        self.order.partition_point(|(k, _)| *k < key)
    }

    /// Every object, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Value> {
        self.order.iter().map(|(_, id)| &self.objects[id].value)
    }
}

/// The whole fake account.
#[derive(Debug)]
pub struct State {
    collections: HashMap<String, Collection>,
    seq: u64,
    ids: Rng,
    /// Fixed clock (demo generation); the real clock when `None`.
    pub fixed_now: Option<i64>,
    /// Whether writes append events (off while generating old demo data).
    pub events_enabled: bool,
    /// Request id and idempotency key of the request being served (for events).
    pub current_request: Option<(String, Option<String>)>,
    /// Balance transaction id -> payout that paid it out (`balance_transactions?payout=`).
    pub payout_of_txn: HashMap<String, String>,
    /// Invoice number sequence per customer prefix.
    pub invoice_seq: u64,
    /// How many of the next events to hold back (a test control for events
    /// that become listable after their `created` second).
    pub hold_next_events: usize,
    /// Events held back: not listable until released.
    pub held_events: Vec<(i64, Value)>,
}

impl State {
    /// An empty account whose ids derive from `seed`.
    pub fn new(seed: u64) -> Self {
        State {
            collections: HashMap::new(),
            seq: 0,
            ids: Rng::new(seed.wrapping_mul(31).wrapping_add(1)),
            fixed_now: None,
            events_enabled: true,
            current_request: None,
            payout_of_txn: HashMap::new(),
            invoice_seq: 0,
            hold_next_events: 0,
            held_events: Vec::new(),
        }
    }

    /// Current unix time (seconds).
    pub fn now(&self) -> i64 {
        self.fixed_now.unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
        })
    }

    /// `created` of the oldest object of any resource.
    pub fn oldest_created(&self) -> Option<i64> {
        self.collections.values().filter_map(|c| c.iter().next()?["created"].as_i64()).min()
    }

    /// A fresh id: `prefix` + `_` + 24 deterministic base-62 characters.
    pub fn new_id(&mut self, prefix: &str) -> String {
        format!("{prefix}_{}", self.ids.base62(24))
    }

    /// Random characters from the id stream (secrets, fingerprints, coupon ids).
    pub fn random(&mut self, len: usize) -> String {
        self.ids.base62(len)
    }

    /// The collection of a resource (empty if none yet).
    pub fn col(&self, resource: &str) -> Option<&Collection> {
        self.collections.get(resource)
    }

    /// Number of objects of a resource.
    pub fn count(&self, resource: &str) -> usize {
        self.collections.get(resource).map_or(0, Collection::len)
    }

    /// An object by id.
    pub fn get(&self, resource: &str, id: &str) -> Option<&Value> {
        self.collections.get(resource)?.get(id)
    }

    /// An object by id, or Stripe's 404 naming `object`.
    pub fn require(&self, resource: &str, object: &str, id: &str, param: &str) -> ApiResult<Value> {
        self.get(resource, id).cloned().ok_or_else(|| ApiError::no_such(object, id, param))
    }

    /// Stores a new object under its `id`, ordered by `created`.
    pub fn insert(&mut self, resource: &str, created: i64, obj: Value) {
        self.seq += 1;
        let id = obj["id"].as_str().unwrap_or_default().to_string();
        self.collections.entry(resource.to_string()).or_default().insert((created, self.seq), id, obj);
    }

    /// Replaces an existing object (keeps its position).
    pub fn replace(&mut self, resource: &str, obj: Value) {
        let id = obj["id"].as_str().unwrap_or_default().to_string();
        if let Some(slot) = self.collections.get_mut(resource).and_then(|c| c.objects.get_mut(&id)) {
            slot.value = obj;
            slot.json = OnceLock::new();
        }
    }

    /// Mutable access to one object's fields.
    pub fn get_mut(&mut self, resource: &str, id: &str) -> Option<&mut Map<String, Value>> {
        let e = self.collections.get_mut(resource)?.objects.get_mut(id)?;
        e.json = OnceLock::new();
        e.value.as_object_mut()
    }

    /// Removes an object.
    pub fn remove(&mut self, resource: &str, id: &str) -> Option<Value> {
        self.collections.get_mut(resource)?.remove(id)
    }

    /// Objects of a resource matching `pred` (a full scan, for side effects and tests).
    pub fn find(&self, resource: &str, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
        self.collections.get(resource).map_or(vec![], |c| c.iter().filter(|v| pred(v)).cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn order_is_by_created_then_insertion() {
        let mut s = State::new(1);
        s.insert("x", 10, json!({"id": "a"}));
        s.insert("x", 5, json!({"id": "b"}));
        s.insert("x", 10, json!({"id": "c"}));
        let ids: Vec<&str> = s.col("x").unwrap().iter().map(|v| v["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["b", "a", "c"]);
        s.remove("x", "a");
        assert_eq!(s.count("x"), 2);
        assert!(s.get("x", "a").is_none());
        assert_ne!(s.new_id("cus"), s.new_id("cus"));
    }
}

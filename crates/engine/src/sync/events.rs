//! The Events API as the mirror reads it: every event since a second, put in
//! `created` order (Stripe lists newest first, ids are unordered), and the
//! pure decision of what each touched row becomes. An event's object is used
//! as the row only when nothing can be newer than it; otherwise the object is
//! retrieved: another API version's shape, a nested list cut short, several
//! events for the object in one second (their order is unknown), or an event
//! that became listable after newer ones were applied.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::Result;
use crate::mirror::state::EventCursor;
use crate::stripe;

/// One event, as the mirror needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `evt_...`.
    pub id: String,
    /// Unix seconds.
    pub created: i64,
    /// `charge.refunded`, `customer.deleted`, ...
    pub kind: String,
    /// The API version the object is shaped by.
    pub api_version: Option<String>,
    /// `data.object`.
    pub object: Value,
}

impl Event {
    /// Reads the fields the mirror uses from an event object.
    pub fn from_json(v: &Value) -> Option<Event> {
        Some(Event {
            id: v.get("id")?.as_str()?.to_string(),
            created: v.get("created")?.as_i64()?,
            kind: v.get("type")?.as_str()?.to_string(),
            api_version: v.get("api_version").and_then(Value::as_str).map(String::from),
            object: v.get("data")?.get("object")?.clone(),
        })
    }

    /// The object's type (`charge`).
    pub fn object_type(&self) -> &str {
        self.object.get("object").and_then(Value::as_str).unwrap_or("")
    }

    /// The object's id.
    pub fn object_id(&self) -> &str {
        self.object.get("id").and_then(Value::as_str).unwrap_or("")
    }

    /// Whether the event removes its object from the list (`*.deleted`, or a
    /// deleted stub).
    pub fn removes(&self) -> bool {
        self.kind.ends_with(".deleted") || self.object.get("deleted").and_then(Value::as_bool) == Some(true)
    }
}

/// Every event created at or after `since`, oldest first (same-second events in
/// the order they happened: Stripe lists newest first).
pub async fn fetch(client: &stripe::Client, since: i64) -> Result<Vec<Event>> {
    use futures::StreamExt;
    let query = json!({"limit": 100, "created": {"gte": since}});
    let mut pages = client.list("/v1/events", query);
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        out.extend(page?.data.iter().filter_map(Event::from_json));
    }
    out.reverse();
    out.sort_by_key(|e| e.created);
    Ok(out)
}

/// What one touched row becomes.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// The event's object is the row.
    Upsert(Value),
    /// Fetch the object (404: remove the row).
    Retrieve,
    /// Remove the row.
    Delete,
}

/// Whether `v` holds a nested list Stripe cut short (`has_more: true`).
pub fn has_truncated_list(v: &Value) -> bool {
    match v {
        Value::Object(m) => {
            (m.get("object").and_then(Value::as_str) == Some("list")
                && m.get("has_more").and_then(Value::as_bool) == Some(true))
                || m.values().any(has_truncated_list)
        }
        Value::Array(a) => a.iter().any(has_truncated_list),
        _ => false,
    }
}

/// The events (oldest first) about objects of `object_type` that `cursor` has
/// not applied.
pub fn pending<'a>(events: &'a [Event], object_type: &str, cursor: &EventCursor, lag: i64) -> Vec<&'a Event> {
    events.iter().filter(|e| e.object_type() == object_type && !cursor.applied(&e.id, e.created, lag)).collect()
}

/// The change per object id (in first-touched order) that `pending` events
/// make, given the cursor before them and the API version rows are shaped by.
pub fn changes(pending: &[&Event], cursor: &EventCursor, api_version: &str) -> Vec<(String, Change)> {
    let mut order: Vec<&str> = Vec::new();
    let mut by_object: HashMap<&str, Vec<&Event>> = HashMap::new();
    for e in pending {
        let id = e.object_id();
        if id.is_empty() {
            continue;
        }
        let list = by_object.entry(id).or_default();
        if list.is_empty() {
            order.push(id);
        }
        list.push(e);
    }
    order
        .into_iter()
        .map(|id| {
            let list = &by_object[id];
            let last = list[list.len() - 1];
            let change = if last.removes() {
                Change::Delete
            } else {
                let same_second = list.iter().filter(|e| e.created == last.created).count() > 1;
                let late = cursor.cursor > 0 && last.created <= cursor.cursor;
                let other_shape = last.api_version.as_deref().is_some_and(|v| v != api_version);
                if same_second || late || other_shape || has_truncated_list(&last.object) {
                    Change::Retrieve
                } else {
                    Change::Upsert(last.object.clone())
                }
            };
            (id.to_string(), change)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: &str, created: i64, kind: &str, object: Value) -> Event {
        Event { id: id.into(), created, kind: kind.into(), api_version: Some("v1".into()), object }
    }

    #[test]
    fn the_newest_event_per_object_decides_and_doubt_means_retrieve() {
        let cursor = EventCursor { cursor: 100, ..Default::default() };
        let a1 = ev("e1", 101, "customer.updated", json!({"object": "customer", "id": "a", "n": 1}));
        let a2 = ev("e2", 102, "customer.updated", json!({"object": "customer", "id": "a", "n": 2}));
        let b1 = ev("e3", 103, "customer.updated", json!({"object": "customer", "id": "b"}));
        let b2 = ev("e4", 103, "customer.updated", json!({"object": "customer", "id": "b"}));
        let c = ev("e5", 104, "customer.deleted", json!({"object": "customer", "id": "c", "deleted": true}));
        let late = ev("e6", 99, "customer.updated", json!({"object": "customer", "id": "d"}));
        let mut cut = ev("e7", 105, "customer.updated", json!({"object": "customer", "id": "e"}));
        cut.object["sources"] = json!({"object": "list", "has_more": true, "data": []});
        let mut old = ev("e8", 106, "customer.updated", json!({"object": "customer", "id": "f"}));
        old.api_version = Some("v0".into());
        let other = ev("e9", 106, "charge.updated", json!({"object": "charge", "id": "ch"}));
        let all = [late, a1, a2, b1, b2, c, cut, old, other];
        let p = pending(&all, "customer", &cursor, 60);
        assert_eq!(p.len(), 8);
        let got = changes(&p, &cursor, "v1");
        let expect = vec![
            ("d".to_string(), Change::Retrieve),
            ("a".to_string(), Change::Upsert(json!({"object": "customer", "id": "a", "n": 2}))),
            ("b".to_string(), Change::Retrieve),
            ("c".to_string(), Change::Delete),
            ("e".to_string(), Change::Retrieve),
            ("f".to_string(), Change::Retrieve),
        ];
        assert_eq!(got, expect);
    }
}

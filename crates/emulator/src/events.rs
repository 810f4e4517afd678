//! Events: every create, update, delete and state change that Stripe reports appends one, carrying the
//! object (and the previous values of changed fields on updates).

use super::store::State;
use serde_json::{Map, Value, json};

/// API version stamped on events (the catalog's version).
pub const API_VERSION: &str = "2023-08-16";

/// Appends an event of type `kind` about `object`.
pub fn emit(state: &mut State, kind: &str, object: &Value, previous: Option<Value>) {
    // Stripe has no event for some changes (`charge.created`, anything on
    // balance transactions): none is made up.
    if !state.events_enabled || !is_stripe_event_type(kind) {
        return;
    }
    let now = state.now();
    let id = state.new_id("evt");
    let mut data = Map::new();
    data.insert("object".into(), strip_hidden(object));
    if let Some(p) = previous {
        data.insert("previous_attributes".into(), p);
    }
    let (req_id, idem) = state.current_request.clone().unwrap_or_default();
    let request = if req_id.is_empty() {
        json!({"id": null, "idempotency_key": null})
    } else {
        json!({"id": req_id, "idempotency_key": idem})
    };
    let event = json!({
        "id": id, "object": "event", "account": null, "api_version": API_VERSION, "created": now,
        "data": data, "livemode": false, "pending_webhooks": 0, "request": request, "type": kind,
    });
    if state.hold_next_events > 0 {
        state.hold_next_events -= 1;
        state.held_events.push((now, event));
    } else {
        state.insert("events", now, event);
    }
}

/// A copy without the emulator's internal `_` fields.
pub fn strip_hidden(v: &Value) -> Value {
    match v {
        Value::Object(m) if m.keys().any(|k| k.starts_with('_')) => {
            Value::Object(m.iter().filter(|(k, _)| !k.starts_with('_')).map(|(k, v)| (k.clone(), v.clone())).collect())
        }
        other => other.clone(),
    }
}

/// The event types Stripe has (API 2023-08-16), one per line: the emulator's
/// own copy, so it stays independent of the catalog; a test of the workspace
/// checks the two agree.
pub const STRIPE_EVENT_TYPES: &str = include_str!("event_types.txt");

/// Whether Stripe has an event of type `kind`.
pub fn is_stripe_event_type(kind: &str) -> bool {
    static TYPES: std::sync::OnceLock<std::collections::HashSet<&'static str>> = std::sync::OnceLock::new();
    TYPES.get_or_init(|| STRIPE_EVENT_TYPES.lines().filter(|l| !l.is_empty()).collect()).contains(kind)
}

//! Resources of the fake account: what each one is called, which parameters its
//! create and update accept, how it is deleted, and the shared write helpers that keep
//! events in step with every change.

pub mod billing;
mod calendar;
pub mod cards;
pub mod charges;
pub mod customers;
mod invoice_actions;
mod invoice_items;
pub mod invoices;
pub mod payments;
pub mod payouts;
pub mod products;
pub mod quotes;
mod refunds;
mod specs;
mod subscription_items;

pub use specs::{Delete, SPECS, Spec};

use super::errors::{ApiError, ApiResult};
use super::events;
use super::params::{Params, apply_field};
use super::store::State;
use serde_json::{Map, Value, json};

/// The spec of a resource by URL name.
pub fn spec(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.name == name)
}

/// The resource whose ids start with this id's prefix.
pub fn spec_for_id(id: &str) -> Option<&'static Spec> {
    let prefix = id.split_once('_')?.0;
    let prefix = match prefix {
        "py" => "ch",
        "du" => "dp",
        other => other,
    };
    SPECS.iter().find(|s| !s.prefix.is_empty() && s.prefix == prefix)
}

/// Fields every object starts with.
pub fn base(state: &mut State, spec: &Spec, created: i64) -> Map<String, Value> {
    let id = state.new_id(spec.prefix);
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("object".into(), json!(spec.object));
    m.insert("created".into(), json!(created));
    m.insert("livemode".into(), json!(false));
    m.insert("metadata".into(), json!({}));
    m
}

/// Copies the listed parameters (when sent) into the object with Stripe's write rules.
pub fn copy_params(obj: &mut Map<String, Value>, params: &Params, keys: &[&str]) -> ApiResult<()> {
    for k in keys {
        if let Some(v) = params.get(k) {
            apply_field(obj, k, v)?;
        }
    }
    Ok(())
}

/// Stores a new object and appends its `.created` event.
pub fn commit_new(state: &mut State, spec: &Spec, obj: Map<String, Value>) -> Value {
    let created = obj.get("created").or(obj.get("date")).and_then(Value::as_i64).unwrap_or_else(|| state.now());
    let obj = Value::Object(obj);
    state.insert(spec.name, created, obj.clone());
    if !spec.event.is_empty() {
        events::emit(state, &format!("{}.created", spec.event), &obj, None);
    }
    obj
}

/// Replaces an object and appends an event (default `.updated`) with the previous
/// values of the fields that changed. Returns the new object.
pub fn commit_update(state: &mut State, spec: &Spec, new: Map<String, Value>, event: Option<&str>) -> Value {
    let id = new["id"].as_str().unwrap_or_default().to_string();
    let old = state.get(spec.name, &id).cloned().unwrap_or(Value::Null);
    let mut prev = Map::new();
    for (k, v) in &new {
        if old.get(k) != Some(v) && !k.starts_with('_') {
            prev.insert(k.clone(), old.get(k).cloned().unwrap_or(Value::Null));
        }
    }
    let new = Value::Object(new);
    state.replace(spec.name, new.clone());
    if !spec.event.is_empty() && (!prev.is_empty() || event.is_some()) {
        let t = event.map(String::from).unwrap_or_else(|| format!("{}.updated", spec.event));
        events::emit(state, &t, &new, Some(Value::Object(prev)));
    }
    new
}

/// Removes an object and answers Stripe's deleted stub.
pub fn commit_delete(state: &mut State, spec: &Spec, id: &str) -> Value {
    if let Some(old) = state.remove(spec.name, id)
        && !spec.event.is_empty()
    {
        events::emit(state, &format!("{}.deleted", spec.event), &old, None);
    }
    json!({"id": id, "object": spec.object, "deleted": true})
}

/// Loads an object for writing, or Stripe's 404.
pub fn load(state: &State, spec: &Spec, id: &str) -> ApiResult<Map<String, Value>> {
    match state.get(spec.name, id) {
        Some(Value::Object(m)) => Ok(m.clone()),
        _ => Err(ApiError::no_such(spec.object, id, "id")),
    }
}

/// Resolves a reference parameter to an existing object id, or 404 naming the param.
pub fn require_ref(state: &State, resource: &str, id: &str, param: &str) -> ApiResult<String> {
    let spec = spec(resource).expect("known resource");
    if state.get(resource, id).is_some() { Ok(id.to_string()) } else { Err(ApiError::no_such(spec.object, id, param)) }
}

/// Creates an object of any resource.
pub fn create(state: &mut State, spec: &'static Spec, params: &Params) -> ApiResult<Value> {
    let allowed = spec.create.ok_or_else(|| ApiError::unrecognized("POST", &format!("/v1/{}", spec.name)))?;
    if !allowed.is_empty() {
        params.check_allowed(allowed)?;
    }
    match spec.name {
        "customers" => customers::create(state, params),
        "payment_methods" => customers::create_pm(state, params),
        "products" => products::create_product(state, params),
        "prices" => products::create_price(state, params),
        "coupons" => products::create_coupon(state, params),
        "payment_intents" => payments::create(state, params),
        "charges" => charges::create(state, params),
        "refunds" => charges::create_refund(state, params),
        "payouts" => payouts::create(state, params),
        "subscriptions" => billing::create(state, params),
        "subscription_items" => billing::create_item(state, params),
        "invoices" => invoices::create(state, params),
        "invoiceitems" => invoices::create_item(state, params),
        "quotes" => quotes::create(state, params),
        _ => {
            let now = state.now();
            let mut obj = base(state, spec, now);
            for (k, v) in &params.0 {
                if k != "expand" {
                    apply_field(&mut obj, k, v)?;
                }
            }
            Ok(commit_new(state, spec, obj))
        }
    }
}

/// Updates an object of any resource.
pub fn update(state: &mut State, spec: &'static Spec, id: &str, params: &Params) -> ApiResult<Value> {
    let allowed = spec.update.ok_or_else(|| ApiError::unrecognized("POST", &format!("/v1/{}/{id}", spec.name)))?;
    if !allowed.is_empty() {
        params.check_allowed(allowed)?;
    }
    let mut obj = load(state, spec, id)?;
    let handled = match spec.name {
        "payment_intents" => payments::before_update(state, &mut obj, params)?,
        "subscriptions" => billing::before_update(state, &mut obj, params)?,
        "subscription_items" => billing::before_item_update(state, &mut obj, params)?,
        "invoices" => invoices::before_update(&obj, params)?,
        "invoiceitems" => invoices::before_item_update(state, &mut obj, params)?,
        "quotes" => quotes::before_update(&obj, params)?,
        "customers" => customers::before_update(state, &mut obj, params)?,
        "prices" | "products" => products::before_update(state, spec.name, &mut obj, params)?,
        _ => vec![],
    };
    for (k, v) in &params.0 {
        if k != "expand" && !handled.contains(&k.as_str()) {
            apply_field(&mut obj, k, v)?;
        }
    }
    if spec.name == "products" {
        obj.insert("updated".into(), json!(state.now()));
    }
    let out = commit_update(state, spec, obj, None);
    if spec.name == "subscription_items" {
        billing::sync_items(state, out["subscription"].as_str().unwrap_or_default());
    }
    if spec.name == "invoiceitems" {
        invoices::after_item_change(state, &out);
    }
    Ok(out)
}

/// Deletes (or cancels) an object.
pub fn delete(state: &mut State, spec: &'static Spec, id: &str, params: &Params) -> ApiResult<Value> {
    match spec.delete {
        Delete::No => Err(ApiError::unrecognized("DELETE", &format!("/v1/{}/{id}", spec.name))),
        Delete::Cancel => billing::cancel(state, id, params),
        Delete::Stub => {
            params.check_allowed(&["invoice_now", "prorate", "clear_usage", "proration_behavior", "proration_date"])?;
            let obj = Value::Object(load(state, spec, id)?);
            match spec.name {
                "customers" => customers::before_delete(state, id)?,
                "products" => products::before_delete_product(state, id)?,
                "invoices" if obj["status"] != "draft" => {
                    return Err(ApiError::invalid("You can only delete draft invoices."));
                }
                "invoiceitems" => invoices::before_item_delete(state, &obj)?,
                "subscription_items" => billing::before_item_delete(state, &obj)?,
                _ => {}
            }
            let out = commit_delete(state, spec, id);
            if spec.name == "subscription_items" {
                billing::sync_items(state, obj["subscription"].as_str().unwrap_or_default());
            }
            if spec.name == "invoiceitems" {
                invoices::after_item_change(state, &obj);
            }
            Ok(out)
        }
    }
}

/// Runs `POST /v1/{resource}/{id}/{verb}`.
pub fn action(state: &mut State, spec: &'static Spec, id: &str, verb: &str, params: &Params) -> ApiResult<Value> {
    match (spec.name, verb) {
        ("payment_intents", _) => payments::action(state, id, verb, params),
        ("payment_methods", "attach") => customers::attach(state, id, params),
        ("payment_methods", "detach") => customers::detach(state, id, params),
        ("charges", "capture") => charges::capture(state, id, params),
        ("refunds", "cancel") => charges::cancel_refund(state, id, params),
        ("disputes", "close") => charges::close_dispute(state, id, params),
        ("invoices", _) => invoices::action(state, id, verb, params),
        ("quotes", _) => quotes::action(state, id, verb, params),
        ("subscriptions", "cancel") => billing::cancel(state, id, params),
        ("subscriptions", "resume") => billing::resume(state, id, params),
        ("payouts", _) => payouts::action(state, id, verb, params),
        _ => Err(ApiError::unrecognized("POST", &format!("/v1/{}/{id}/{verb}", spec.name))),
    }
}

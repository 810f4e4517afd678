//! Subscriptions and subscription items: create (with the first invoice and payment),
//! update, cancel (also by DELETE), resume.

use super::customers::{default_pm, resolve_pm};
use super::invoices::{self, Line};
use super::{base, commit_new, commit_update, copy_params, load, require_ref, spec};
use crate::errors::{ApiError, ApiResult};
use crate::list::list_object;
use crate::params::Params;
use crate::store::State;
use serde_json::{Map, Value, json};

use super::calendar::add_interval;
pub use super::subscription_items::{ITEM_CREATE, ITEM_UPDATE, before_item_delete, before_item_update, create_item};

/// Create parameters.
pub const CREATE: &[&str] = &[
    "customer",
    "items",
    "add_invoice_items",
    "application_fee_percent",
    "automatic_tax",
    "backdate_start_date",
    "billing_cycle_anchor",
    "billing_thresholds",
    "cancel_at",
    "cancel_at_period_end",
    "collection_method",
    "coupon",
    "currency",
    "days_until_due",
    "default_payment_method",
    "default_source",
    "default_tax_rates",
    "description",
    "metadata",
    "off_session",
    "on_behalf_of",
    "payment_behavior",
    "payment_settings",
    "pending_invoice_item_interval",
    "promotion_code",
    "proration_behavior",
    "transfer_data",
    "trial_end",
    "trial_from_plan",
    "trial_period_days",
    "trial_settings",
];
/// Update parameters.
pub const UPDATE: &[&str] = &[
    "items",
    "add_invoice_items",
    "application_fee_percent",
    "automatic_tax",
    "billing_cycle_anchor",
    "billing_thresholds",
    "cancel_at",
    "cancel_at_period_end",
    "cancellation_details",
    "collection_method",
    "coupon",
    "days_until_due",
    "default_payment_method",
    "default_source",
    "default_tax_rates",
    "description",
    "metadata",
    "off_session",
    "on_behalf_of",
    "pause_collection",
    "payment_behavior",
    "payment_settings",
    "pending_invoice_item_interval",
    "promotion_code",
    "proration_behavior",
    "proration_date",
    "transfer_data",
    "trial_end",
    "trial_from_plan",
    "trial_settings",
];
pub(super) fn recurring_price(state: &State, id: &str, param: &str) -> ApiResult<Value> {
    let p = state.require("prices", "price", id, param)?;
    if p["type"] != "recurring" {
        return Err(ApiError::invalid_param(
            param,
            format!(
                "The price specified ({id}) is set to `type=one_time` but this field only accepts prices with `type=recurring`."
            ),
        ));
    }
    if p["active"] == false {
        return Err(ApiError::invalid_param(
            param,
            format!("The price specified ({id}) is inactive. This field only accepts active prices."),
        ));
    }
    Ok(p)
}

pub(super) fn item_object(
    state: &mut State,
    sub: &str,
    price: &Value,
    quantity: i64,
    metadata: Option<&Value>,
) -> ApiResult<Map<String, Value>> {
    let now = state.now();
    let mut it = base(state, spec("subscription_items").expect("spec"), now);
    it.insert("billing_thresholds".into(), Value::Null);
    it.insert("price".into(), price.clone());
    it.insert("quantity".into(), json!(quantity));
    it.insert("subscription".into(), json!(sub));
    it.insert("tax_rates".into(), json!([]));
    if let Some(m) = metadata {
        crate::params::apply_metadata(&mut it, m)?;
    }
    Ok(it)
}

/// Rebuilds `subscription.items` from the subscription item collection.
pub fn sync_items(state: &mut State, sub: &str) {
    let mut items = state.find("subscription_items", |i| i["subscription"] == sub);
    items.reverse();
    let n = items.len();
    if let Some(s) = state.get_mut("subscriptions", sub) {
        let mut l = list_object(&format!("/v1/subscription_items?subscription={sub}"), items, false);
        l["total_count"] = json!(n);
        s.insert("items".into(), l);
    }
}

/// `POST /v1/subscriptions`.
pub fn create(state: &mut State, params: &Params) -> ApiResult<Value> {
    let customer = require_ref(state, "customers", &params.req_str("customer")?, "customer")?;
    let items = params.list("items")?;
    if items.is_empty() {
        return Err(ApiError::missing("items"));
    }
    let mut prices = vec![];
    for (i, it) in items.iter().enumerate() {
        let pid = it.str("price")?.ok_or_else(|| ApiError::missing(&format!("items[{i}][price]")))?;
        let q = it.int("quantity")?.unwrap_or(1);
        prices.push((recurring_price(state, &pid, &format!("items[{i}][price]"))?, q, it.get("metadata").cloned()));
    }
    let cm = params.str("collection_method")?.unwrap_or_else(|| "charge_automatically".into());
    let days = params.int("days_until_due")?;
    if cm == "send_invoice" && days.is_none() {
        return Err(ApiError::missing("days_until_due"));
    }
    let behaviour = params.str("payment_behavior")?.unwrap_or_else(|| "allow_incomplete".into());
    let pm = match params.str("default_payment_method")? {
        Some(p) => Some(resolve_pm(state, &p, "default_payment_method")?),
        None => default_pm(state, &customer),
    };
    let sp = spec("subscriptions").expect("spec");
    let now = state.now();
    let start = params.int("backdate_start_date")?.unwrap_or(now);
    let currency = prices[0].0["currency"].as_str().unwrap_or("usd").to_string();
    let rec = prices[0].0["recurring"].clone();
    let (interval, count) =
        (rec["interval"].as_str().unwrap_or("month").to_string(), rec["interval_count"].as_i64().unwrap_or(1));
    let trial_end = match (params.int("trial_end")?, params.int("trial_period_days")?) {
        (Some(t), _) => Some(t),
        (None, Some(d)) => Some(start + d * 86_400),
        _ => None,
    };
    let period_end = trial_end.unwrap_or_else(|| add_interval(start, &interval, count));
    let mut sub = base(state, sp, now);
    let id = sub["id"].as_str().unwrap_or_default().to_string();
    for (k, v) in [
        ("application", Value::Null),
        ("application_fee_percent", Value::Null),
        ("automatic_tax", json!({"enabled": false})),
        ("billing_cycle_anchor", json!(period_end)),
        ("billing_thresholds", Value::Null),
        ("cancel_at", Value::Null),
        ("cancel_at_period_end", json!(false)),
        ("canceled_at", Value::Null),
        ("cancellation_details", json!({"comment": null, "feedback": null, "reason": null})),
        ("collection_method", json!(cm)),
        ("currency", json!(currency)),
        ("current_period_end", json!(period_end)),
        ("current_period_start", json!(start)),
        ("customer", json!(customer)),
        ("days_until_due", json!(days)),
        (
            "default_payment_method",
            if params.has("default_payment_method") {
                pm.as_ref().map_or(Value::Null, |p| p["id"].clone())
            } else {
                Value::Null
            },
        ),
        ("default_source", Value::Null),
        ("default_tax_rates", json!([])),
        ("description", Value::Null),
        ("discount", Value::Null),
        ("ended_at", Value::Null),
        ("items", list_object("/v1/subscription_items", vec![], false)),
        ("latest_invoice", Value::Null),
        ("next_pending_invoice_item_invoice", Value::Null),
        ("on_behalf_of", Value::Null),
        ("pause_collection", Value::Null),
        (
            "payment_settings",
            json!({"payment_method_options": null, "payment_method_types": null, "save_default_payment_method": "off"}),
        ),
        ("pending_invoice_item_interval", Value::Null),
        ("pending_setup_intent", Value::Null),
        ("pending_update", Value::Null),
        ("schedule", Value::Null),
        ("start_date", json!(start)),
        ("status", json!("incomplete")),
        ("test_clock", Value::Null),
        ("transfer_data", Value::Null),
        ("trial_end", json!(trial_end)),
        ("trial_settings", json!({"end_behavior": {"missing_payment_method": "create_invoice"}})),
        ("trial_start", json!(trial_end.map(|_| start))),
    ] {
        sub.insert(k.into(), v);
    }
    copy_params(&mut sub, params, &["cancel_at", "cancel_at_period_end", "description", "metadata"])?;
    if cm == "charge_automatically" && pm.is_none() && trial_end.is_none() && behaviour != "default_incomplete" {
        return Err(ApiError::invalid("This customer has no attached payment source or default payment method. Please consider adding a default payment method.").with_code("resource_missing"));
    }
    commit_new(state, sp, sub);
    let mut lines = vec![];
    for (price, q, md) in &prices {
        let it = item_object(state, &id, price, *q, md.as_ref())?;
        let it = commit_new(state, spec("subscription_items").expect("spec"), it);
        let amount = if trial_end.is_some() { 0 } else { price["unit_amount"].as_i64().unwrap_or(0) * q };
        lines.push(Line {
            amount,
            description: Some(format!("{q} × {}", price["nickname"].as_str().unwrap_or("subscription"))),
            price: price.clone(),
            quantity: *q,
            kind: "subscription",
            source: it["id"].as_str().map(String::from),
            subscription: Some(id.clone()),
            period: (start, period_end),
        });
    }
    sync_items(state, &id);
    let inv = invoices::draft(state, &customer, &currency, &lines, &cm, Some(&id), "subscription_create", days);
    let inv_id = inv["id"].as_str().unwrap_or_default().to_string();
    commit_new(state, spec("invoices").expect("spec"), inv);
    let inv = invoices::finalize(state, &inv_id)?;
    let mut status = if trial_end.is_some() {
        "trialing"
    } else if cm == "send_invoice" {
        "active"
    } else {
        "incomplete"
    };
    let mut failure = None;
    if status == "incomplete" && inv["status"] == "open" {
        if let (Some(pm), false) = (&pm, behaviour == "default_incomplete") {
            let mut p = Map::new();
            p.insert("payment_method".into(), pm["id"].clone());
            match invoices::pay(state, &inv_id, &Params(p)) {
                Ok(_) => status = "active",
                Err(e) => failure = Some(e),
            }
        }
    } else if inv["status"] == "paid" && status == "incomplete" {
        status = "active";
    }
    if let Some(e) = failure
        && behaviour == "error_if_incomplete"
    {
        return Err(e);
    }
    let mut s = load(state, sp, &id)?;
    s.insert("status".into(), json!(status));
    s.insert("latest_invoice".into(), json!(inv_id));
    Ok(commit_update(state, sp, s, None))
}

/// Update rules: a canceled subscription only takes metadata; `items` edits items.
pub fn before_update(state: &mut State, obj: &mut Map<String, Value>, params: &Params) -> ApiResult<Vec<&'static str>> {
    let id = obj["id"].as_str().unwrap_or_default().to_string();
    if obj["status"] == "canceled"
        && params.0.keys().any(|k| !["metadata", "cancellation_details", "expand"].contains(&k.as_str()))
    {
        return Err(ApiError::invalid(
            "A canceled subscription can only update its cancellation_details and metadata.",
        ));
    }
    if let Some(pm) = params.str("default_payment_method")? {
        let p = state.require("payment_methods", "PaymentMethod", &pm, "default_payment_method")?;
        if p["customer"] != obj["customer"] {
            return Err(ApiError::invalid_param(
                "default_payment_method",
                "The payment method must be attached to the subscription's customer.",
            ));
        }
    }
    for (i, it) in params.list("items")?.iter().enumerate() {
        let deleted = it.bool("deleted")?.unwrap_or(false);
        match it.str("id")? {
            Some(si) => {
                let mut cur = state
                    .get("subscription_items", &si)
                    .and_then(|v| v.as_object().cloned())
                    .filter(|v| v["subscription"] == id.as_str())
                    .ok_or_else(|| ApiError::no_such("subscription_item", &si, &format!("items[{i}][id]")))?;
                if deleted {
                    state.remove("subscription_items", &si);
                    continue;
                }
                if let Some(p) = it.str("price")? {
                    cur.insert("price".into(), recurring_price(state, &p, &format!("items[{i}][price]"))?);
                }
                if let Some(q) = it.int("quantity")? {
                    cur.insert("quantity".into(), json!(q));
                }
                if let Some(m) = it.get("metadata") {
                    crate::params::apply_metadata(&mut cur, m)?;
                }
                state.replace("subscription_items", Value::Object(cur));
            }
            None => {
                let pid = it.str("price")?.ok_or_else(|| ApiError::missing(&format!("items[{i}][price]")))?;
                let price = recurring_price(state, &pid, &format!("items[{i}][price]"))?;
                let item = item_object(state, &id, &price, it.int("quantity")?.unwrap_or(1), it.get("metadata"))?;
                commit_new(state, spec("subscription_items").expect("spec"), item);
            }
        }
    }
    if params.has("items") {
        if state.find("subscription_items", |i| i["subscription"] == id.as_str()).is_empty() {
            return Err(ApiError::invalid_param("items", "A subscription must have at least one active item."));
        }
        sync_items(state, &id);
        if let Some(s) = state.get("subscriptions", &id) {
            obj.insert("items".into(), s["items"].clone());
        }
    }
    if let Some(pc) = params.obj("pause_collection")? {
        let behavior = pc.req_str("behavior").map_err(|_| ApiError::missing("pause_collection[behavior]"))?;
        obj.insert("pause_collection".into(), json!({"behavior": behavior, "resumes_at": pc.int("resumes_at")?}));
    } else if params.get("pause_collection").is_some_and(|v| v == "") {
        obj.insert("pause_collection".into(), Value::Null);
    }
    Ok(vec![
        "items",
        "coupon",
        "promotion_code",
        "proration_behavior",
        "proration_date",
        "payment_behavior",
        "pause_collection",
        "off_session",
        "trial_from_plan",
    ])
}

/// Cancels a subscription (`DELETE /v1/subscriptions/{id}` and `POST .../cancel`).
pub fn cancel(state: &mut State, id: &str, params: &Params) -> ApiResult<Value> {
    params.check_allowed(&["cancellation_details", "invoice_now", "prorate"])?;
    let sp = spec("subscriptions").expect("spec");
    let mut s = load(state, sp, id)?;
    if s["status"] == "canceled" {
        return Err(ApiError::invalid(format!("The subscription {id} has already been canceled."))
            .with_code("resource_missing"));
    }
    let now = state.now();
    s.insert("status".into(), json!("canceled"));
    s.insert("canceled_at".into(), json!(now));
    s.insert("ended_at".into(), json!(now));
    let cd = params.obj("cancellation_details")?.unwrap_or_default();
    s.insert(
        "cancellation_details".into(),
        json!({"comment": cd.str("comment")?, "feedback": cd.str("feedback")?, "reason": "cancellation_requested"}),
    );
    Ok(commit_update(state, sp, s, Some("customer.subscription.deleted")))
}

/// `POST /v1/subscriptions/{id}/resume`: paused -> active.
pub fn resume(state: &mut State, id: &str, params: &Params) -> ApiResult<Value> {
    params.check_allowed(&["billing_cycle_anchor", "proration_behavior", "proration_date"])?;
    let sp = spec("subscriptions").expect("spec");
    let mut s = load(state, sp, id)?;
    if s["status"] != "paused" {
        return Err(ApiError::invalid(format!(
            "Subscription {id} cannot be resumed because its status is {}; only paused subscriptions can be resumed.",
            s["status"].as_str().unwrap_or("")
        )));
    }
    s.insert("status".into(), json!("active"));
    s.insert("pause_collection".into(), Value::Null);
    Ok(commit_update(state, sp, s, Some("customer.subscription.resumed")))
}

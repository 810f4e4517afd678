//! Invoices (draft -> open -> paid | void | uncollectible), their lines, and invoice items.

use super::{base, commit_new, copy_params, require_ref, spec};
use crate::errors::{ApiError, ApiResult};
use crate::params::Params;
use crate::store::State;
use serde_json::{Map, Value, json};

pub use super::invoice_actions::{action, finalize, pay};
pub use super::invoice_items::{
    ITEM_CREATE, ITEM_UPDATE, after_item_change, before_item_delete, before_item_update, create_item,
};

/// Invoice create parameters.
pub const CREATE: &[&str] = &[
    "customer",
    "account_tax_ids",
    "application_fee_amount",
    "auto_advance",
    "automatic_tax",
    "collection_method",
    "currency",
    "custom_fields",
    "days_until_due",
    "default_payment_method",
    "default_source",
    "default_tax_rates",
    "description",
    "discounts",
    "due_date",
    "effective_at",
    "footer",
    "from_invoice",
    "metadata",
    "on_behalf_of",
    "payment_settings",
    "pending_invoice_items_behavior",
    "rendering",
    "rendering_options",
    "shipping_cost",
    "shipping_details",
    "statement_descriptor",
    "subscription",
    "transfer_data",
];
/// Invoice update parameters.
pub const UPDATE: &[&str] = &[
    "account_tax_ids",
    "application_fee_amount",
    "auto_advance",
    "automatic_tax",
    "collection_method",
    "custom_fields",
    "days_until_due",
    "default_payment_method",
    "default_source",
    "default_tax_rates",
    "description",
    "discounts",
    "due_date",
    "effective_at",
    "footer",
    "metadata",
    "on_behalf_of",
    "payment_settings",
    "rendering",
    "rendering_options",
    "shipping_cost",
    "shipping_details",
    "statement_descriptor",
    "transfer_data",
];
const EDITABLE_AFTER_FINALIZE: &[&str] =
    &["metadata", "description", "footer", "auto_advance", "custom_fields", "expand"];

/// One line of a new invoice.
pub struct Line {
    /// Amount in minor units.
    pub amount: i64,
    /// Description.
    pub description: Option<String>,
    /// Price object (or null).
    pub price: Value,
    /// Quantity.
    pub quantity: i64,
    /// `invoiceitem` or `subscription`.
    pub kind: &'static str,
    /// Invoice item or subscription item id.
    pub source: Option<String>,
    /// Subscription id.
    pub subscription: Option<String>,
    /// Period (start, end).
    pub period: (i64, i64),
}

fn line_json(state: &mut State, currency: &str, l: &Line) -> Value {
    let id = state.new_id("il");
    json!({
        "id": id, "object": "line_item", "amount": l.amount, "amount_excluding_tax": l.amount, "currency": currency,
        "description": l.description, "discount_amounts": [], "discountable": true, "discounts": [],
        "invoice_item": if l.kind == "invoiceitem" { json!(l.source) } else { Value::Null },
        "livemode": false, "metadata": {}, "period": {"start": l.period.0, "end": l.period.1}, "price": l.price,
        "proration": false, "quantity": l.quantity, "subscription": l.subscription,
        "subscription_item": if l.kind == "subscription" { json!(l.source) } else { Value::Null },
        "type": l.kind,
    })
}

fn set_lines(inv: &mut Map<String, Value>, lines: Vec<Value>) {
    let id = inv["id"].as_str().unwrap_or_default().to_string();
    let total: i64 = lines.iter().map(|l| l["amount"].as_i64().unwrap_or(0)).sum();
    let paid = inv.get("amount_paid").and_then(Value::as_i64).unwrap_or(0);
    let n = lines.len();
    inv.insert("lines".into(), json!({"object": "list", "data": lines, "has_more": false, "total_count": n, "url": format!("/v1/invoices/{id}/lines")}));
    for k in ["subtotal", "subtotal_excluding_tax", "total", "total_excluding_tax", "amount_due"] {
        inv.insert(k.into(), json!(total));
    }
    inv.insert("amount_remaining".into(), json!(total - paid));
}

/// Builds (but does not store) a draft invoice.
#[allow(clippy::too_many_arguments)]
pub fn draft(
    state: &mut State,
    customer: &str,
    currency: &str,
    lines: &[Line],
    collection_method: &str,
    subscription: Option<&str>,
    billing_reason: &str,
    days_until_due: Option<i64>,
) -> Map<String, Value> {
    let now = state.now();
    let mut inv = base(state, spec("invoices").expect("spec"), now);
    let cus = state.get("customers", customer).cloned().unwrap_or(Value::Null);
    let due = if collection_method == "send_invoice" { days_until_due.map(|d| now + d * 86_400) } else { None };
    for (k, v) in [
        ("account_country", json!("US")),
        ("account_name", json!("stripe-sql demo")),
        ("amount_paid", json!(0)),
        ("amount_shipping", json!(0)),
        ("application", Value::Null),
        ("application_fee_amount", Value::Null),
        ("attempt_count", json!(0)),
        ("attempted", json!(false)),
        ("auto_advance", json!(false)),
        ("automatic_tax", json!({"enabled": false, "status": null})),
        ("billing_reason", json!(billing_reason)),
        ("charge", Value::Null),
        ("collection_method", json!(collection_method)),
        ("currency", json!(currency)),
        ("custom_fields", Value::Null),
        ("customer", json!(customer)),
        ("customer_email", cus["email"].clone()),
        ("customer_name", cus["name"].clone()),
        ("default_payment_method", Value::Null),
        ("description", Value::Null),
        ("discount", Value::Null),
        ("discounts", json!([])),
        ("due_date", json!(due)),
        ("effective_at", Value::Null),
        ("ending_balance", Value::Null),
        ("footer", Value::Null),
        ("hosted_invoice_url", Value::Null),
        ("invoice_pdf", Value::Null),
        ("last_finalization_error", Value::Null),
        ("next_payment_attempt", Value::Null),
        ("number", Value::Null),
        ("paid", json!(false)),
        ("paid_out_of_band", json!(false)),
        ("payment_intent", Value::Null),
        ("period_end", json!(now)),
        ("period_start", json!(now)),
        ("quote", Value::Null),
        ("receipt_number", Value::Null),
        ("starting_balance", json!(0)),
        ("status", json!("draft")),
        (
            "status_transitions",
            json!({"finalized_at": null, "marked_uncollectible_at": null, "paid_at": null, "voided_at": null}),
        ),
        ("subscription", json!(subscription)),
        ("tax", Value::Null),
        ("total_discount_amounts", json!([])),
        ("total_tax_amounts", json!([])),
        ("webhooks_delivered_at", json!(now)),
        ("days_until_due", json!(days_until_due)),
    ] {
        inv.insert(k.into(), v);
    }
    let lines: Vec<Value> = lines.iter().map(|l| line_json(state, currency, l)).collect();
    set_lines(&mut inv, lines);
    inv
}

/// `POST /v1/invoices`.
pub fn create(state: &mut State, params: &Params) -> ApiResult<Value> {
    let customer = require_ref(state, "customers", &params.req_str("customer")?, "customer")?;
    let cm = params.str("collection_method")?.unwrap_or_else(|| "charge_automatically".into());
    if !["charge_automatically", "send_invoice"].contains(&cm.as_str()) {
        return Err(ApiError::invalid_param(
            "collection_method",
            "Invalid collection_method: must be one of charge_automatically or send_invoice",
        ));
    }
    let days = params.int("days_until_due")?;
    if cm == "send_invoice" && days.is_none() && params.int("due_date")?.is_none() {
        return Err(ApiError::invalid_param(
            "days_until_due",
            "Missing required param: days_until_due or due_date (collection_method=send_invoice).",
        ));
    }
    let behaviour = params.str("pending_invoice_items_behavior")?.unwrap_or_else(|| "exclude".into());
    let currency = params.str("currency")?.unwrap_or_else(|| "usd".into());
    let sub = match params.str("subscription")? {
        Some(s) => Some(require_ref(state, "subscriptions", &s, "subscription")?),
        None => None,
    };
    let mut inv = draft(state, &customer, &currency, &[], &cm, sub.as_deref(), "manual", days);
    copy_params(
        &mut inv,
        params,
        &[
            "auto_advance",
            "custom_fields",
            "default_payment_method",
            "description",
            "due_date",
            "footer",
            "metadata",
            "statement_descriptor",
        ],
    )?;
    let id = inv["id"].as_str().unwrap_or_default().to_string();
    commit_new(state, spec("invoices").expect("spec"), inv);
    if behaviour == "include" {
        for it in state.find("invoiceitems", |i| i["customer"] == customer.as_str() && i["invoice"].is_null()) {
            if let Some(m) = state.get_mut("invoiceitems", it["id"].as_str().unwrap_or_default()) {
                m.insert("invoice".into(), json!(id));
            }
        }
        refresh_lines(state, &id);
    }
    Ok(state.get("invoices", &id).cloned().unwrap_or(Value::Null))
}

/// Rebuilds a draft invoice's invoice-item lines from the items attached to it.
pub fn refresh_lines(state: &mut State, invoice: &str) {
    let Some(inv) = state.get("invoices", invoice).cloned() else {
        return;
    };
    if inv["status"] != "draft" {
        return;
    }
    let currency = inv["currency"].as_str().unwrap_or("usd").to_string();
    let mut lines: Vec<Value> = inv["lines"]["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|l| l["type"] != "invoiceitem")
        .collect();
    for it in state.find("invoiceitems", |i| i["invoice"] == invoice) {
        let l = Line {
            amount: it["amount"].as_i64().unwrap_or(0),
            description: it["description"].as_str().map(String::from),
            price: it["price"].clone(),
            quantity: it["quantity"].as_i64().unwrap_or(1),
            kind: "invoiceitem",
            source: it["id"].as_str().map(String::from),
            subscription: None,
            period: (it["period"]["start"].as_i64().unwrap_or(0), it["period"]["end"].as_i64().unwrap_or(0)),
        };
        lines.push(line_json(state, &currency, &l));
    }
    let mut m = inv.as_object().cloned().unwrap_or_default();
    set_lines(&mut m, lines);
    state.replace("invoices", Value::Object(m));
}

/// Only drafts can change beyond metadata and presentation fields.
pub fn before_update(obj: &Map<String, Value>, params: &Params) -> ApiResult<Vec<&'static str>> {
    if obj["status"] != "draft" {
        for k in params.0.keys() {
            if !EDITABLE_AFTER_FINALIZE.contains(&k.as_str()) {
                return Err(ApiError::invalid_param(
                    k,
                    format!(
                        "You can only update `{k}` on a draft invoice; this invoice is {}.",
                        obj["status"].as_str().unwrap_or("")
                    ),
                ));
            }
        }
    }
    Ok(vec![])
}

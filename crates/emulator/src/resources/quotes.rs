//! Quotes: draft -> open (finalize) -> accepted (creates an invoice or subscription) | canceled.

use super::invoices::{self, Line};
use super::{base, commit_new, commit_update, copy_params, load, require_ref, spec};
use crate::errors::{ApiError, ApiResult};
use crate::list::list_object;
use crate::params::Params;
use crate::store::State;
use serde_json::{Map, Value, json};

/// Create parameters.
pub const CREATE: &[&str] = &[
    "application_fee_amount",
    "application_fee_percent",
    "automatic_tax",
    "collection_method",
    "customer",
    "default_tax_rates",
    "description",
    "discounts",
    "expires_at",
    "footer",
    "from_quote",
    "header",
    "invoice_settings",
    "line_items",
    "metadata",
    "on_behalf_of",
    "subscription_data",
    "test_clock",
    "transfer_data",
];
/// Update parameters.
pub const UPDATE: &[&str] = &[
    "application_fee_amount",
    "application_fee_percent",
    "automatic_tax",
    "collection_method",
    "customer",
    "default_tax_rates",
    "description",
    "discounts",
    "expires_at",
    "footer",
    "header",
    "invoice_settings",
    "line_items",
    "metadata",
    "on_behalf_of",
    "subscription_data",
    "transfer_data",
];

fn set_line_items(state: &mut State, q: &mut Map<String, Value>, params: &Params) -> ApiResult<()> {
    let id = q["id"].as_str().unwrap_or_default().to_string();
    let mut data = vec![];
    let mut total = 0;
    let mut currency = q.get("currency").and_then(Value::as_str).unwrap_or("usd").to_string();
    for (i, li) in params.list("line_items")?.iter().enumerate() {
        let pid = li.str("price")?.ok_or_else(|| ApiError::missing(&format!("line_items[{i}][price]")))?;
        let price = state.require("prices", "price", &pid, &format!("line_items[{i}][price]"))?;
        let qty = li.int("quantity")?.unwrap_or(1);
        let amount = price["unit_amount"].as_i64().unwrap_or(0) * qty;
        currency = price["currency"].as_str().unwrap_or("usd").to_string();
        total += amount;
        let lid = state.new_id("li");
        data.push(json!({"id": lid, "object": "item", "amount_discount": 0, "amount_subtotal": amount, "amount_tax": 0,
            "amount_total": amount, "currency": currency, "description": price["nickname"].clone(), "price": price, "quantity": qty}));
    }
    q.insert("_line_items".into(), list_object(&format!("/v1/quotes/{id}/line_items"), data, false));
    q.insert("amount_subtotal".into(), json!(total));
    q.insert("amount_total".into(), json!(total));
    q.insert("currency".into(), json!(currency));
    q.insert("computed".into(), json!({"recurring": null, "upfront": {"amount_subtotal": total, "amount_total": total, "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0}}}));
    Ok(())
}

/// `POST /v1/quotes`.
pub fn create(state: &mut State, params: &Params) -> ApiResult<Value> {
    if let Some(c) = params.str("customer")? {
        require_ref(state, "customers", &c, "customer")?;
    }
    let sp = spec("quotes").expect("spec");
    let now = state.now();
    let mut q = base(state, sp, now);
    for (k, v) in [
        ("amount_subtotal", json!(0)),
        ("amount_total", json!(0)),
        ("application", Value::Null),
        ("application_fee_amount", Value::Null),
        ("application_fee_percent", Value::Null),
        ("automatic_tax", json!({"enabled": false, "status": null})),
        ("collection_method", json!("charge_automatically")),
        ("currency", json!("usd")),
        ("customer", Value::Null),
        ("default_tax_rates", json!([])),
        ("description", Value::Null),
        ("discounts", json!([])),
        ("expires_at", json!(now + 30 * 86_400)),
        ("footer", Value::Null),
        ("from_quote", Value::Null),
        ("header", Value::Null),
        ("invoice", Value::Null),
        ("invoice_settings", json!({"days_until_due": null})),
        ("number", Value::Null),
        ("on_behalf_of", Value::Null),
        ("status", json!("draft")),
        ("status_transitions", json!({"accepted_at": null, "canceled_at": null, "finalized_at": null})),
        ("subscription", Value::Null),
        ("subscription_data", json!({"description": null, "effective_date": null, "trial_period_days": null})),
        ("subscription_schedule", Value::Null),
        ("test_clock", Value::Null),
        ("total_details", json!({"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0})),
        ("transfer_data", Value::Null),
    ] {
        q.insert(k.into(), v);
    }
    copy_params(
        &mut q,
        params,
        &[
            "collection_method",
            "customer",
            "description",
            "expires_at",
            "footer",
            "header",
            "invoice_settings",
            "metadata",
            "subscription_data",
        ],
    )?;
    set_line_items(state, &mut q, params)?;
    Ok(commit_new(state, sp, q))
}

/// Only drafts can be edited.
pub fn before_update(obj: &Map<String, Value>, params: &Params) -> ApiResult<Vec<&'static str>> {
    if obj["status"] != "draft" && params.0.keys().any(|k| k != "metadata" && k != "expand") {
        return Err(ApiError::invalid(format!(
            "You can only update a quote while it is a draft; this quote is {}.",
            obj["status"].as_str().unwrap_or("")
        )));
    }
    if params.has("line_items") {
        return Err(ApiError::invalid_param(
            "line_items",
            "Updating line_items is not supported by the emulator; create a new quote instead.",
        ));
    }
    Ok(vec![])
}

/// `POST /v1/quotes/{id}/{verb}`.
pub fn action(state: &mut State, id: &str, verb: &str, params: &Params) -> ApiResult<Value> {
    let sp = spec("quotes").expect("spec");
    let mut q = load(state, sp, id)?;
    let st = q["status"].as_str().unwrap_or("").to_string();
    let now = state.now();
    match verb {
        "finalize" => {
            params.check_allowed(&["expires_at"])?;
            if st != "draft" {
                return Err(ApiError::invalid(format!(
                    "This quote cannot be finalized because it has a status of {st}; only draft quotes can be finalized."
                )));
            }
            if q["customer"].is_null() {
                return Err(ApiError::invalid_param("customer", "A customer is required to finalize a quote."));
            }
            if q["_line_items"]["data"].as_array().is_none_or(|a| a.is_empty()) {
                return Err(ApiError::invalid("A quote needs at least one line item to be finalized."));
            }
            state.invoice_seq += 1;
            q.insert("number".into(), json!(format!("QT-{:06}", state.invoice_seq)));
            q.insert("status".into(), json!("open"));
            q["status_transitions"]["finalized_at"] = json!(now);
            if let Some(e) = params.int("expires_at")? {
                q.insert("expires_at".into(), json!(e));
            }
            Ok(commit_update(state, sp, q, Some("quote.finalized")))
        }
        "accept" => {
            params.check_allowed(&[])?;
            if st != "open" {
                return Err(ApiError::invalid(format!(
                    "This quote cannot be accepted because it has a status of {st}; only open quotes can be accepted."
                )));
            }
            accept(state, q)
        }
        "cancel" => {
            params.check_allowed(&[])?;
            if st != "draft" && st != "open" {
                return Err(ApiError::invalid(format!(
                    "This quote cannot be canceled because it has a status of {st}."
                )));
            }
            q.insert("status".into(), json!("canceled"));
            q["status_transitions"]["canceled_at"] = json!(now);
            Ok(commit_update(state, sp, q, Some("quote.canceled")))
        }
        _ => Err(ApiError::unrecognized("POST", &format!("/v1/quotes/{id}/{verb}"))),
    }
}

fn accept(state: &mut State, mut q: Map<String, Value>) -> ApiResult<Value> {
    let sp = spec("quotes").expect("spec");
    let id = q["id"].as_str().unwrap_or_default().to_string();
    let customer = q["customer"].as_str().unwrap_or_default().to_string();
    let items = q["_line_items"]["data"].as_array().cloned().unwrap_or_default();
    let recurring: Vec<&Value> = items.iter().filter(|i| i["price"]["type"] == "recurring").collect();
    let now = state.now();
    if !recurring.is_empty() {
        let mut p = Map::new();
        p.insert("customer".into(), json!(customer));
        p.insert("payment_behavior".into(), json!("default_incomplete"));
        p.insert("collection_method".into(), q["collection_method"].clone());
        if q["collection_method"] == "send_invoice" {
            p.insert(
                "days_until_due".into(),
                json!(q["invoice_settings"]["days_until_due"].as_i64().unwrap_or(30).to_string()),
            );
        }
        p.insert(
            "items".into(),
            Value::Array(
                recurring
                    .iter()
                    .map(|i| json!({"price": i["price"]["id"], "quantity": i["quantity"].to_string()}))
                    .collect(),
            ),
        );
        let sub = super::billing::create(state, &Params(p))?;
        q.insert("subscription".into(), sub["id"].clone());
        q.insert("invoice".into(), sub["latest_invoice"].clone());
    } else {
        let lines: Vec<Line> = items
            .iter()
            .map(|i| Line {
                amount: i["amount_total"].as_i64().unwrap_or(0),
                description: i["description"].as_str().map(String::from),
                price: i["price"].clone(),
                quantity: i["quantity"].as_i64().unwrap_or(1),
                kind: "invoiceitem",
                source: None,
                subscription: None,
                period: (now, now),
            })
            .collect();
        let cm = q["collection_method"].as_str().unwrap_or("charge_automatically").to_string();
        let days = if cm == "send_invoice" {
            Some(q["invoice_settings"]["days_until_due"].as_i64().unwrap_or(30))
        } else {
            None
        };
        let currency = q["currency"].as_str().unwrap_or("usd").to_string();
        let mut inv = invoices::draft(state, &customer, &currency, &lines, &cm, None, "quote_accept", days);
        inv.insert("quote".into(), json!(id));
        let inv = commit_new(state, spec("invoices").expect("spec"), inv);
        q.insert("invoice".into(), inv["id"].clone());
    }
    q.insert("status".into(), json!("accepted"));
    q["status_transitions"]["accepted_at"] = json!(now);
    Ok(commit_update(state, sp, q, Some("quote.accepted")))
}

//! Invoices (draft -> open -> paid | void | uncollectible), their lines, and invoice items.

use super::customers::{default_pm, resolve_pm};
use super::{base, commit_new, commit_update, copy_params, load, require_ref, spec};
use crate::emulator::errors::{ApiError, ApiResult};
use crate::emulator::params::Params;
use crate::emulator::store::State;
use serde_json::{Map, Value, json};

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
/// Invoice item create parameters.
pub const ITEM_CREATE: &[&str] = &[
    "customer",
    "amount",
    "currency",
    "description",
    "discountable",
    "discounts",
    "invoice",
    "metadata",
    "period",
    "price",
    "price_data",
    "quantity",
    "subscription",
    "tax_behavior",
    "tax_code",
    "tax_rates",
    "unit_amount",
    "unit_amount_decimal",
];
/// Invoice item update parameters.
pub const ITEM_UPDATE: &[&str] = &[
    "amount",
    "description",
    "discountable",
    "discounts",
    "metadata",
    "period",
    "price",
    "price_data",
    "quantity",
    "tax_behavior",
    "tax_code",
    "tax_rates",
    "unit_amount",
    "unit_amount_decimal",
];
const EDITABLE_AFTER_FINALIZE: &[&str] = &[
    "metadata",
    "description",
    "footer",
    "auto_advance",
    "custom_fields",
    "expand",
];

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
    let total: i64 = lines
        .iter()
        .map(|l| l["amount"].as_i64().unwrap_or(0))
        .sum();
    let paid = inv.get("amount_paid").and_then(Value::as_i64).unwrap_or(0);
    let n = lines.len();
    inv.insert("lines".into(), json!({"object": "list", "data": lines, "has_more": false, "total_count": n, "url": format!("/v1/invoices/{id}/lines")}));
    for k in [
        "subtotal",
        "subtotal_excluding_tax",
        "total",
        "total_excluding_tax",
        "amount_due",
    ] {
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
    let cus = state
        .get("customers", customer)
        .cloned()
        .unwrap_or(Value::Null);
    let due = if collection_method == "send_invoice" {
        days_until_due.map(|d| now + d * 86_400)
    } else {
        None
    };
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
    let lines: Vec<Value> = lines
        .iter()
        .map(|l| line_json(state, currency, l))
        .collect();
    set_lines(&mut inv, lines);
    inv
}

/// `POST /v1/invoices`.
pub fn create(state: &mut State, params: &Params) -> ApiResult<Value> {
    let customer = require_ref(state, "customers", &params.req_str("customer")?, "customer")?;
    let cm = params
        .str("collection_method")?
        .unwrap_or_else(|| "charge_automatically".into());
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
    let behaviour = params
        .str("pending_invoice_items_behavior")?
        .unwrap_or_else(|| "exclude".into());
    let currency = params.str("currency")?.unwrap_or_else(|| "usd".into());
    let sub = match params.str("subscription")? {
        Some(s) => Some(require_ref(state, "subscriptions", &s, "subscription")?),
        None => None,
    };
    let mut inv = draft(
        state,
        &customer,
        &currency,
        &[],
        &cm,
        sub.as_deref(),
        "manual",
        days,
    );
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
        for it in state.find("invoiceitems", |i| {
            i["customer"] == customer.as_str() && i["invoice"].is_null()
        }) {
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
            period: (
                it["period"]["start"].as_i64().unwrap_or(0),
                it["period"]["end"].as_i64().unwrap_or(0),
            ),
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

/// `POST /v1/invoiceitems`.
pub fn create_item(state: &mut State, params: &Params) -> ApiResult<Value> {
    let customer = require_ref(state, "customers", &params.req_str("customer")?, "customer")?;
    let quantity = params.int("quantity")?.unwrap_or(1);
    let (price, unit, currency) = match params.str("price")? {
        Some(p) => {
            let pr = state.require("prices", "price", &p, "price")?;
            (
                pr.clone(),
                pr["unit_amount"].as_i64().unwrap_or(0),
                pr["currency"].as_str().unwrap_or("usd").to_string(),
            )
        }
        None => {
            let currency = params.str("currency")?;
            let unit = match (params.int("amount")?, params.int("unit_amount")?) {
                (Some(a), _) => a / quantity.max(1),
                (None, Some(u)) => u,
                (None, None) => return Err(ApiError::missing("amount")),
            };
            (
                Value::Null,
                unit,
                currency
                    .ok_or_else(|| ApiError::missing("currency"))?
                    .to_lowercase(),
            )
        }
    };
    let amount = params.int("amount")?.unwrap_or(unit * quantity);
    let invoice = match params.str("invoice")? {
        Some(i) => {
            let inv = state.require("invoices", "invoice", &i, "invoice")?;
            if inv["status"] != "draft" {
                return Err(ApiError::invalid_param(
                    "invoice",
                    format!(
                        "You can only add invoice items to draft invoices; {i} is {}.",
                        inv["status"].as_str().unwrap_or("")
                    ),
                ));
            }
            Some(i)
        }
        None => None,
    };
    let sp = spec("invoiceitems").expect("spec");
    let now = state.now();
    let mut obj = base(state, sp, now);
    obj.remove("created");
    for (k, v) in [
        ("amount", json!(amount)),
        ("currency", json!(currency)),
        ("customer", json!(customer)),
        ("date", json!(now)),
        ("description", Value::Null),
        ("discountable", json!(true)),
        ("discounts", json!([])),
        ("invoice", json!(invoice)),
        ("period", json!({"start": now, "end": now})),
        ("price", price),
        ("proration", json!(false)),
        ("quantity", json!(quantity)),
        ("subscription", Value::Null),
        ("subscription_item", Value::Null),
        ("tax_rates", json!([])),
        ("test_clock", Value::Null),
        ("unit_amount", json!(unit)),
        ("unit_amount_decimal", json!(unit.to_string())),
    ] {
        obj.insert(k.into(), v);
    }
    copy_params(
        &mut obj,
        params,
        &["description", "discountable", "metadata", "period"],
    )?;
    let out = commit_new(state, sp, obj);
    after_item_change(state, &out);
    Ok(out)
}

/// Items on finalized invoices are frozen; amount follows quantity x unit_amount.
pub fn before_item_update(
    state: &mut State,
    obj: &mut Map<String, Value>,
    params: &Params,
) -> ApiResult<Vec<&'static str>> {
    if let Some(inv) = obj["invoice"].as_str()
        && state
            .get("invoices", inv)
            .is_some_and(|i| i["status"] != "draft")
        && params.0.keys().any(|k| k != "metadata" && k != "expand")
    {
        return Err(ApiError::invalid(
            "You can only update invoice items that are pending or attached to a draft invoice.",
        ));
    }
    let q = params.int("quantity")?;
    let u = params.int("unit_amount")?;
    if q.is_some() || u.is_some() {
        let q = q.unwrap_or(obj["quantity"].as_i64().unwrap_or(1));
        let u = u.unwrap_or(obj["unit_amount"].as_i64().unwrap_or(0));
        obj.insert("quantity".into(), json!(q));
        obj.insert("unit_amount".into(), json!(u));
        obj.insert("unit_amount_decimal".into(), json!(u.to_string()));
        obj.insert("amount".into(), json!(q * u));
    }
    Ok(vec!["quantity", "unit_amount"])
}

/// Items on finalized invoices cannot be deleted.
pub fn before_item_delete(state: &State, obj: &Value) -> ApiResult<()> {
    if let Some(inv) = obj["invoice"].as_str()
        && state
            .get("invoices", inv)
            .is_some_and(|i| i["status"] != "draft")
    {
        return Err(ApiError::invalid(
            "You can only delete invoice items that are pending or attached to a draft invoice.",
        ));
    }
    Ok(())
}

/// Keeps a draft invoice's lines in step with its items.
pub fn after_item_change(state: &mut State, item: &Value) {
    if let Some(inv) = item["invoice"].as_str() {
        refresh_lines(state, inv);
    }
}

/// `POST /v1/invoices/{id}/{verb}`.
pub fn action(state: &mut State, id: &str, verb: &str, params: &Params) -> ApiResult<Value> {
    let sp = spec("invoices").expect("spec");
    let inv = load(state, sp, id)?;
    let st = inv["status"].as_str().unwrap_or("").to_string();
    match verb {
        "finalize" => {
            params.check_allowed(&["auto_advance"])?;
            if st != "draft" {
                return Err(ApiError::invalid(format!(
                    "This invoice is already finalized, you can't re-finalize a non-draft invoice (status {st})."
                )));
            }
            finalize(state, id)
        }
        "pay" => {
            params.check_allowed(&[
                "forgive",
                "mandate",
                "off_session",
                "paid_out_of_band",
                "payment_method",
                "source",
            ])?;
            match st.as_str() {
                "paid" => {
                    return Err(ApiError::invalid("Invoice is already paid")
                        .with_code("invoice_already_paid"));
                }
                "void" => {
                    return Err(ApiError::invalid(
                        "This invoice has been voided and can no longer be paid.",
                    ));
                }
                "draft" => {
                    finalize(state, id)?;
                }
                _ => {}
            }
            pay(state, id, params)
        }
        "void" => {
            params.check_allowed(&[])?;
            if st != "open" && st != "uncollectible" {
                return Err(ApiError::invalid(format!(
                    "You can only void open or uncollectible invoices; this invoice is {st}."
                )));
            }
            transition(state, id, "void", "voided_at", "invoice.voided")
        }
        "mark_uncollectible" => {
            params.check_allowed(&[])?;
            if st != "open" {
                return Err(ApiError::invalid(format!(
                    "You can only mark open invoices as uncollectible; this invoice is {st}."
                )));
            }
            transition(
                state,
                id,
                "uncollectible",
                "marked_uncollectible_at",
                "invoice.marked_uncollectible",
            )
        }
        "send" => {
            params.check_allowed(&[])?;
            if st != "open" {
                return Err(ApiError::invalid(format!(
                    "You can only send open invoices; this invoice is {st}."
                )));
            }
            if inv["collection_method"] != "send_invoice" {
                return Err(ApiError::invalid(
                    "You can only manually send an invoice if its collection method is 'send_invoice'.",
                ));
            }
            Ok(commit_update(state, sp, inv, Some("invoice.sent")))
        }
        _ => Err(ApiError::unrecognized(
            "POST",
            &format!("/v1/invoices/{id}/{verb}"),
        )),
    }
}

fn transition(
    state: &mut State,
    id: &str,
    status: &str,
    stamp: &str,
    event: &str,
) -> ApiResult<Value> {
    let sp = spec("invoices").expect("spec");
    let mut inv = load(state, sp, id)?;
    inv.insert("status".into(), json!(status));
    inv["status_transitions"][stamp] = json!(state.now());
    if status == "void" {
        inv.insert("amount_remaining".into(), json!(0));
    }
    Ok(commit_update(state, sp, inv, Some(event)))
}

/// draft -> open (numbered); a zero invoice is paid at once.
pub fn finalize(state: &mut State, id: &str) -> ApiResult<Value> {
    let sp = spec("invoices").expect("spec");
    let mut inv = load(state, sp, id)?;
    let now = state.now();
    let cus = inv["customer"].as_str().unwrap_or_default().to_string();
    let (prefix, seq) = match state.get_mut("customers", &cus) {
        Some(c) => {
            let seq = c["next_invoice_sequence"].as_i64().unwrap_or(1);
            c.insert("next_invoice_sequence".into(), json!(seq + 1));
            (
                c["invoice_prefix"].as_str().unwrap_or("INV").to_string(),
                seq,
            )
        }
        None => ("INV".into(), 1),
    };
    inv.insert("number".into(), json!(format!("{prefix}-{seq:04}")));
    inv.insert("status".into(), json!("open"));
    inv.insert("effective_at".into(), json!(now));
    inv["status_transitions"]["finalized_at"] = json!(now);
    inv.insert(
        "hosted_invoice_url".into(),
        json!(format!("https://invoice.stripe.com/i/{id}")),
    );
    inv.insert(
        "invoice_pdf".into(),
        json!(format!("https://pay.stripe.com/invoice/{id}/pdf")),
    );
    if inv["collection_method"] == "send_invoice" && inv["due_date"].is_null() {
        let days = inv["days_until_due"].as_i64().unwrap_or(30);
        inv.insert("due_date".into(), json!(now + days * 86_400));
    }
    let zero = inv["amount_due"].as_i64().unwrap_or(0) == 0;
    let out = commit_update(state, sp, inv, Some("invoice.finalized"));
    if zero {
        return mark_paid(state, id, None);
    }
    Ok(out)
}

fn mark_paid(state: &mut State, id: &str, pi: Option<&Value>) -> ApiResult<Value> {
    let sp = spec("invoices").expect("spec");
    let mut inv = load(state, sp, id)?;
    let due = inv["amount_due"].as_i64().unwrap_or(0);
    inv.insert("status".into(), json!("paid"));
    inv.insert("paid".into(), json!(true));
    inv.insert("amount_paid".into(), json!(due));
    inv.insert("amount_remaining".into(), json!(0));
    inv["status_transitions"]["paid_at"] = json!(state.now());
    if let Some(pi) = pi {
        inv.insert("payment_intent".into(), pi["id"].clone());
        inv.insert("charge".into(), pi["latest_charge"].clone());
    }
    let out = commit_update(state, sp, inv, Some("invoice.paid"));
    crate::emulator::events::emit(state, "invoice.payment_succeeded", &out, None);
    if let Some(sub) = out["subscription"].as_str().map(String::from)
        && let Some(s) = state.get("subscriptions", &sub).cloned()
        && ["incomplete", "past_due", "unpaid"].contains(&s["status"].as_str().unwrap_or(""))
    {
        let mut s = s.as_object().cloned().unwrap_or_default();
        s.insert("status".into(), json!("active"));
        commit_update(state, spec("subscriptions").expect("spec"), s, None);
    }
    Ok(out)
}

/// Pays an open invoice: out of band, or by charging a payment method.
pub fn pay(state: &mut State, id: &str, params: &Params) -> ApiResult<Value> {
    let sp = spec("invoices").expect("spec");
    let inv = load(state, sp, id)?;
    if inv["status"] == "paid" {
        return Ok(Value::Object(inv));
    }
    if params.bool("paid_out_of_band")?.unwrap_or(false) {
        let mut m = inv;
        m.insert("paid_out_of_band".into(), json!(true));
        state.replace("invoices", Value::Object(m));
        return mark_paid(state, id, None);
    }
    let cus = inv["customer"].as_str().unwrap_or_default().to_string();
    let pm = match params.str("payment_method")?.or(params.str("source")?) {
        Some(p) => Some(resolve_pm(state, &p, "payment_method")?),
        None => match inv["default_payment_method"].as_str() {
            Some(p) => state.get("payment_methods", p).cloned(),
            None => default_pm(state, &cus),
        },
    };
    let Some(pm) = pm else {
        return Err(ApiError::invalid(
            "This customer has no attached payment source or default payment method.",
        )
        .with_code("invoice_no_payment_method_types"));
    };
    let amount = inv["amount_remaining"].as_i64().unwrap_or(0);
    let mut p = Map::new();
    for (k, v) in [
        ("amount", amount.to_string()),
        (
            "currency",
            inv["currency"].as_str().unwrap_or("usd").to_string(),
        ),
        ("customer", cus.clone()),
        (
            "payment_method",
            pm["id"].as_str().unwrap_or_default().to_string(),
        ),
        ("confirm", "true".into()),
    ] {
        p.insert(k.into(), json!(v));
    }
    let mut m = inv;
    m.insert(
        "attempt_count".into(),
        json!(m["attempt_count"].as_i64().unwrap_or(0) + 1),
    );
    m.insert("attempted".into(), json!(true));
    state.replace("invoices", Value::Object(m.clone()));
    match super::payments::create(state, &Params(p)) {
        Ok(pi) => {
            if let Some(x) = state.get_mut("payment_intents", pi["id"].as_str().unwrap_or_default())
            {
                x.insert("invoice".into(), json!(id));
            }
            mark_paid(state, id, Some(&pi))
        }
        Err(e) => {
            if let Some(pi) = e.extra.get("payment_intent") {
                m.insert("payment_intent".into(), pi["id"].clone());
                if let Some(x) =
                    state.get_mut("payment_intents", pi["id"].as_str().unwrap_or_default())
                {
                    x.insert("invoice".into(), json!(id));
                }
            }
            let out = commit_update(state, sp, m, Some("invoice.payment_failed"));
            Err(e.with("invoice", out["id"].clone()))
        }
    }
}

//! Customers and payment methods (create, update, delete, attach, detach, test cards).

use super::cards::{self, TestCard};
use super::{base, commit_new, commit_update, copy_params, load, require_ref, spec};
use crate::errors::{ApiError, ApiResult};
use crate::events;
use crate::params::Params;
use crate::store::State;
use serde_json::{Map, Value, json};

/// Customer create parameters.
pub const CREATE: &[&str] = &[
    "address",
    "balance",
    "cash_balance",
    "coupon",
    "description",
    "email",
    "invoice_prefix",
    "invoice_settings",
    "metadata",
    "name",
    "next_invoice_sequence",
    "payment_method",
    "phone",
    "preferred_locales",
    "promotion_code",
    "shipping",
    "source",
    "tax",
    "tax_exempt",
    "tax_id_data",
    "test_clock",
];
/// Customer update parameters.
pub const UPDATE: &[&str] = &[
    "address",
    "balance",
    "cash_balance",
    "coupon",
    "default_source",
    "description",
    "email",
    "invoice_prefix",
    "invoice_settings",
    "metadata",
    "name",
    "next_invoice_sequence",
    "phone",
    "preferred_locales",
    "promotion_code",
    "shipping",
    "source",
    "tax",
    "tax_exempt",
];
/// Payment method create parameters.
pub const PM_CREATE: &[&str] = &[
    "type",
    "card",
    "billing_details",
    "metadata",
    "customer",
    "payment_method",
    "sepa_debit",
    "us_bank_account",
    "link",
    "allow_redisplay",
];
/// Payment method update parameters.
pub const PM_UPDATE: &[&str] = &["billing_details", "card", "metadata", "link", "us_bank_account", "allow_redisplay"];

const FIELDS: &[&str] = &[
    "address",
    "balance",
    "description",
    "email",
    "invoice_prefix",
    "invoice_settings",
    "metadata",
    "name",
    "next_invoice_sequence",
    "phone",
    "preferred_locales",
    "shipping",
    "tax_exempt",
    "test_clock",
];

/// `POST /v1/customers`.
pub fn create(state: &mut State, params: &Params) -> ApiResult<Value> {
    let sp = spec("customers").expect("spec");
    let now = state.now();
    let mut obj = base(state, sp, now);
    let prefix = state.random(8).to_uppercase();
    for (k, v) in [
        ("address", Value::Null),
        ("balance", json!(0)),
        ("currency", Value::Null),
        ("default_source", Value::Null),
        ("delinquent", json!(false)),
        ("description", Value::Null),
        ("discount", Value::Null),
        ("email", Value::Null),
        ("invoice_prefix", json!(prefix)),
        (
            "invoice_settings",
            json!({"custom_fields": null, "default_payment_method": null, "footer": null, "rendering_options": null}),
        ),
        ("name", Value::Null),
        ("next_invoice_sequence", json!(1)),
        ("phone", Value::Null),
        ("preferred_locales", json!([])),
        ("shipping", Value::Null),
        ("tax_exempt", json!("none")),
        ("test_clock", Value::Null),
    ] {
        obj.insert(k.into(), v);
    }
    copy_params(&mut obj, params, FIELDS)?;
    if let Some(dpm) = obj["invoice_settings"]["default_payment_method"].as_str().map(String::from) {
        require_ref(state, "payment_methods", &dpm, "invoice_settings[default_payment_method]")?;
    }
    let cus_id = obj["id"].as_str().unwrap_or_default().to_string();
    let pm = params.str("payment_method")?;
    let source = params.str("source")?;
    let created = commit_new(state, sp, obj);
    let mut attached = None;
    if let Some(pm) = pm {
        attached = Some(attach_to(state, &pm, &cus_id, "payment_method")?);
    }
    if let Some(src) = source {
        let pm = attach_to(state, &src, &cus_id, "source")?;
        let mut c = load(state, sp, &cus_id)?;
        c.insert("default_source".into(), pm["id"].clone());
        return Ok(commit_update(state, sp, c, None));
    }
    let _ = attached;
    Ok(state.get("customers", &cus_id).cloned().unwrap_or(created))
}

/// Customer-specific update rules; returns the parameters it handled itself.
pub fn before_update(state: &mut State, obj: &mut Map<String, Value>, params: &Params) -> ApiResult<Vec<&'static str>> {
    if let Some(Value::Object(is)) = params.get("invoice_settings")
        && let Some(Value::String(pm)) = is.get("default_payment_method")
        && !pm.is_empty()
    {
        let p = state.require("payment_methods", "PaymentMethod", pm, "invoice_settings[default_payment_method]")?;
        if p["customer"] != obj["id"] {
            return Err(ApiError::invalid_param(
                "invoice_settings[default_payment_method]",
                format!(
                    "The PaymentMethod {pm} does not belong to the Customer {}. Please attach it first.",
                    obj["id"].as_str().unwrap_or("")
                ),
            ));
        }
    }
    if let Some(src) = params.str("source")? {
        let cus = obj["id"].as_str().unwrap_or_default().to_string();
        let pm = attach_to(state, &src, &cus, "source")?;
        obj.insert("default_source".into(), pm["id"].clone());
    }
    Ok(vec!["source", "coupon", "promotion_code", "tax", "cash_balance"])
}

/// Deleting a customer cancels its subscriptions and detaches its payment methods.
pub fn before_delete(state: &mut State, id: &str) -> ApiResult<()> {
    let subs = state.find("subscriptions", |s| s["customer"] == id && s["status"] != "canceled");
    for s in subs {
        super::billing::cancel(state, s["id"].as_str().unwrap_or_default(), &Params::default())?;
    }
    for pm in state.find("payment_methods", |p| p["customer"] == id) {
        if let Some(m) = state.get_mut("payment_methods", pm["id"].as_str().unwrap_or_default()) {
            m.insert("customer".into(), Value::Null);
        }
    }
    Ok(())
}

fn pm_object(state: &mut State, card: &TestCard, exp_month: i64, exp_year: i64) -> Map<String, Value> {
    let now = state.now();
    let mut obj = base(state, spec("payment_methods").expect("spec"), now);
    obj.insert(
        "billing_details".into(),
        json!({"address": {"city": null, "country": null, "line1": null, "line2": null, "postal_code": null, "state": null},
               "email": null, "name": null, "phone": null}),
    );
    obj.insert("card".into(), cards::card_hash(card, exp_month, exp_year));
    obj.insert("customer".into(), Value::Null);
    obj.insert("type".into(), json!("card"));
    obj.insert("_test_card".into(), json!(card.name));
    obj
}

/// The test card behind a stored payment method.
pub fn test_card_of(pm: &Value) -> &'static TestCard {
    pm["_test_card"].as_str().and_then(|n| cards::CARDS.iter().find(|c| c.name == n)).unwrap_or(&cards::CARDS[0])
}

/// `POST /v1/payment_methods`.
pub fn create_pm(state: &mut State, params: &Params) -> ApiResult<Value> {
    let sp = spec("payment_methods").expect("spec");
    if let Some(src) = params.str("payment_method")? {
        // Cloning a customer's payment method (Connect); here a plain copy.
        let pm = resolve_pm(state, &src, "payment_method")?;
        let mut obj = pm.as_object().cloned().unwrap_or_default();
        obj.insert("id".into(), json!(state.new_id("pm")));
        obj.insert("customer".into(), Value::Null);
        return Ok(commit_new(state, sp, obj));
    }
    let kind = params.req_str("type")?;
    let mut obj = if kind == "card" {
        let card = params.obj("card")?.ok_or_else(|| ApiError::missing("card"))?;
        if let Some(tok) = card.str("token")? {
            let c = cards::by_magic_id(&tok).ok_or_else(|| ApiError::no_such("token", &tok, "card[token]"))?;
            pm_object(state, c, 12, 2034)
        } else {
            let number = card.req_str("number").map_err(|_| ApiError::missing("card[number]"))?;
            let exp_month = card.int("exp_month")?.ok_or_else(|| ApiError::missing("card[exp_month]"))?;
            let exp_year = card.int("exp_year")?.ok_or_else(|| ApiError::missing("card[exp_year]"))?;
            let c = cards::by_number(&number).ok_or_else(|| {
                ApiError::card("incorrect_number", None, "Your card number is incorrect.").with_param("card[number]")
            })?;
            if !(1..=12).contains(&exp_month) {
                return Err(ApiError::card("invalid_expiry_month", None, "Your card's expiration month is invalid.")
                    .with_param("card[exp_month]"));
            }
            pm_object(state, c, exp_month, exp_year)
        }
    } else {
        let now = state.now();
        let mut o = base(state, sp, now);
        o.insert("type".into(), json!(kind));
        o.insert(kind.clone(), params.get(&kind).cloned().unwrap_or(json!({})));
        o.insert("customer".into(), Value::Null);
        o
    };
    copy_params(&mut obj, params, &["billing_details", "metadata"])?;
    let id = obj["id"].as_str().unwrap_or_default().to_string();
    commit_new(state, sp, obj);
    if let Some(cus) = params.str("customer")? {
        return attach_to(state, &id, &cus, "customer");
    }
    Ok(state.get("payment_methods", &id).cloned().unwrap_or(Value::Null))
}

/// A payment method by id; `pm_card_*` and `tok_*` test ids create a fresh one.
pub fn resolve_pm(state: &mut State, id: &str, param: &str) -> ApiResult<Value> {
    if id.starts_with("pm_card_") || id.starts_with("tok_") {
        let card = cards::by_magic_id(id).ok_or_else(|| ApiError::no_such("PaymentMethod", id, param))?;
        let obj = Value::Object(pm_object(state, card, 12, 2034));
        let created = state.now();
        state.insert("payment_methods", created, obj.clone());
        return Ok(obj);
    }
    if id.starts_with("card_") || id.starts_with("src_") {
        return Err(ApiError::no_such("source", id, param));
    }
    state.require("payment_methods", "PaymentMethod", id, param)
}

/// Attaches `pm` (an id or test id) to `customer`; declines like Stripe.
pub fn attach_to(state: &mut State, pm: &str, customer: &str, param: &str) -> ApiResult<Value> {
    require_ref(state, "customers", customer, "customer")?;
    let pm = resolve_pm(state, pm, param)?;
    if let Some(e) = cards::attach_error(test_card_of(&pm).behaviour) {
        return Err(e.with_param(param));
    }
    match pm["customer"].as_str() {
        Some(c) if c == customer => return Ok(pm),
        Some(_) => {
            return Err(ApiError::invalid_param(
                param,
                "The payment method you provided has already been attached to a customer.",
            ));
        }
        None => {}
    }
    let sp = spec("payment_methods").expect("spec");
    let mut obj = pm.as_object().cloned().unwrap_or_default();
    obj.insert("customer".into(), json!(customer));
    let out = commit_update(state, sp, obj, Some("payment_method.attached"));
    Ok(out)
}

/// `POST /v1/payment_methods/{id}/attach`.
pub fn attach(state: &mut State, id: &str, params: &Params) -> ApiResult<Value> {
    params.check_allowed(&["customer"])?;
    let customer = params.req_str("customer")?;
    attach_to(state, id, &customer, "payment_method")
}

/// `POST /v1/payment_methods/{id}/detach`.
pub fn detach(state: &mut State, id: &str, params: &Params) -> ApiResult<Value> {
    params.check_allowed(&[])?;
    let pm = state.require("payment_methods", "PaymentMethod", id, "payment_method")?;
    let Some(cus) = pm["customer"].as_str().map(String::from) else {
        return Err(ApiError::invalid(
            "The payment method you provided is not attached to a customer so detachment is impossible.",
        ));
    };
    if let Some(c) = state.get_mut("customers", &cus) {
        if c["invoice_settings"]["default_payment_method"] == id {
            c["invoice_settings"]["default_payment_method"] = Value::Null;
        }
        if c["default_source"] == id {
            c.insert("default_source".into(), Value::Null);
        }
    }
    let mut obj = pm.as_object().cloned().unwrap_or_default();
    obj.insert("customer".into(), Value::Null);
    let sp = spec("payment_methods").expect("spec");
    let out = commit_update(state, sp, obj, Some("payment_method.detached"));
    let _ = events::API_VERSION;
    Ok(out)
}

/// The payment method a customer pays with by default, if any.
pub fn default_pm(state: &State, customer: &str) -> Option<Value> {
    let c = state.get("customers", customer)?;
    let id = c["invoice_settings"]["default_payment_method"].as_str().or(c["default_source"].as_str())?;
    state.get("payment_methods", id).cloned()
}

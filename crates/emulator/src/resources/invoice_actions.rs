//! Invoice actions: finalize (draft -> open), pay (-> paid), void, send,
//! mark_uncollectible, with Stripe's rules for illegal transitions.

use super::customers::{default_pm, resolve_pm};
use super::{commit_update, load, spec};
use crate::errors::{ApiError, ApiResult};
use crate::params::Params;
use crate::store::State;
use serde_json::{Map, Value, json};

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
                    return Err(ApiError::invalid("Invoice is already paid").with_code("invoice_already_paid"));
                }
                "void" => {
                    return Err(ApiError::invalid("This invoice has been voided and can no longer be paid."));
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
            transition(state, id, "uncollectible", "marked_uncollectible_at", "invoice.marked_uncollectible")
        }
        "send" => {
            params.check_allowed(&[])?;
            if st != "open" {
                return Err(ApiError::invalid(format!("You can only send open invoices; this invoice is {st}.")));
            }
            if inv["collection_method"] != "send_invoice" {
                return Err(ApiError::invalid(
                    "You can only manually send an invoice if its collection method is 'send_invoice'.",
                ));
            }
            Ok(commit_update(state, sp, inv, Some("invoice.sent")))
        }
        _ => Err(ApiError::unrecognized("POST", &format!("/v1/invoices/{id}/{verb}"))),
    }
}

fn transition(state: &mut State, id: &str, status: &str, stamp: &str, event: &str) -> ApiResult<Value> {
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
            (c["invoice_prefix"].as_str().unwrap_or("INV").to_string(), seq)
        }
        None => ("INV".into(), 1),
    };
    inv.insert("number".into(), json!(format!("{prefix}-{seq:04}")));
    inv.insert("status".into(), json!("open"));
    inv.insert("effective_at".into(), json!(now));
    inv["status_transitions"]["finalized_at"] = json!(now);
    inv.insert("hosted_invoice_url".into(), json!(format!("https://invoice.stripe.com/i/{id}")));
    inv.insert("invoice_pdf".into(), json!(format!("https://pay.stripe.com/invoice/{id}/pdf")));
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
    crate::events::emit(state, "invoice.payment_succeeded", &out, None);
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
        return Err(ApiError::invalid("This customer has no attached payment source or default payment method.")
            .with_code("invoice_no_payment_method_types"));
    };
    let amount = inv["amount_remaining"].as_i64().unwrap_or(0);
    let mut p = Map::new();
    for (k, v) in [
        ("amount", amount.to_string()),
        ("currency", inv["currency"].as_str().unwrap_or("usd").to_string()),
        ("customer", cus.clone()),
        ("payment_method", pm["id"].as_str().unwrap_or_default().to_string()),
        ("confirm", "true".into()),
    ] {
        p.insert(k.into(), json!(v));
    }
    let mut m = inv;
    m.insert("attempt_count".into(), json!(m["attempt_count"].as_i64().unwrap_or(0) + 1));
    m.insert("attempted".into(), json!(true));
    state.replace("invoices", Value::Object(m.clone()));
    match super::payments::create(state, &Params(p)) {
        Ok(pi) => {
            if let Some(x) = state.get_mut("payment_intents", pi["id"].as_str().unwrap_or_default()) {
                x.insert("invoice".into(), json!(id));
            }
            mark_paid(state, id, Some(&pi))
        }
        Err(e) => {
            if let Some(pi) = e.extra.get("payment_intent") {
                m.insert("payment_intent".into(), pi["id"].clone());
                if let Some(x) = state.get_mut("payment_intents", pi["id"].as_str().unwrap_or_default()) {
                    x.insert("invoice".into(), json!(id));
                }
            }
            let out = commit_update(state, sp, m, Some("invoice.payment_failed"));
            Err(e.with("invoice", out["id"].clone()))
        }
    }
}

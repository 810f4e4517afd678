//! Refunds (with their negative balance transactions) and disputes.

use super::charges::txn;
use super::{base, commit_new, commit_update, copy_params, load, require_ref, spec};
use crate::errors::{ApiError, ApiResult};
use crate::params::Params;
use crate::store::State;
use serde_json::{Value, json};

/// Refund create parameters.
pub const REFUND_CREATE: &[&str] = &[
    "amount",
    "charge",
    "currency",
    "customer",
    "instructions_email",
    "metadata",
    "origin",
    "payment_intent",
    "reason",
    "refund_application_fee",
    "reverse_transfer",
];

/// Opens a dispute on a charge (and debits the balance).
pub fn make_dispute(state: &mut State, charge_id: &str, reason: &str, status: &str) -> Value {
    let Some(ch) = state.get("charges", charge_id).cloned() else {
        return Value::Null;
    };
    let amount = ch["amount"].as_i64().unwrap_or(0);
    let currency = ch["currency"].as_str().unwrap_or("usd").to_string();
    let sp = spec("disputes").expect("spec");
    let now = state.now();
    let mut obj = base(state, sp, now);
    let did = obj["id"].as_str().unwrap_or_default().to_string();
    let t = txn(state, -amount, 1500, &currency, &did, "adjustment", Some("Chargeback withdrawal"));
    let t_obj = state.get("balance_transactions", &t).cloned().unwrap_or(Value::Null);
    for (k, v) in [
        ("amount", json!(amount)),
        ("balance_transactions", json!([t_obj])),
        ("charge", json!(charge_id)),
        ("currency", json!(currency)),
        (
            "evidence",
            json!({"customer_email_address": null, "customer_name": null, "product_description": null, "uncategorized_text": null}),
        ),
        (
            "evidence_details",
            json!({"due_by": now + 7 * 86_400, "has_evidence": false, "past_due": false, "submission_count": 0}),
        ),
        ("is_charge_refundable", json!(false)),
        ("payment_intent", ch["payment_intent"].clone()),
        (
            "payment_method_details",
            json!({"card": {"brand": ch["payment_method_details"]["card"]["brand"], "network_reason_code": "10.4"}, "type": "card"}),
        ),
        ("reason", json!(reason)),
        ("status", json!(status)),
    ] {
        obj.insert(k.into(), v);
    }
    let d = commit_new(state, sp, obj);
    let mut c = ch.as_object().cloned().unwrap_or_default();
    c.insert("disputed".into(), json!(true));
    commit_update(state, spec("charges").expect("spec"), c, None);
    d
}

/// `POST /v1/refunds`.
pub fn create_refund(state: &mut State, params: &Params) -> ApiResult<Value> {
    let charge_id = match (params.str("charge")?, params.str("payment_intent")?) {
        (Some(c), _) => require_ref(state, "charges", &c, "charge")?,
        (None, Some(pi)) => {
            let p = state.require("payment_intents", "payment_intent", &pi, "payment_intent")?;
            p["latest_charge"].as_str().map(String::from).ok_or_else(|| {
                ApiError::invalid_param(
                    "payment_intent",
                    format!("This PaymentIntent ({pi}) does not have a successful charge to refund."),
                )
            })?
        }
        (None, None) => {
            return Err(ApiError::invalid(
                "One of the following params should be provided for this request: payment_intent or charge.",
            ));
        }
    };
    if let Some(r) = params.str("reason")?
        && !["duplicate", "fraudulent", "requested_by_customer"].contains(&r.as_str())
    {
        return Err(ApiError::invalid_param(
            "reason",
            "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
        ));
    }
    let sc = spec("charges").expect("spec");
    let mut ch = load(state, sc, &charge_id)?;
    if ch["status"] != "succeeded" {
        return Err(ApiError::invalid_param(
            "charge",
            format!(
                "Charge {charge_id} cannot be refunded because it has a status of {}.",
                ch["status"].as_str().unwrap_or("")
            ),
        ));
    }
    let basis =
        if ch["captured"] == true { ch["amount_captured"].as_i64() } else { ch["amount"].as_i64() }.unwrap_or(0);
    let refunded = ch["amount_refunded"].as_i64().unwrap_or(0);
    let remaining = basis - refunded;
    if remaining <= 0 {
        return Err(ApiError::state(
            "charge_already_refunded",
            format!("Charge {charge_id} has already been refunded."),
        ));
    }
    let amount = params.int("amount")?.unwrap_or(remaining);
    if amount <= 0 {
        return Err(ApiError::invalid_param("amount", "Invalid positive integer"));
    }
    if amount > remaining {
        return Err(ApiError::invalid_param(
            "amount",
            format!("Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})"),
        )
        .with_code("amount_too_large"));
    }
    let currency = ch["currency"].as_str().unwrap_or("usd").to_string();
    let sp = spec("refunds").expect("spec");
    let now = state.now();
    let mut obj = base(state, sp, now);
    let rid = obj["id"].as_str().unwrap_or_default().to_string();
    let pending = params.str("instructions_email")?.is_some();
    for (k, v) in [
        ("amount", json!(amount)),
        ("balance_transaction", Value::Null),
        ("charge", json!(charge_id)),
        ("currency", json!(currency)),
        ("payment_intent", ch["payment_intent"].clone()),
        ("reason", json!(params.str("reason")?)),
        ("receipt_number", Value::Null),
        ("source_transfer_reversal", Value::Null),
        ("status", json!(if pending { "requires_action" } else { "succeeded" })),
        ("transfer_reversal", Value::Null),
    ] {
        obj.insert(k.into(), v);
    }
    copy_params(&mut obj, params, &["metadata"])?;
    if !pending {
        if ch["captured"] == true {
            let t = txn(state, -amount, 0, &currency, &rid, "refund", Some("REFUND FOR CHARGE"));
            obj.insert("balance_transaction".into(), json!(t));
        }
        ch.insert("amount_refunded".into(), json!(refunded + amount));
        ch.insert("refunded".into(), json!(refunded + amount >= ch["amount"].as_i64().unwrap_or(0)));
    }
    let refund = commit_new(state, sp, obj);
    if !pending {
        commit_update(state, sc, ch, Some("charge.refunded"));
    }
    Ok(refund)
}

/// `POST /v1/refunds/{id}/cancel`: only refunds waiting on the customer can be canceled.
pub fn cancel_refund(state: &mut State, id: &str, params: &Params) -> ApiResult<Value> {
    params.check_allowed(&[])?;
    let sp = spec("refunds").expect("spec");
    let mut r = load(state, sp, id)?;
    if r["status"] != "requires_action" {
        return Err(ApiError::state(
            "refund_cancel_unsupported",
            format!(
                "Refund {id} cannot be canceled because it has a status of {}. Only a refund with a status of requires_action can be canceled.",
                r["status"].as_str().unwrap_or("")
            ),
        ));
    }
    r.insert("status".into(), json!("canceled"));
    Ok(commit_update(state, sp, r, Some("charge.refund.updated")))
}

/// `POST /v1/disputes/{id}/close`: accepts the dispute (it is lost).
pub fn close_dispute(state: &mut State, id: &str, params: &Params) -> ApiResult<Value> {
    params.check_allowed(&[])?;
    let sp = spec("disputes").expect("spec");
    let mut d = load(state, sp, id)?;
    let next = match d["status"].as_str().unwrap_or("") {
        "needs_response" | "under_review" => "lost",
        "warning_needs_response" | "warning_under_review" => "warning_closed",
        s => {
            return Err(ApiError::invalid(format!("This dispute is already closed (status {s}).")));
        }
    };
    d.insert("status".into(), json!(next));
    Ok(commit_update(state, sp, d, Some("charge.dispute.closed")))
}

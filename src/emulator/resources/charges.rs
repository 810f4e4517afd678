//! Charges, refunds, disputes and the balance transactions they produce.

use super::cards::{self, Behaviour};
use super::customers::{default_pm, resolve_pm, test_card_of};
use super::{base, commit_new, commit_update, copy_params, load, require_ref, spec};
use crate::emulator::errors::{ApiError, ApiResult};
use crate::emulator::params::Params;
use crate::emulator::store::State;
use serde_json::{Map, Value, json};

/// Charge create parameters.
pub const CREATE: &[&str] = &[
    "amount",
    "currency",
    "customer",
    "source",
    "description",
    "metadata",
    "capture",
    "receipt_email",
    "shipping",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "transfer_group",
    "application_fee_amount",
    "on_behalf_of",
    "transfer_data",
    "destination",
    "radar_options",
];
/// Charge update parameters.
pub const UPDATE: &[&str] = &[
    "customer",
    "description",
    "fraud_details",
    "metadata",
    "receipt_email",
    "shipping",
    "transfer_group",
];
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

/// Stripe's standard US card fee: 2.9% + 30 cents.
pub fn fee_for(amount: i64) -> i64 {
    (amount * 29 + 500) / 1000 + 30
}

/// Appends a balance transaction and returns its id.
pub fn txn(
    state: &mut State,
    amount: i64,
    fee: i64,
    currency: &str,
    source: &str,
    kind: &str,
    description: Option<&str>,
) -> String {
    let sp = spec("balance_transactions").expect("spec");
    let now = state.now();
    let mut obj = base(state, sp, now);
    obj.remove("metadata");
    let category = match kind {
        "charge" | "payment" => "charge",
        "refund" | "payment_refund" => "refund",
        "adjustment" => "dispute",
        other => other,
    };
    let fee_details = if fee > 0 {
        json!([{"amount": fee, "application": null, "currency": currency, "description": "Stripe processing fees", "type": "stripe_fee"}])
    } else {
        json!([])
    };
    for (k, v) in [
        ("amount", json!(amount)),
        ("available_on", json!(now + 2 * 86_400)),
        ("currency", json!(currency)),
        ("description", json!(description)),
        ("exchange_rate", Value::Null),
        ("fee", json!(fee)),
        ("fee_details", fee_details),
        ("net", json!(amount - fee)),
        ("reporting_category", json!(category)),
        ("source", json!(source)),
        ("status", json!("pending")),
        ("type", json!(kind)),
    ] {
        obj.insert(k.into(), v);
    }
    let id = obj["id"].as_str().unwrap_or_default().to_string();
    // Balance transactions have no events of their own.
    state.insert("balance_transactions", now, Value::Object(obj));
    id
}

/// What a new charge is for.
pub struct ChargeReq {
    /// Amount in minor units.
    pub amount: i64,
    /// Currency (lower case).
    pub currency: String,
    /// Customer id.
    pub customer: Option<String>,
    /// The payment method object charged.
    pub pm: Value,
    /// Capture now (false: authorize only).
    pub capture: bool,
    /// Owning payment intent.
    pub payment_intent: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Metadata.
    pub metadata: Value,
}

/// Creates a charge (succeeded or failed) with its side effects. A decline stores the
/// failed charge and returns the card error carrying its id.
pub fn make_charge(state: &mut State, req: ChargeReq) -> ApiResult<Value> {
    let sp = spec("charges").expect("spec");
    let now = state.now();
    let mut obj = base(state, sp, now);
    let card = test_card_of(&req.pm);
    let decline = cards::charge_error(card.behaviour);
    let ok = decline.is_none();
    let pm_id = req.pm["id"].clone();
    for (k, v) in [
        ("amount", json!(req.amount)),
        (
            "amount_captured",
            json!(if ok && req.capture { req.amount } else { 0 }),
        ),
        ("amount_refunded", json!(0)),
        ("application", Value::Null),
        ("application_fee", Value::Null),
        ("application_fee_amount", Value::Null),
        ("balance_transaction", Value::Null),
        ("billing_details", req.pm["billing_details"].clone()),
        ("calculated_statement_descriptor", json!("STRIPE-SQL")),
        ("captured", json!(ok && req.capture)),
        ("currency", json!(req.currency)),
        ("customer", json!(req.customer)),
        ("description", json!(req.description)),
        ("disputed", json!(false)),
        ("failure_balance_transaction", Value::Null),
        ("failure_code", Value::Null),
        ("failure_message", Value::Null),
        ("fraud_details", json!({})),
        ("invoice", Value::Null),
        (
            "metadata",
            if req.metadata.is_object() {
                req.metadata.clone()
            } else {
                json!({})
            },
        ),
        ("on_behalf_of", Value::Null),
        (
            "outcome",
            json!({"network_status": if ok {"approved_by_network"} else {"declined_by_network"}, "reason": null,
            "risk_level": "normal", "risk_score": 20, "seller_message": if ok {"Payment complete."} else {"The bank did not return any further details with this decline."},
            "type": if ok {"authorized"} else {"issuer_declined"}}),
        ),
        ("paid", json!(ok)),
        ("payment_intent", json!(req.payment_intent)),
        ("payment_method", pm_id),
        (
            "payment_method_details",
            json!({"card": req.pm["card"].clone(), "type": "card"}),
        ),
        ("receipt_email", Value::Null),
        ("receipt_number", Value::Null),
        ("receipt_url", Value::Null),
        ("refunded", json!(false)),
        ("review", Value::Null),
        ("shipping", Value::Null),
        ("source_transfer", Value::Null),
        ("statement_descriptor", Value::Null),
        ("statement_descriptor_suffix", Value::Null),
        ("status", json!(if ok { "succeeded" } else { "failed" })),
        ("transfer_data", Value::Null),
        ("transfer_group", Value::Null),
    ] {
        obj.insert(k.into(), v);
    }
    let id = obj["id"].as_str().unwrap_or_default().to_string();
    if let Some(e) = decline {
        obj.insert("failure_code".into(), json!(e.code.clone()));
        obj.insert("failure_message".into(), json!(e.message.clone()));
        let charge = commit_new(state, sp, obj);
        crate::emulator::events::emit(state, "charge.failed", &charge, None);
        return Err(e.with("charge", json!(id)));
    }
    if req.capture {
        let t = txn(
            state,
            req.amount,
            fee_for(req.amount),
            &req.currency,
            &id,
            "charge",
            req.description.as_deref(),
        );
        obj.insert("balance_transaction".into(), json!(t));
    }
    let charge = commit_new(state, sp, obj);
    crate::emulator::events::emit(state, "charge.succeeded", &charge, None);
    if card.behaviour == Behaviour::Dispute {
        make_dispute(state, &id, "fraudulent", "needs_response");
    }
    Ok(state.get("charges", &id).cloned().unwrap_or(charge))
}

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
    let t = txn(
        state,
        -amount,
        1500,
        &currency,
        &did,
        "adjustment",
        Some("Chargeback withdrawal"),
    );
    let t_obj = state
        .get("balance_transactions", &t)
        .cloned()
        .unwrap_or(Value::Null);
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

/// `POST /v1/charges`.
pub fn create(state: &mut State, params: &Params) -> ApiResult<Value> {
    let amount = params.req_int("amount")?;
    let currency = params.req_str("currency")?.to_lowercase();
    if amount < 50 {
        return Err(ApiError::invalid_param(
            "amount",
            format!("Amount must be at least $0.50 {currency}"),
        )
        .with_code("amount_too_small"));
    }
    let customer = match params.str("customer")? {
        Some(c) => Some(require_ref(state, "customers", &c, "customer")?),
        None => None,
    };
    let pm = match (params.str("source")?, &customer) {
        (Some(src), _) => resolve_pm(state, &src, "source")?,
        (None, Some(c)) => default_pm(state, c).ok_or_else(|| {
            ApiError::invalid_param(
                "customer",
                "Cannot charge a customer that has no active card",
            )
            .with_code("missing")
        })?,
        (None, None) => {
            return Err(
                ApiError::invalid_param("source", "Must provide source or customer.")
                    .with_code("parameter_missing"),
            );
        }
    };
    let charge = make_charge(
        state,
        ChargeReq {
            amount,
            currency,
            customer,
            pm,
            capture: params.bool("capture")?.unwrap_or(true),
            payment_intent: None,
            description: params.str("description")?,
            metadata: params.get("metadata").cloned().unwrap_or(json!({})),
        },
    )?;
    let id = charge["id"].as_str().unwrap_or_default().to_string();
    let mut obj = load(state, spec("charges").expect("spec"), &id)?;
    copy_params(
        &mut obj,
        params,
        &[
            "receipt_email",
            "shipping",
            "statement_descriptor",
            "statement_descriptor_suffix",
            "transfer_group",
        ],
    )?;
    state.replace("charges", Value::Object(obj.clone()));
    Ok(Value::Object(obj))
}

/// `POST /v1/charges/{id}/capture` (also used by payment intent capture).
pub fn capture(state: &mut State, id: &str, params: &Params) -> ApiResult<Value> {
    params.check_allowed(&[
        "amount",
        "application_fee",
        "application_fee_amount",
        "receipt_email",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "transfer_data",
        "transfer_group",
    ])?;
    let sp = spec("charges").expect("spec");
    let mut ch = load(state, sp, id)?;
    if ch["captured"] == true {
        return Err(ApiError::state(
            "charge_already_captured",
            format!("Charge {id} has already been captured."),
        ));
    }
    if ch["status"] != "succeeded" || ch["refunded"] == true {
        return Err(ApiError::state(
            "charge_expired_for_capture",
            format!(
                "Charge {id} cannot be captured because it has a status of {} or was refunded.",
                ch["status"].as_str().unwrap_or("")
            ),
        ));
    }
    let total = ch["amount"].as_i64().unwrap_or(0);
    let amount = params.int("amount")?.unwrap_or(total);
    if amount <= 0 || amount > total {
        return Err(ApiError::invalid_param(
            "amount",
            format!("Amount to capture must be between 1 and {total}."),
        )
        .with_code("amount_too_large"));
    }
    let currency = ch["currency"].as_str().unwrap_or("usd").to_string();
    let t = txn(
        state,
        amount,
        fee_for(amount),
        &currency,
        id,
        "charge",
        ch["description"].as_str(),
    );
    ch.insert("captured".into(), json!(true));
    ch.insert("amount_captured".into(), json!(amount));
    ch.insert("amount_refunded".into(), json!(total - amount));
    ch.insert("balance_transaction".into(), json!(t));
    let out = commit_update(state, sp, ch, Some("charge.captured"));
    if let Some(pi) = out["payment_intent"].as_str().map(String::from)
        && let Some(p) = state.get("payment_intents", &pi).cloned()
        && p["status"] == "requires_capture"
    {
        let mut p = p.as_object().cloned().unwrap_or_default();
        p.insert("status".into(), json!("succeeded"));
        p.insert("amount_received".into(), json!(amount));
        p.insert("amount_capturable".into(), json!(0));
        commit_update(
            state,
            spec("payment_intents").expect("spec"),
            p,
            Some("payment_intent.succeeded"),
        );
    }
    Ok(out)
}

/// `POST /v1/refunds`.
pub fn create_refund(state: &mut State, params: &Params) -> ApiResult<Value> {
    let charge_id = match (params.str("charge")?, params.str("payment_intent")?) {
        (Some(c), _) => require_ref(state, "charges", &c, "charge")?,
        (None, Some(pi)) => {
            let p = state.require("payment_intents", "payment_intent", &pi, "payment_intent")?;
            p["latest_charge"]
                .as_str()
                .map(String::from)
                .ok_or_else(|| {
                    ApiError::invalid_param(
                        "payment_intent",
                        format!(
                            "This PaymentIntent ({pi}) does not have a successful charge to refund."
                        ),
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
    let basis = if ch["captured"] == true {
        ch["amount_captured"].as_i64()
    } else {
        ch["amount"].as_i64()
    }
    .unwrap_or(0);
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
        return Err(ApiError::invalid_param(
            "amount",
            "Invalid positive integer",
        ));
    }
    if amount > remaining {
        return Err(ApiError::invalid_param(
            "amount",
            format!(
                "Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})"
            ),
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
        (
            "status",
            json!(if pending {
                "requires_action"
            } else {
                "succeeded"
            }),
        ),
        ("transfer_reversal", Value::Null),
    ] {
        obj.insert(k.into(), v);
    }
    copy_params(&mut obj, params, &["metadata"])?;
    if !pending {
        if ch["captured"] == true {
            let t = txn(
                state,
                -amount,
                0,
                &currency,
                &rid,
                "refund",
                Some("REFUND FOR CHARGE"),
            );
            obj.insert("balance_transaction".into(), json!(t));
        }
        ch.insert("amount_refunded".into(), json!(refunded + amount));
        ch.insert(
            "refunded".into(),
            json!(refunded + amount >= ch["amount"].as_i64().unwrap_or(0)),
        );
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
            return Err(ApiError::invalid(format!(
                "This dispute is already closed (status {s})."
            )));
        }
    };
    d.insert("status".into(), json!(next));
    Ok(commit_update(state, sp, d, Some("charge.dispute.closed")))
}

/// Marks charge objects for events with the charge id (kept for symmetry with other modules).
pub fn charge_ids(state: &State, pi: &str) -> Vec<String> {
    state
        .find("charges", |c| c["payment_intent"] == pi)
        .iter()
        .filter_map(|c| c["id"].as_str().map(String::from))
        .collect()
}

/// Fields of a charge as a map.
pub fn charge_map(state: &State, id: &str) -> Option<Map<String, Value>> {
    state
        .get("charges", id)
        .and_then(|v| v.as_object().cloned())
}

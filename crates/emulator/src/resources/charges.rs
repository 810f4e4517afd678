//! Charges, refunds, disputes and the balance transactions they produce.

use super::cards::{self, Behaviour};
use super::customers::{default_pm, resolve_pm, test_card_of};
use super::{base, commit_new, commit_update, copy_params, load, require_ref, spec};
use crate::errors::{ApiError, ApiResult};
use crate::params::Params;
use crate::store::State;
use serde_json::{Map, Value, json};

pub use super::refunds::{REFUND_CREATE, cancel_refund, close_dispute, create_refund, make_dispute};

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
pub const UPDATE: &[&str] =
    &["customer", "description", "fraud_details", "metadata", "receipt_email", "shipping", "transfer_group"];
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
        ("amount_captured", json!(if ok && req.capture { req.amount } else { 0 })),
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
        ("metadata", if req.metadata.is_object() { req.metadata.clone() } else { json!({}) }),
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
        ("payment_method_details", json!({"card": req.pm["card"].clone(), "type": "card"})),
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
        crate::events::emit(state, "charge.failed", &charge, None);
        return Err(e.with("charge", json!(id)));
    }
    if req.capture {
        let t = txn(state, req.amount, fee_for(req.amount), &req.currency, &id, "charge", req.description.as_deref());
        obj.insert("balance_transaction".into(), json!(t));
    }
    let charge = commit_new(state, sp, obj);
    crate::events::emit(state, "charge.succeeded", &charge, None);
    if card.behaviour == Behaviour::Dispute {
        make_dispute(state, &id, "fraudulent", "needs_response");
    }
    Ok(state.get("charges", &id).cloned().unwrap_or(charge))
}

/// `POST /v1/charges`.
pub fn create(state: &mut State, params: &Params) -> ApiResult<Value> {
    let amount = params.req_int("amount")?;
    let currency = params.req_str("currency")?.to_lowercase();
    if amount < 50 {
        return Err(ApiError::invalid_param("amount", format!("Amount must be at least $0.50 {currency}"))
            .with_code("amount_too_small"));
    }
    let customer = match params.str("customer")? {
        Some(c) => Some(require_ref(state, "customers", &c, "customer")?),
        None => None,
    };
    let pm = match (params.str("source")?, &customer) {
        (Some(src), _) => resolve_pm(state, &src, "source")?,
        (None, Some(c)) => default_pm(state, c).ok_or_else(|| {
            ApiError::invalid_param("customer", "Cannot charge a customer that has no active card").with_code("missing")
        })?,
        (None, None) => {
            return Err(
                ApiError::invalid_param("source", "Must provide source or customer.").with_code("parameter_missing")
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
        &["receipt_email", "shipping", "statement_descriptor", "statement_descriptor_suffix", "transfer_group"],
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
        return Err(ApiError::state("charge_already_captured", format!("Charge {id} has already been captured.")));
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
        return Err(ApiError::invalid_param("amount", format!("Amount to capture must be between 1 and {total}."))
            .with_code("amount_too_large"));
    }
    let currency = ch["currency"].as_str().unwrap_or("usd").to_string();
    let t = txn(state, amount, fee_for(amount), &currency, id, "charge", ch["description"].as_str());
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
        commit_update(state, spec("payment_intents").expect("spec"), p, Some("payment_intent.succeeded"));
    }
    Ok(out)
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
    state.get("charges", id).and_then(|v| v.as_object().cloned())
}

//! Payment intents and their state machine:
//! requires_payment_method -> requires_confirmation -> (requires_capture | succeeded),
//! cancel from any requires_* state, capture only from requires_capture.

use super::charges::{self, ChargeReq};
use super::customers::resolve_pm;
use super::{base, commit_new, commit_update, copy_params, load, require_ref, spec};
use crate::errors::{ApiError, ApiResult};
use crate::params::Params;
use crate::store::State;
use serde_json::{Map, Value, json};

/// Create parameters.
pub const CREATE: &[&str] = &[
    "amount",
    "currency",
    "application_fee_amount",
    "automatic_payment_methods",
    "capture_method",
    "confirm",
    "confirmation_method",
    "customer",
    "description",
    "error_on_requires_action",
    "mandate",
    "mandate_data",
    "metadata",
    "off_session",
    "on_behalf_of",
    "payment_method",
    "payment_method_configuration",
    "payment_method_data",
    "payment_method_options",
    "payment_method_types",
    "radar_options",
    "receipt_email",
    "return_url",
    "setup_future_usage",
    "shipping",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "transfer_data",
    "transfer_group",
    "use_stripe_sdk",
];
/// Update parameters.
pub const UPDATE: &[&str] = &[
    "amount",
    "application_fee_amount",
    "capture_method",
    "currency",
    "customer",
    "description",
    "metadata",
    "payment_method",
    "payment_method_configuration",
    "payment_method_data",
    "payment_method_options",
    "payment_method_types",
    "receipt_email",
    "setup_future_usage",
    "shipping",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "transfer_data",
    "transfer_group",
];
const CONFIRM: &[&str] = &[
    "payment_method",
    "capture_method",
    "receipt_email",
    "return_url",
    "setup_future_usage",
    "shipping",
    "off_session",
    "payment_method_data",
    "payment_method_options",
    "payment_method_types",
    "error_on_requires_action",
    "mandate",
    "mandate_data",
    "radar_options",
    "use_stripe_sdk",
];
const CANCELABLE: &[&str] =
    &["requires_payment_method", "requires_capture", "requires_confirmation", "requires_action", "processing"];

fn unexpected(msg: String) -> ApiError {
    ApiError::state("payment_intent_unexpected_state", msg)
}

fn status(pi: &Map<String, Value>) -> String {
    pi["status"].as_str().unwrap_or("").to_string()
}

/// A payment method id from `payment_method` or `payment_method_data[type]=card&...[card][token]=tok_x`.
fn pm_param(state: &mut State, params: &Params) -> ApiResult<Option<String>> {
    if let Some(pm) = params.str("payment_method")? {
        return Ok(Some(resolve_pm(state, &pm, "payment_method")?["id"].as_str().unwrap_or_default().to_string()));
    }
    if let Some(data) = params.obj("payment_method_data")? {
        let pm = super::customers::create_pm(state, &data)?;
        return Ok(pm["id"].as_str().map(String::from));
    }
    Ok(None)
}

/// `POST /v1/payment_intents`.
pub fn create(state: &mut State, params: &Params) -> ApiResult<Value> {
    let amount = params.req_int("amount")?;
    let currency = params.req_str("currency")?.to_lowercase();
    if amount < 50 {
        return Err(ApiError::invalid_param("amount", format!("Amount must be at least $0.50 {currency}"))
            .with_code("amount_too_small"));
    }
    let capture_method = params.str("capture_method")?.unwrap_or_else(|| "automatic".into());
    if !["automatic", "automatic_async", "manual"].contains(&capture_method.as_str()) {
        return Err(ApiError::invalid_param(
            "capture_method",
            "Invalid capture_method: must be one of automatic, automatic_async, or manual",
        ));
    }
    if let Some(c) = params.str("customer")? {
        require_ref(state, "customers", &c, "customer")?;
    }
    let confirm = params.bool("confirm")?.unwrap_or(false);
    let pm = pm_param(state, params)?;
    let sp = spec("payment_intents").expect("spec");
    let now = state.now();
    let mut obj = base(state, sp, now);
    let secret = format!("{}_secret_{}", obj["id"].as_str().unwrap_or(""), state.random(25));
    let st = if pm.is_some() { "requires_confirmation" } else { "requires_payment_method" };
    for (k, v) in [
        ("amount", json!(amount)),
        ("amount_capturable", json!(0)),
        ("amount_details", json!({"tip": {}})),
        ("amount_received", json!(0)),
        ("application", Value::Null),
        ("application_fee_amount", Value::Null),
        ("automatic_payment_methods", Value::Null),
        ("canceled_at", Value::Null),
        ("cancellation_reason", Value::Null),
        ("capture_method", json!(capture_method)),
        ("client_secret", json!(secret)),
        ("confirmation_method", json!("automatic")),
        ("currency", json!(currency)),
        ("customer", Value::Null),
        ("description", Value::Null),
        ("invoice", Value::Null),
        ("last_payment_error", Value::Null),
        ("latest_charge", Value::Null),
        ("next_action", Value::Null),
        ("on_behalf_of", Value::Null),
        ("payment_method", json!(pm)),
        ("payment_method_configuration_details", Value::Null),
        (
            "payment_method_options",
            json!({"card": {"installments": null, "mandate_options": null, "network": null, "request_three_d_secure": "automatic"}}),
        ),
        ("payment_method_types", json!(["card"])),
        ("processing", Value::Null),
        ("receipt_email", Value::Null),
        ("review", Value::Null),
        ("setup_future_usage", Value::Null),
        ("shipping", Value::Null),
        ("statement_descriptor", Value::Null),
        ("statement_descriptor_suffix", Value::Null),
        ("status", json!(st)),
        ("transfer_data", Value::Null),
        ("transfer_group", Value::Null),
    ] {
        obj.insert(k.into(), v);
    }
    copy_params(
        &mut obj,
        params,
        &[
            "application_fee_amount",
            "confirmation_method",
            "customer",
            "description",
            "metadata",
            "payment_method_types",
            "receipt_email",
            "setup_future_usage",
            "shipping",
            "statement_descriptor",
            "statement_descriptor_suffix",
            "transfer_group",
            "automatic_payment_methods",
        ],
    )?;
    let id = obj["id"].as_str().unwrap_or_default().to_string();
    let pi = commit_new(state, sp, obj);
    if confirm {
        return confirm_intent(state, &id, &Params::default());
    }
    Ok(pi)
}

/// Update rules: money fields only while the intent is still open.
pub fn before_update(state: &mut State, obj: &mut Map<String, Value>, params: &Params) -> ApiResult<Vec<&'static str>> {
    let st = status(obj);
    let locked = ["succeeded", "canceled", "processing", "requires_capture"].contains(&st.as_str());
    for k in params.0.keys() {
        if locked && !["metadata", "description", "receipt_email", "shipping", "expand"].contains(&k.as_str()) {
            return Err(unexpected(format!(
                "This PaymentIntent's {k} could not be updated because it has a status of {st}. You may only update the {k} of a PaymentIntent with one of the following statuses: requires_payment_method, requires_confirmation, requires_action."
            ))
            .with_param(k));
        }
    }
    if let Some(c) = params.str("customer")? {
        require_ref(state, "customers", &c, "customer")?;
    }
    if let Some(pm) = pm_param(state, params)? {
        obj.insert("payment_method".into(), json!(pm));
        if st == "requires_payment_method" {
            obj.insert("status".into(), json!("requires_confirmation"));
        }
    }
    Ok(vec!["payment_method", "payment_method_data"])
}

/// `POST /v1/payment_intents/{id}/{verb}`.
pub fn action(state: &mut State, id: &str, verb: &str, params: &Params) -> ApiResult<Value> {
    match verb {
        "confirm" => {
            params.check_allowed(CONFIRM)?;
            confirm_intent(state, id, params)
        }
        "capture" => capture(state, id, params),
        "cancel" => cancel(state, id, params),
        "increment_authorization" => increment(state, id, params),
        _ => Err(ApiError::unrecognized("POST", &format!("/v1/payment_intents/{id}/{verb}"))),
    }
}

/// Confirms: charges the payment method; manual capture stops at requires_capture.
pub fn confirm_intent(state: &mut State, id: &str, params: &Params) -> ApiResult<Value> {
    let sp = spec("payment_intents").expect("spec");
    let mut pi = load(state, sp, id)?;
    let st = status(&pi);
    if !["requires_payment_method", "requires_confirmation", "requires_action"].contains(&st.as_str()) {
        return Err(unexpected(format!(
            "You cannot confirm this PaymentIntent because it has a status of {st}. Only a PaymentIntent with one of the following statuses may be confirmed: requires_payment_method, requires_confirmation, requires_action."
        )));
    }
    if let Some(pm) = pm_param(state, params)? {
        pi.insert("payment_method".into(), json!(pm));
    }
    if let Some(cm) = params.str("capture_method")? {
        pi.insert("capture_method".into(), json!(cm));
    }
    let Some(pm_id) = pi["payment_method"].as_str().map(String::from) else {
        return Err(unexpected(
            "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent with a customer, pass in a payment method.".into(),
        ));
    };
    let pm = state.require("payment_methods", "PaymentMethod", &pm_id, "payment_method")?;
    let amount = pi["amount"].as_i64().unwrap_or(0);
    let manual = pi["capture_method"] == "manual";
    let result = charges::make_charge(
        state,
        ChargeReq {
            amount,
            currency: pi["currency"].as_str().unwrap_or("usd").to_string(),
            customer: pi["customer"].as_str().map(String::from),
            pm: pm.clone(),
            capture: !manual,
            payment_intent: Some(id.to_string()),
            description: pi["description"].as_str().map(String::from),
            metadata: json!({}),
        },
    );
    match result {
        Err(e) => {
            let charge = e.extra.get("charge").cloned().unwrap_or(Value::Null);
            pi.insert("status".into(), json!("requires_payment_method"));
            pi.insert("latest_charge".into(), charge.clone());
            pi.insert("payment_method".into(), Value::Null);
            pi.insert(
                "last_payment_error".into(),
                json!({
                    "charge": charge, "code": e.code, "decline_code": e.extra.get("decline_code"), "message": e.message,
                    "payment_method": crate::events::strip_hidden(&pm), "type": "card_error",
                }),
            );
            let out = commit_update(state, sp, pi, Some("payment_intent.payment_failed"));
            Err(e.with("payment_intent", out))
        }
        Ok(ch) => {
            pi.insert("latest_charge".into(), ch["id"].clone());
            pi.insert("last_payment_error".into(), Value::Null);
            let event = if manual {
                pi.insert("status".into(), json!("requires_capture"));
                pi.insert("amount_capturable".into(), json!(amount));
                "payment_intent.amount_capturable_updated"
            } else {
                pi.insert("status".into(), json!("succeeded"));
                pi.insert("amount_received".into(), json!(amount));
                "payment_intent.succeeded"
            };
            Ok(commit_update(state, sp, pi, Some(event)))
        }
    }
}

fn capture(state: &mut State, id: &str, params: &Params) -> ApiResult<Value> {
    params.check_allowed(&[
        "amount_to_capture",
        "application_fee_amount",
        "final_capture",
        "metadata",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "transfer_data",
    ])?;
    let sp = spec("payment_intents").expect("spec");
    let pi = load(state, sp, id)?;
    let st = status(&pi);
    if st != "requires_capture" {
        return Err(unexpected(format!(
            "This PaymentIntent could not be captured because it has a status of {st}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture."
        )));
    }
    let capturable = pi["amount_capturable"].as_i64().unwrap_or(0);
    let amount = params.int("amount_to_capture")?.unwrap_or(capturable);
    if amount <= 0 || amount > capturable {
        return Err(ApiError::invalid_param(
            "amount_to_capture",
            format!("The amount_to_capture must be between 1 and the amount capturable ({capturable})."),
        )
        .with_code("amount_too_large"));
    }
    let charge = pi["latest_charge"].as_str().unwrap_or_default().to_string();
    let mut cp = serde_json::Map::new();
    cp.insert("amount".into(), json!(amount.to_string()));
    charges::capture(state, &charge, &Params(cp))?;
    if let Some(m) = params.get("metadata") {
        let mut p = load(state, sp, id)?;
        crate::params::apply_metadata(&mut p, m)?;
        commit_update(state, sp, p, None);
    }
    Ok(state.get("payment_intents", id).cloned().unwrap_or(Value::Null))
}

fn cancel(state: &mut State, id: &str, params: &Params) -> ApiResult<Value> {
    params.check_allowed(&["cancellation_reason"])?;
    let sp = spec("payment_intents").expect("spec");
    let mut pi = load(state, sp, id)?;
    let st = status(&pi);
    if !CANCELABLE.contains(&st.as_str()) {
        return Err(unexpected(format!(
            "You cannot cancel this PaymentIntent because it has a status of {st}. Only a PaymentIntent with one of the following statuses may be canceled: {}.",
            CANCELABLE.join(", ")
        )));
    }
    let reason = params.str("cancellation_reason")?;
    if let Some(r) = &reason
        && !["duplicate", "fraudulent", "requested_by_customer", "abandoned"].contains(&r.as_str())
    {
        return Err(ApiError::invalid_param(
            "cancellation_reason",
            "Invalid cancellation_reason: must be one of duplicate, fraudulent, requested_by_customer, or abandoned",
        ));
    }
    if st == "requires_capture"
        && let Some(cid) = pi["latest_charge"].as_str().map(String::from)
        && let Some(mut ch) = charges::charge_map(state, &cid)
    {
        // Releasing an authorization shows up as a full refund of the uncaptured charge.
        ch.insert("amount_refunded".into(), ch["amount"].clone());
        ch.insert("refunded".into(), json!(true));
        commit_update(state, spec("charges").expect("spec"), ch, Some("charge.refunded"));
    }
    pi.insert("status".into(), json!("canceled"));
    pi.insert("canceled_at".into(), json!(state.now()));
    pi.insert("cancellation_reason".into(), json!(reason));
    pi.insert("amount_capturable".into(), json!(0));
    Ok(commit_update(state, sp, pi, Some("payment_intent.canceled")))
}

fn increment(state: &mut State, id: &str, params: &Params) -> ApiResult<Value> {
    params.check_allowed(&[
        "amount",
        "application_fee_amount",
        "description",
        "metadata",
        "statement_descriptor",
        "transfer_data",
    ])?;
    let sp = spec("payment_intents").expect("spec");
    let mut pi = load(state, sp, id)?;
    let st = status(&pi);
    if st != "requires_capture" {
        return Err(unexpected(format!(
            "This PaymentIntent's authorization could not be incremented because it has a status of {st}. Only a PaymentIntent with status requires_capture can be incremented."
        )));
    }
    let amount = params.req_int("amount")?;
    let current = pi["amount"].as_i64().unwrap_or(0);
    if amount < current {
        return Err(ApiError::invalid_param(
            "amount",
            format!("The amount must be greater than or equal to the current amount ({current})."),
        ));
    }
    pi.insert("amount".into(), json!(amount));
    pi.insert("amount_capturable".into(), json!(amount));
    copy_params(&mut pi, params, &["description", "metadata"])?;
    if let Some(cid) = pi["latest_charge"].as_str().map(String::from)
        && let Some(mut ch) = charges::charge_map(state, &cid)
    {
        ch.insert("amount".into(), json!(amount));
        commit_update(state, spec("charges").expect("spec"), ch, None);
    }
    Ok(commit_update(state, sp, pi, Some("payment_intent.amount_capturable_updated")))
}

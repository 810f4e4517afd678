//! Payouts: create (debits the balance), cancel (pending only), reverse (paid only).

use super::charges::txn;
use super::{base, commit_new, commit_update, copy_params, load, spec};
use crate::errors::{ApiError, ApiResult};
use crate::params::Params;
use crate::store::State;
use serde_json::{Map, Value, json};

/// Create parameters.
pub const CREATE: &[&str] =
    &["amount", "currency", "description", "destination", "metadata", "method", "source_type", "statement_descriptor"];

/// Builds and stores a payout with its balance transaction.
pub fn make(state: &mut State, amount: i64, currency: &str, automatic: bool, status: &str) -> Map<String, Value> {
    let sp = spec("payouts").expect("spec");
    let now = state.now();
    let mut po = base(state, sp, now);
    let id = po["id"].as_str().unwrap_or_default().to_string();
    let t = txn(state, -amount, 0, currency, &id, "payout", Some("STRIPE PAYOUT"));
    for (k, v) in [
        ("amount", json!(amount)),
        ("arrival_date", json!(now + 2 * 86_400)),
        ("automatic", json!(automatic)),
        ("balance_transaction", json!(t)),
        ("currency", json!(currency)),
        ("description", json!("STRIPE PAYOUT")),
        ("destination", json!("ba_1DemoBankAccount0000000")),
        ("failure_balance_transaction", Value::Null),
        ("failure_code", Value::Null),
        ("failure_message", Value::Null),
        ("method", json!("standard")),
        ("original_payout", Value::Null),
        ("reconciliation_status", json!(if automatic { "completed" } else { "not_applicable" })),
        ("reversed_by", Value::Null),
        ("source_type", json!("card")),
        ("statement_descriptor", Value::Null),
        ("status", json!(status)),
        ("type", json!("bank_account")),
    ] {
        po.insert(k.into(), v);
    }
    po
}

/// `POST /v1/payouts`.
pub fn create(state: &mut State, params: &Params) -> ApiResult<Value> {
    let amount = params.req_int("amount")?;
    let currency = params.req_str("currency")?.to_lowercase();
    if amount <= 0 {
        return Err(ApiError::invalid_param("amount", "Invalid positive integer"));
    }
    let method = params.str("method")?.unwrap_or_else(|| "standard".into());
    if !["standard", "instant"].contains(&method.as_str()) {
        return Err(ApiError::invalid_param("method", "Invalid method: must be one of standard or instant"));
    }
    let mut po = make(state, amount, &currency, false, "pending");
    po.insert("method".into(), json!(method));
    copy_params(&mut po, params, &["description", "destination", "metadata", "source_type", "statement_descriptor"])?;
    Ok(commit_new(state, spec("payouts").expect("spec"), po))
}

/// `POST /v1/payouts/{id}/{cancel|reverse}`.
pub fn action(state: &mut State, id: &str, verb: &str, params: &Params) -> ApiResult<Value> {
    let sp = spec("payouts").expect("spec");
    let mut po = load(state, sp, id)?;
    let st = po["status"].as_str().unwrap_or("").to_string();
    let amount = po["amount"].as_i64().unwrap_or(0);
    let currency = po["currency"].as_str().unwrap_or("usd").to_string();
    match verb {
        "cancel" => {
            params.check_allowed(&[])?;
            if st != "pending" {
                return Err(ApiError::invalid(format!(
                    "Payouts can only be canceled while they are pending; this payout is {st}."
                )));
            }
            let t = txn(state, amount, 0, &currency, id, "payout_cancel", Some("STRIPE PAYOUT CANCEL"));
            po.insert("status".into(), json!("canceled"));
            po.insert("failure_balance_transaction".into(), json!(t));
            Ok(commit_update(state, sp, po, Some("payout.canceled")))
        }
        "reverse" => {
            params.check_allowed(&["metadata"])?;
            if st != "paid" || po["automatic"] == true {
                return Err(ApiError::invalid(format!(
                    "Only paid manual payouts can be reversed; this payout is {st}."
                )));
            }
            if !po["reversed_by"].is_null() {
                return Err(ApiError::invalid("This payout has already been reversed."));
            }
            let mut rev = make(state, amount, &currency, false, "pending");
            rev.insert("original_payout".into(), json!(id));
            let rid = rev["id"].as_str().unwrap_or_default().to_string();
            if let Some(t) = rev["balance_transaction"].as_str().map(String::from)
                && let Some(m) = state.get_mut("balance_transactions", &t)
            {
                m.insert("amount".into(), json!(amount));
                m.insert("net".into(), json!(amount));
                m.insert("type".into(), json!("payout_cancel"));
            }
            let out = commit_new(state, sp, rev);
            po.insert("reversed_by".into(), json!(rid));
            commit_update(state, sp, po, None);
            Ok(out)
        }
        _ => Err(ApiError::unrecognized("POST", &format!("/v1/payouts/{id}/{verb}"))),
    }
}

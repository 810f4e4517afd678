//! Invoice items: pending until attached to a draft invoice, frozen once it is finalized.

use super::invoices::refresh_lines;
use super::{base, commit_new, copy_params, require_ref, spec};
use crate::errors::{ApiError, ApiResult};
use crate::params::Params;
use crate::store::State;
use serde_json::{Map, Value, json};

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
/// `POST /v1/invoiceitems`.
pub fn create_item(state: &mut State, params: &Params) -> ApiResult<Value> {
    let customer = require_ref(state, "customers", &params.req_str("customer")?, "customer")?;
    let quantity = params.int("quantity")?.unwrap_or(1);
    let (price, unit, currency) = match params.str("price")? {
        Some(p) => {
            let pr = state.require("prices", "price", &p, "price")?;
            (pr.clone(), pr["unit_amount"].as_i64().unwrap_or(0), pr["currency"].as_str().unwrap_or("usd").to_string())
        }
        None => {
            let currency = params.str("currency")?;
            let unit = match (params.int("amount")?, params.int("unit_amount")?) {
                (Some(a), _) => a / quantity.max(1),
                (None, Some(u)) => u,
                (None, None) => return Err(ApiError::missing("amount")),
            };
            (Value::Null, unit, currency.ok_or_else(|| ApiError::missing("currency"))?.to_lowercase())
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
    copy_params(&mut obj, params, &["description", "discountable", "metadata", "period"])?;
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
        && state.get("invoices", inv).is_some_and(|i| i["status"] != "draft")
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
        && state.get("invoices", inv).is_some_and(|i| i["status"] != "draft")
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

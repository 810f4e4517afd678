//! Maps a method and path to the resource operation, and renders the answer
//! (hidden fields stripped, `expand[]` applied).

use super::errors::{ApiError, ApiResult};
use super::expand::render;
use super::filters;
use super::list::{self, page_of};
use super::params::Params;
use super::resources::{self, customers, spec};
use super::search;
use super::store::State;
use serde_json::{Value, json};

/// True for requests that change state (idempotency and drop-after-commit apply).
pub fn is_write(method: &str) -> bool {
    method == "POST" || method == "DELETE"
}

/// The fast path for a plain top-level list without `expand`: the body text, or
/// `None` when the request is not such a list.
pub fn list_fast(state: &State, method: &str, path: &str, params: &Params) -> Option<ApiResult<String>> {
    if method != "GET" || params.has("expand") {
        return None;
    }
    let res = path.strip_prefix("/v1/")?;
    if res.contains('/') {
        return None;
    }
    let sp = spec(res)?;
    Some(filters::compile(sp.name, params).and_then(|f| list::page_json(state, sp.name, sp.object, path, params, &f)))
}

/// Serves one API request against the state.
pub fn route(state: &mut State, method: &str, path: &str, params: Params) -> ApiResult<Value> {
    let unrecognized = || ApiError::unrecognized(method, path);
    let rest = path.strip_prefix("/v1/").ok_or_else(unrecognized)?;
    let segs: Vec<&str> = rest.split('/').collect();
    if segs.iter().any(|s| s.is_empty()) {
        return Err(unrecognized());
    }
    // `total_count` on search results is computed by the search itself, not expanded.
    let expand: Vec<String> = params.expand().into_iter().filter(|e| e != "total_count").collect();
    let out = match (method, segs.as_slice()) {
        ("GET", ["balance"]) => balance(state),
        ("GET", ["account"]) => account(state),
        ("GET", [res]) => {
            let sp = spec(res).ok_or_else(unrecognized)?;
            let f = filters::compile(sp.name, &params)?;
            list::page(state, sp.name, sp.object, path, &params, &f)?
        }
        ("GET", [res, "search"]) if search::fields(res).is_some() => search::run(state, res, path, &params)?,
        ("POST", [res]) => resources::create(state, spec(res).ok_or_else(unrecognized)?, &params)?,
        ("GET", [res, id]) => {
            let sp = spec(res).ok_or_else(unrecognized)?;
            let found = if sp.name == "payment_methods" && id.starts_with("pm_card_") {
                customers::resolve_pm(state, id, "payment_method")?
            } else {
                state.get(sp.name, id).cloned().ok_or_else(|| ApiError::no_such(sp.object, id, "id"))?
            };
            params.check_allowed(&[])?;
            found
        }
        ("POST", [res, id]) => resources::update(state, spec(res).ok_or_else(unrecognized)?, id, &params)?,
        ("DELETE", [res, id]) => resources::delete(state, spec(res).ok_or_else(unrecognized)?, id, &params)?,
        ("GET", ["invoices", id, "lines"]) => {
            params.check_allowed(&["limit", "starting_after", "ending_before"])?;
            let inv = state.require("invoices", "invoice", id, "invoice")?;
            page_of(inv["lines"]["data"].as_array().map_or(&[][..], |v| v), path, &params)?
        }
        ("GET", ["quotes", id, "line_items"]) => {
            params.check_allowed(&["limit", "starting_after", "ending_before"])?;
            let q = state.require("quotes", "quote", id, "quote")?;
            page_of(q["_line_items"]["data"].as_array().map_or(&[][..], |v| v), path, &params)?
        }
        ("GET", ["customers", id, "payment_methods"]) => {
            state.require("customers", "customer", id, "customer")?;
            let mut p = params.clone();
            p.0.insert("customer".into(), json!(id));
            let f = filters::compile("payment_methods", &p)?;
            list::page(state, "payment_methods", "payment_method", path, &p, &f)?
        }
        ("POST", [res, id, verb]) => resources::action(state, spec(res).ok_or_else(unrecognized)?, id, verb, &params)?,
        _ => return Err(unrecognized()),
    };
    render(state, &out, &expand)
}

/// The account itself (`GET /v1/account`), created no later than its oldest
/// object (an empty account: now).
fn account(state: &State) -> Value {
    let created = state.oldest_created().unwrap_or_else(|| state.now()).min(state.now());
    json!({
        "id": "acct_1EmulatorAccount0",
        "object": "account",
        "business_type": "company",
        "charges_enabled": true,
        "country": "US",
        "created": created,
        "default_currency": "usd",
        "details_submitted": true,
        "email": "owner@example.com",
        "metadata": {},
        "payouts_enabled": true,
        "type": "standard"
    })
}

/// `GET /v1/balance`: sums of net amounts by status and currency.
fn balance(state: &State) -> Value {
    let mut avail: std::collections::BTreeMap<String, i64> = Default::default();
    let mut pending: std::collections::BTreeMap<String, i64> = Default::default();
    if let Some(c) = state.col("balance_transactions") {
        for t in c.iter() {
            let cur = t["currency"].as_str().unwrap_or("usd").to_string();
            let net = t["net"].as_i64().unwrap_or(0);
            let slot = if t["status"] == "available" { &mut avail } else { &mut pending };
            *slot.entry(cur).or_default() += net;
        }
    }
    let fmt = |m: &std::collections::BTreeMap<String, i64>| -> Value {
        Value::Array(m.iter().map(|(c, a)| json!({"amount": a, "currency": c, "source_types": {"card": a}})).collect())
    };
    json!({"object": "balance", "available": fmt(&avail), "livemode": false, "pending": fmt(&pending)})
}

//! List filters per resource, written from Stripe's API reference independently of the
//! catalog and of `pushdown/` (so one wrong table cannot make both sides agree).

use super::errors::{ApiError, ApiResult};
use super::params::{Params, parse_bool, parse_int};
use super::store::State;
use serde_json::Value;

/// How one list parameter filters.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Integer field: exact `p=n` or `p[gt|gte|lt|lte]=n`.
    Range(&'static str, &'static str),
    /// String field equals the value.
    Eq(&'static str, &'static str),
    /// String field equals one of a closed set of values.
    Enum(&'static str, &'static str, &'static [&'static str]),
    /// Boolean field equals the value.
    Bool(&'static str, &'static str),
    /// Array parameter: field is one of the values.
    In(&'static str, &'static str),
    /// Resource-specific logic in [`custom`].
    Custom(&'static str),
}
use Rule::*;

const SUB_STATUSES: &[&str] = &[
    "active",
    "all",
    "canceled",
    "ended",
    "incomplete",
    "incomplete_expired",
    "past_due",
    "paused",
    "trialing",
    "unpaid",
];

fn rules(resource: &str) -> &'static [Rule] {
    match resource {
        "customers" => &[Range("created", "created"), Eq("email", "email"), Eq("test_clock", "test_clock")],
        "payment_intents" => &[Range("created", "created"), Eq("customer", "customer")],
        "charges" => &[
            Range("created", "created"),
            Eq("customer", "customer"),
            Eq("payment_intent", "payment_intent"),
            Eq("transfer_group", "transfer_group"),
        ],
        "refunds" => &[Range("created", "created"), Eq("charge", "charge"), Eq("payment_intent", "payment_intent")],
        "prices" => &[
            Range("created", "created"),
            Bool("active", "active"),
            Eq("currency", "currency"),
            In("lookup_keys", "lookup_key"),
            Eq("product", "product"),
            Enum("type", "type", &["one_time", "recurring"]),
            Custom("recurring"),
        ],
        "subscriptions" => &[
            Range("created", "created"),
            Range("current_period_end", "current_period_end"),
            Range("current_period_start", "current_period_start"),
            Enum("collection_method", "collection_method", &["charge_automatically", "send_invoice"]),
            Eq("customer", "customer"),
            Custom("price"),
            Custom("status"),
            Eq("test_clock", "test_clock"),
            Custom("automatic_tax"),
        ],
        "subscription_items" => &[Custom("subscription")],
        "balance_transactions" => &[
            Range("created", "created"),
            Eq("currency", "currency"),
            Custom("payout"),
            Eq("source", "source"),
            Eq("type", "type"),
        ],
        "products" => &[
            Range("created", "created"),
            Bool("active", "active"),
            In("ids", "id"),
            Bool("shippable", "shippable"),
            Eq("url", "url"),
        ],
        "invoices" => &[
            Range("created", "created"),
            Range("due_date", "due_date"),
            Enum("collection_method", "collection_method", &["charge_automatically", "send_invoice"]),
            Eq("customer", "customer"),
            Enum("status", "status", &["draft", "open", "paid", "uncollectible", "void"]),
            Eq("subscription", "subscription"),
        ],
        "invoiceitems" => {
            &[Range("created", "date"), Eq("customer", "customer"), Eq("invoice", "invoice"), Custom("pending")]
        }
        "payment_methods" => &[Eq("customer", "customer"), Eq("type", "type")],
        "quotes" => &[
            Eq("customer", "customer"),
            Enum("status", "status", &["accepted", "canceled", "draft", "open"]),
            Eq("test_clock", "test_clock"),
        ],
        "events" => &[Range("created", "created"), Custom("delivery_success"), Custom("type"), In("types", "type")],
        "disputes" => &[Range("created", "created"), Eq("charge", "charge"), Eq("payment_intent", "payment_intent")],
        "payouts" => &[
            Range("created", "created"),
            Range("arrival_date", "arrival_date"),
            Eq("destination", "destination"),
            Eq("status", "status"),
        ],
        _ => &[Range("created", "created")],
    }
}

type Pred = Box<dyn Fn(&Value, &State) -> bool + Send + Sync>;

/// A list request's filters, ready to apply.
pub struct Compiled {
    /// Inclusive `created` bounds usable for binary search in the store.
    pub created: Option<(i64, i64)>,
    preds: Vec<Pred>,
}

impl Compiled {
    /// True when the object passes every filter.
    pub fn matches(&self, v: &Value, state: &State) -> bool {
        self.preds.iter().all(|p| p(v, state))
    }
}

const PAGING: &[&str] = &["limit", "starting_after", "ending_before", "expand"];

/// Builds the filter of a list request; unknown or malformed params fail like Stripe.
pub fn compile(resource: &str, params: &Params) -> ApiResult<Compiled> {
    let rules = rules(resource);
    let mut out = Compiled { created: None, preds: vec![] };
    for (key, value) in &params.0 {
        if PAGING.contains(&key.as_str()) {
            continue;
        }
        let Some(rule) = rules.iter().find(|r| name(r) == key) else {
            return Err(ApiError::unknown_param(key));
        };
        match *rule {
            Range(p, field) => {
                let (lo, hi) = range(p, value)?;
                if p == "created" {
                    let (a, b) = out.created.unwrap_or((i64::MIN, i64::MAX));
                    out.created = Some((a.max(lo), b.min(hi)));
                }
                out.preds.push(Box::new(move |v, _| v[field].as_i64().is_some_and(|x| x >= lo && x <= hi)));
            }
            Eq(p, field) => {
                let want = string(p, value)?;
                out.preds.push(Box::new(move |v, _| id_of(&v[field]) == Some(want.as_str())));
            }
            Enum(p, field, allowed) => {
                let want = string(p, value)?;
                if !allowed.contains(&want.as_str()) {
                    return Err(ApiError::invalid_param(
                        p,
                        format!("Invalid {p}: must be one of {}", allowed.join(", ")),
                    ));
                }
                out.preds.push(Box::new(move |v, _| v[field].as_str() == Some(want.as_str())));
            }
            Bool(p, field) => {
                let want = parse_bool(p, value)?;
                out.preds.push(Box::new(move |v, _| v[field].as_bool() == Some(want)));
            }
            In(p, field) => {
                let wants = strings(p, value)?;
                out.preds.push(Box::new(move |v, _| v[field].as_str().is_some_and(|s| wants.iter().any(|w| w == s))));
            }
            Custom(p) => out.preds.push(custom(resource, p, value)?),
        }
    }
    if resource == "subscriptions" && !params.has("status") {
        // Stripe's default: every subscription that has not been canceled.
        out.preds.push(Box::new(|v, _| v["status"] != "canceled"));
    }
    if resource == "subscription_items" && !params.has("subscription") {
        return Err(ApiError::missing("subscription"));
    }
    Ok(out)
}

fn custom(resource: &str, p: &str, value: &Value) -> ApiResult<Pred> {
    Ok(match (resource, p) {
        ("prices", "recurring") => {
            let Value::Object(m) = value else {
                return Err(ApiError::invalid_param("recurring", "Invalid hash"));
            };
            let mut interval = None;
            let mut usage = None;
            for (k, v) in m {
                match k.as_str() {
                    "interval" => interval = Some(string("recurring[interval]", v)?),
                    "usage_type" => usage = Some(string("recurring[usage_type]", v)?),
                    other => return Err(ApiError::unknown_param(&format!("recurring[{other}]"))),
                }
            }
            Box::new(move |v, _| {
                let r = &v["recurring"];
                !r.is_null()
                    && interval.as_deref().is_none_or(|i| r["interval"] == i)
                    && usage.as_deref().is_none_or(|u| r["usage_type"] == u)
            })
        }
        ("subscriptions", "status") => {
            let want = string("status", value)?;
            if !SUB_STATUSES.contains(&want.as_str()) {
                return Err(ApiError::invalid_param(
                    "status",
                    format!("Invalid status: must be one of {}", SUB_STATUSES.join(", ")),
                ));
            }
            Box::new(move |v, _| {
                let s = v["status"].as_str().unwrap_or("");
                match want.as_str() {
                    "all" => true,
                    "ended" => s == "canceled" || s == "incomplete_expired",
                    w => s == w,
                }
            })
        }
        ("subscriptions", "price") => {
            let want = string("price", value)?;
            Box::new(move |v, _| {
                v["items"]["data"]
                    .as_array()
                    .is_some_and(|items| items.iter().any(|i| i["price"]["id"] == want.as_str()))
            })
        }
        ("subscriptions", "automatic_tax") => {
            let enabled = match value {
                Value::Object(m) => match m.get("enabled") {
                    Some(v) => parse_bool("automatic_tax[enabled]", v)?,
                    None => return Err(ApiError::missing("automatic_tax[enabled]")),
                },
                _ => return Err(ApiError::invalid_param("automatic_tax", "Invalid hash")),
            };
            Box::new(move |v, _| v["automatic_tax"]["enabled"].as_bool().unwrap_or(false) == enabled)
        }
        ("subscription_items", "subscription") => {
            let want = string("subscription", value)?;
            Box::new(move |v, _| v["subscription"] == want.as_str())
        }
        ("balance_transactions", "payout") => {
            let want = string("payout", value)?;
            Box::new(move |v, st| {
                let id = v["id"].as_str().unwrap_or("");
                st.payout_of_txn.get(id).is_some_and(|p| *p == want) || v["source"] == want.as_str()
            })
        }
        ("invoiceitems", "pending") => {
            let want = parse_bool("pending", value)?;
            Box::new(move |v, _| v["invoice"].is_null() == want)
        }
        ("events", "delivery_success") => {
            let want = parse_bool("delivery_success", value)?;
            // Nothing is delivered anywhere, so every event counts as delivered.
            Box::new(move |_, _| want)
        }
        ("events", "type") => {
            let want = string("type", value)?;
            Box::new(move |v, _| {
                let t = v["type"].as_str().unwrap_or("");
                match want.strip_suffix('*') {
                    Some(prefix) => t.starts_with(prefix),
                    None => t == want,
                }
            })
        }
        _ => return Err(ApiError::unknown_param(p)),
    })
}

fn name(r: &Rule) -> &'static str {
    match *r {
        Range(p, _) | Eq(p, _) | Enum(p, _, _) | Bool(p, _) | In(p, _) | Custom(p) => p,
    }
}

/// The id of a reference field whether stored as an id or expanded.
fn id_of(v: &Value) -> Option<&str> {
    v.as_str().or_else(|| v["id"].as_str())
}

fn string(p: &str, v: &Value) -> ApiResult<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        _ => Err(ApiError::invalid_param(p, format!("Invalid string: {p} must be a string"))),
    }
}

fn strings(p: &str, v: &Value) -> ApiResult<Vec<String>> {
    match v {
        Value::Array(a) => a.iter().map(|x| string(p, x)).collect(),
        Value::String(s) => Ok(vec![s.clone()]),
        _ => Err(ApiError::invalid_param(p, format!("Invalid array: {p} must be an array of strings"))),
    }
}

/// Inclusive bounds of `p=n` or `p[gt|gte|lt|lte]=n`.
fn range(p: &str, v: &Value) -> ApiResult<(i64, i64)> {
    match v {
        Value::Object(m) => {
            let (mut lo, mut hi) = (i64::MIN, i64::MAX);
            for (k, x) in m {
                let label = format!("{p}[{k}]");
                let n = parse_int(&label, x)?;
                match k.as_str() {
                    "gt" => lo = lo.max(n.saturating_add(1)),
                    "gte" => lo = lo.max(n),
                    "lt" => hi = hi.min(n.saturating_sub(1)),
                    "lte" => hi = hi.min(n),
                    _ => return Err(ApiError::unknown_param(&label)),
                }
            }
            Ok((lo, hi))
        }
        other => {
            let n = parse_int(p, other)?;
            Ok((n, n))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(v: Value) -> Params {
        Params(v.as_object().unwrap().clone())
    }

    #[test]
    fn ranges_and_unknown_params() {
        let c = compile("customers", &p(json!({"created": {"gt": "10", "lte": "20"}}))).unwrap();
        assert_eq!(c.created, Some((11, 20)));
        let st = State::new(1);
        assert!(c.matches(&json!({"created": 15}), &st));
        assert!(!c.matches(&json!({"created": 10}), &st));
        let e = compile("customers", &p(json!({"colour": "red"}))).err().unwrap();
        assert_eq!(e.message, "Received unknown parameter: colour");
        assert!(compile("customers", &p(json!({"created": {"around": "1"}}))).is_err());
        assert!(compile("invoices", &p(json!({"status": "bogus"}))).is_err());
    }

    #[test]
    fn subscription_status_default_and_all() {
        let st = State::new(1);
        let canceled = json!({"status": "canceled"});
        assert!(!compile("subscriptions", &p(json!({}))).unwrap().matches(&canceled, &st));
        assert!(compile("subscriptions", &p(json!({"status": "all"}))).unwrap().matches(&canceled, &st));
        let c = compile("events", &p(json!({"type": "customer.*"}))).unwrap();
        assert!(c.matches(&json!({"type": "customer.created"}), &st));
        assert!(!c.matches(&json!({"type": "charge.created"}), &st));
    }
}

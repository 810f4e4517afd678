//! The plan's rows equal a full scan filtered locally: a model of Stripe's list,
//! search and retrieve semantics runs the plan over random rows, DataFusion's part
//! (every filter not marked Exact) is applied after, and the result is compared
//! with SQL's meaning of all filters.

use std::collections::BTreeMap;

use datafusion::logical_expr::TableProviderFilterPushDown;
use proptest::prelude::*;

use super::fixture::{charges, subscriptions};
use super::props::{Spec, parse_query, spec};
use crate::pushdown::{Options, RequestPlan, plan};

/// One charge or subscription, with the columns the specs touch
/// (a subscription's `price` is held in `payment_intent`).
#[derive(Debug, Clone)]
struct Row {
    subscription: bool,
    id: String,
    created: i64,
    amount: i64,
    customer: String,
    payment_intent: String,
    status: String,
    currency: String,
    livemode: bool,
    refunded: bool,
    metadata: BTreeMap<String, String>,
}

impl Row {
    fn text(&self, column: &str) -> Option<&str> {
        Some(match (self.subscription, column) {
            (_, "id") => &self.id,
            (_, "customer") => &self.customer,
            (false, "payment_intent") | (true, "price") => &self.payment_intent,
            (_, "status") => &self.status,
            (false, "currency") => &self.currency,
            _ => return None,
        })
    }

    fn number(&self, column: &str) -> Option<i64> {
        match (self.subscription, column) {
            (_, "created") => Some(self.created),
            (false, "amount") => Some(self.amount),
            _ => None,
        }
    }

    fn flag(&self, column: &str) -> Option<bool> {
        match (self.subscription, column) {
            (_, "livemode") => Some(self.livemode),
            (false, "refunded") => Some(self.refunded),
            _ => None,
        }
    }
}

fn value() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "cus_1",
        "cus_2",
        "in_1",
        "a b",
        "x'y",
        "succeeded",
        "active",
        "canceled",
        "CUS_1",
        "all",
        "",
    ])
    .prop_map(str::to_string)
}

fn rows(subscription: bool) -> impl Strategy<Value = Vec<Row>> {
    let row = (
        ((-3i64..40).prop_map(|k| k * 1000), -3i64..40, value(), value()),
        (value(), value(), any::<bool>(), any::<bool>()),
        prop::collection::btree_map(value(), value(), 0..3),
    );
    prop::collection::vec(row, 0..10).prop_map(move |rows| {
        let ids = ["cus_1", "cus_2", "in_1"];
        rows.into_iter()
            .enumerate()
            .map(
                |(
                    i,
                    ((created, amount, customer, payment_intent), (status, currency, livemode, refunded), metadata),
                )| Row {
                    subscription,
                    id: ids.get(i).map_or_else(|| format!("ch_{i}"), |s| s.to_string()),
                    created,
                    amount,
                    customer,
                    payment_intent,
                    status,
                    currency,
                    livemode,
                    refunded,
                    metadata,
                },
            )
            .collect()
    })
}

/// SQL's meaning of a filter on a row (`None` when the spec's column is not a charge column).
fn sql(spec: &Spec, row: &Row) -> Option<bool> {
    let cmp = |op: u8, l: f64, r: f64| match op {
        0 => l > r,
        1 => l >= r,
        2 => l < r,
        3 => l <= r,
        _ => l == r,
    };
    Some(match spec {
        Spec::Eq(c, v) => row.text(c)? == v,
        Spec::NotEq(c, v) => row.text(c)? != v,
        Spec::In(c, vs) => vs.iter().any(|v| row.text(c) == Some(v.as_str())) && row.text(c).is_some(),
        Spec::Cmp("created", op, v) => cmp(*op, row.created as f64, (*v * 1000) as f64),
        Spec::Cmp(c, op, v) => cmp(*op, row.number(c)? as f64, *v as f64),
        Spec::FloatAmount(op, f) => cmp(*op, row.amount as f64, *f),
        Spec::Like(c, p) => like(row.text(c)?, p),
        Spec::Meta(k, v) => row.metadata.get(k) == Some(v),
        Spec::Bool(c, b) => row.flag(c)? == *b,
        Spec::Const(b) => *b,
    })
}

/// SQL LIKE with `%` and `_` (the generated patterns have no escapes).
fn like(s: &str, p: &str) -> bool {
    let (s, p): (Vec<char>, Vec<char>) = (s.chars().collect(), p.chars().collect());
    fn go(s: &[char], p: &[char]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some(('%', rest)) => (0..=s.len()).any(|i| go(&s[i..], rest)),
            Some(('_', rest)) => !s.is_empty() && go(&s[1..], rest),
            Some((c, rest)) => s.first() == Some(c) && go(&s[1..], rest),
        }
    }
    go(&s, &p)
}

/// Stripe's list params on a row (exact params; `limit` ignored).
fn list_matches(params: &[(String, String)], row: &Row) -> bool {
    // Stripe hides canceled subscriptions unless a status is given.
    let hidden = row.subscription
        && !params.iter().any(|(k, _)| k == "status")
        && matches!(row.status.as_str(), "canceled" | "incomplete_expired");
    !hidden
        && params.iter().all(|(k, v)| {
            let n = || v.parse::<i64>().expect("integer bound");
            match k.as_str() {
                "limit" => true,
                "customer" => row.customer == *v,
                "payment_intent" | "price" => row.payment_intent == *v,
                "status" => v == "all" || row.status == *v,
                "created[gt]" => row.created > n(),
                "created[gte]" => row.created >= n(),
                "created[lt]" => row.created < n(),
                "created[lte]" => row.created <= n(),
                other => panic!("param {other} not modelled"),
            }
        })
}

/// Stripe's search on a row, modelled loosely (case-insensitive `:`), as the real one may be.
fn search_matches(query: &str, row: &Row) -> bool {
    parse_query(query).expect("parsable").iter().all(|(field, key, op, value)| {
        if let Some(k) = key {
            return row.metadata.get(k).is_some_and(|v| v.eq_ignore_ascii_case(value));
        }
        if let Some(n) = row.number(field) {
            let v: i64 = value.parse().expect("number");
            return match op.as_str() {
                ">" => n > v,
                ">=" => n >= v,
                "<" => n < v,
                "<=" => n <= v,
                _ => panic!("op {op} on a number"),
            };
        }
        let text = row.text(field).expect("searchable text field");
        match op.as_str() {
            ":" => text.eq_ignore_ascii_case(value),
            "~" => text.to_lowercase().contains(&value.to_lowercase()),
            _ => panic!("op {op} on text"),
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn charges_plan_then_recheck_equals_a_filtered_full_scan(
        rows in rows(false),
        specs in prop::collection::vec(spec(), 0..5),
        use_search in any::<bool>(),
    ) {
        check(&charges(), &rows, specs, use_search)?;
    }

    #[test]
    fn subscriptions_plan_then_recheck_equals_a_filtered_full_scan(
        rows in rows(true),
        specs in prop::collection::vec(spec(), 0..5),
    ) {
        check(&subscriptions(), &rows, specs, false)?;
    }
}

fn check(t: &crate::catalog::TableDef, rows: &[Row], specs: Vec<Spec>, use_search: bool) -> Result<(), TestCaseError> {
    {
        let specs: Vec<Spec> = specs.into_iter().filter(|s| rows.first().is_none_or(|r| sql(s, r).is_some())).collect();
        prop_assume!(rows.iter().all(|r| specs.iter().all(|s| sql(s, r).is_some())));
        let filters: Vec<_> = specs.iter().map(|s| s.render(None)).collect();
        let pushed = plan(t, &filters, None, &Options { use_search });
        let fetched: Vec<&Row> = match &pushed.plan {
            RequestPlan::Empty => Vec::new(),
            RequestPlan::Retrieve { ids, .. } => rows.iter().filter(|r| ids.contains(&r.id)).collect(),
            RequestPlan::List { requests, .. } => {
                rows.iter().filter(|r| requests.iter().any(|q| list_matches(&q.params, r))).collect()
            }
            RequestPlan::Search { query, .. } => rows.iter().filter(|r| search_matches(query, r)).collect(),
            RequestPlan::MissingParent { .. } => panic!("charges is not nested"),
        };
        let rechecked: Vec<&str> = fetched
            .into_iter()
            .filter(|r| {
                specs
                    .iter()
                    .zip(&pushed.support)
                    .all(|(s, sup)| *sup == TableProviderFilterPushDown::Exact || sql(s, r) == Some(true))
            })
            .map(|r| r.id.as_str())
            .collect();
        let expected: Vec<&str> =
            rows.iter().filter(|r| specs.iter().all(|s| sql(s, r) == Some(true))).map(|r| r.id.as_str()).collect();
        prop_assert_eq!(rechecked, expected, "plan {}", pushed.plan);
    }
    Ok(())
}

//! Bounded property tests (proptest, fixed seed via ChaCha and no persistence):
//! random filter trees over every catalog table never panic the pushdown planner
//! and only produce the table's own paths, valid ids and catalog filter params;
//! search queries the planner writes parse back, with the exact value, in the
//! emulator's independent search parser; form encoding round-trips through the
//! emulator's independent form parser.

use crate::catalog::{TableDef, builtin};
use crate::pushdown::retrieve::is_valid_id;
use crate::pushdown::{self, Options, RequestPlan};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, col, lit};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Map, Value};
use stripe_emulator::search::{Lit, Op};

const CASES: u32 = 300;

/// Cases of the pushdown target (planning only, no I/O: cheap).
const PLAN_CASES: u32 = 1500;

fn runner() -> TestRunner {
    runner_with(CASES)
}

fn runner_with(cases: u32) -> TestRunner {
    let config = Config { cases, failure_persistence: None, rng_algorithm: RngAlgorithm::ChaCha, ..Config::default() };
    TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha))
}

#[derive(Debug, Clone)]
enum L {
    Str(String),
    Int(i64),
    Bool(bool),
    Float(f64),
    Ts(i64),
    Null,
}

#[derive(Debug, Clone)]
enum T {
    Cmp(usize, u8, L),
    In(usize, Vec<L>, bool),
    Between(usize, L, L),
    Like(usize, String),
    IsNull(usize, bool),
    /// `id IN (…)`.
    Ids(Vec<String>),
    /// Equality on the column of the table's n-th list filter, its parent or search field.
    Keyed(u8, usize, L),
    And(Box<T>, Box<T>),
    Or(Box<T>, Box<T>),
    Not(Box<T>),
}

fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z]{2,4}_[A-Za-z0-9]{1,8}",
        Just("../charges".to_string()),
        Just("cus_1?expand[]=x".to_string()),
        Just("x' OR name:'y".to_string()),
        Just("%2F..%2F".to_string()),
        Just(String::new()),
    ]
}

fn literal() -> impl Strategy<Value = L> {
    prop_oneof![
        hostile_string().prop_map(L::Str),
        any::<i64>().prop_map(L::Int),
        (-5i64..5_000_000_000).prop_map(L::Int),
        any::<bool>().prop_map(L::Bool),
        any::<f64>().prop_map(L::Float),
        (0i64..4_000_000_000).prop_map(L::Ts),
        Just(L::Null),
    ]
}

fn tree() -> impl Strategy<Value = T> {
    let leaf = prop_oneof![
        (any::<usize>(), 0u8..6, literal()).prop_map(|(c, o, l)| T::Cmp(c, o, l)),
        (any::<usize>(), prop::collection::vec(literal(), 0..6), any::<bool>()).prop_map(|(c, v, n)| T::In(c, v, n)),
        (any::<usize>(), literal(), literal()).prop_map(|(c, a, b)| T::Between(c, a, b)),
        (any::<usize>(), "[a-z%_]{0,6}").prop_map(|(c, p)| T::Like(c, p)),
        (any::<usize>(), any::<bool>()).prop_map(|(c, n)| T::IsNull(c, n)),
        prop::collection::vec(hostile_string(), 1..5).prop_map(T::Ids),
        (0u8..3, any::<usize>(), literal()).prop_map(|(k, i, l)| T::Keyed(k, i, l)),
    ];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| T::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| T::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| T::Not(Box::new(a))),
        ]
    })
}

fn lit_expr(l: &L) -> Expr {
    match l {
        L::Str(s) => lit(s.clone()),
        L::Int(i) => lit(*i),
        L::Bool(b) => lit(*b),
        L::Float(f) => lit(*f),
        L::Ts(t) => lit(ScalarValue::TimestampSecond(Some(*t), Some("UTC".into()))),
        L::Null => lit(ScalarValue::Utf8(None)),
    }
}

fn render(t: &T, table: &TableDef) -> Expr {
    let column = |i: &usize| col(table.columns[i % table.columns.len()].name.as_str());
    match t {
        T::Cmp(c, op, l) => {
            let (a, b) = (column(c), lit_expr(l));
            match op {
                0 => a.eq(b),
                1 => a.not_eq(b),
                2 => a.lt(b),
                3 => a.lt_eq(b),
                4 => a.gt(b),
                _ => b.gt_eq(a),
            }
        }
        T::In(c, v, neg) => column(c).in_list(v.iter().map(lit_expr).collect(), *neg),
        T::Between(c, a, b) => column(c).between(lit_expr(a), lit_expr(b)),
        T::Like(c, p) => column(c).like(lit(p.clone())),
        T::IsNull(c, n) => {
            if *n {
                column(c).is_not_null()
            } else {
                column(c).is_null()
            }
        }
        T::Ids(ids) => col("id").in_list(ids.iter().map(|i| lit(i.clone())).collect(), false),
        T::Keyed(kind, i, l) => {
            let name = match kind {
                0 => table.list_filters.get(i % table.list_filters.len().max(1)).and_then(|f| f.column.clone()),
                1 => table.parent.as_ref().map(|p| p.column.clone()),
                _ => {
                    table.search.as_ref().and_then(|s| s.fields.get(i % s.fields.len().max(1))).map(|f| f.name.clone())
                }
            };
            // Search fields get text, so the search path is reached.
            let value = match (kind, l) {
                (2, L::Str(_)) | (0 | 1, _) => lit_expr(l),
                _ => lit("searchable value"),
            };
            match name.filter(|n| table.column(n).is_some()) {
                Some(n) => col(n.as_str()).eq(value),
                None => column(i).eq(lit_expr(l)),
            }
        }
        T::And(a, b) => render(a, table).and(render(b, table)),
        T::Or(a, b) => render(a, table).or(render(b, table)),
        T::Not(a) => !render(a, table),
    }
}

/// `path` is `template` with each `{…}` filled by one valid id segment.
fn fills(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len() && t.iter().zip(&p).all(|(a, b)| if a.starts_with('{') { is_valid_id(b) } else { a == b })
}

fn check_plan(table: &TableDef, plan: &RequestPlan) -> Result<(), String> {
    let allowed_params: Vec<&str> = table
        .list_filters
        .iter()
        .map(|f| f.param.as_str())
        .chain(["limit", "starting_after", "ending_before", "expand"])
        .collect();
    match plan {
        RequestPlan::Empty => {}
        RequestPlan::Retrieve { path, ids } => {
            if Some(path) != table.retrieve_path.as_ref() || ids.is_empty() || !ids.iter().all(|i| is_valid_id(i)) {
                return Err(format!("bad retrieve {path} {ids:?}"));
            }
        }
        RequestPlan::List { requests, .. } => {
            for r in requests {
                if !fills(&table.list_path, &r.path) {
                    return Err(format!("list path {} is not {}", r.path, table.list_path));
                }
                for (k, v) in &r.params {
                    let base = k.split('[').next().unwrap_or_default();
                    if !allowed_params.contains(&base) {
                        return Err(format!("param {k}={v:?} is not a filter of {}", table.name));
                    }
                    if base == "limit" && !v.parse::<u32>().is_ok_and(|n| (1..=100).contains(&n)) {
                        return Err(format!("limit {v}"));
                    }
                }
            }
        }
        RequestPlan::Search { path, query, page_size, .. } => {
            if Some(path) != table.search.as_ref().map(|s| &s.path)
                || query.is_empty()
                || !(1..=100).contains(page_size)
            {
                return Err(format!("bad search {path} {query:?}"));
            }
            if let Some(fields) = stripe_emulator::search::fields(&table.name) {
                stripe_emulator::search::parse(query, fields)
                    .map_err(|e| format!("search query {query:?} does not parse: {e:?}"))?;
            }
        }
        RequestPlan::MissingParent { .. } => {
            if table.parent.is_none() {
                return Err("missing parent on a top-level table".into());
            }
        }
    }
    Ok(())
}

#[test]
fn random_filter_trees_on_every_table_plan_only_catalog_requests() {
    let tables = &builtin().tables;
    let keyed = (0u8..3, any::<usize>(), literal()).prop_map(|(k, i, l)| T::Keyed(k, i, l));
    let strategy = (
        0..tables.len(),
        (prop::collection::vec(tree(), 0..3), prop::collection::vec(keyed, 0..2)),
        prop::option::of(0usize..300),
        any::<bool>(),
    );
    let kinds = std::cell::RefCell::new(std::collections::BTreeMap::<&str, usize>::new());
    runner_with(PLAN_CASES)
        .run(&strategy, |(ti, (mut trees, keyed), limit, use_search)| {
            trees.extend(keyed);
            let table = &tables[ti];
            let filters: Vec<Expr> = trees.iter().map(|t| render(t, table)).collect();
            let p = pushdown::plan(table, &filters, limit, &Options { use_search });
            prop_assert_eq!(p.support.len(), filters.len());
            check_plan(table, &p.plan).map_err(|e| TestCaseError::fail(format!("{}: {e}", table.name)))?;
            let kind = match p.plan {
                RequestPlan::Empty => "empty",
                RequestPlan::Retrieve { .. } => "retrieve",
                RequestPlan::List { .. } => "list",
                RequestPlan::Search { .. } => "search",
                RequestPlan::MissingParent { .. } => "missing parent",
            };
            *kinds.borrow_mut().entry(kind).or_default() += 1;
            Ok(())
        })
        .unwrap();
    let kinds = kinds.into_inner();
    eprintln!("fuzz pushdown: {PLAN_CASES} cases over {} tables: {kinds:?}", tables.len());
    assert!(kinds.len() >= 5, "the generator must reach most plan kinds: {kinds:?}");
}

#[test]
fn search_queries_parse_back_to_the_exact_value_in_the_emulator() {
    let customers = builtin().table("customers").unwrap();
    let fields = stripe_emulator::search::fields("customers").unwrap();
    let searched = std::cell::Cell::new(0usize);
    runner()
        .run(&hostile_string(), |v| {
            let p = pushdown::plan(customers, &[col("name").eq(lit(v.clone()))], None, &Options { use_search: true });
            if let RequestPlan::Search { query, .. } = &p.plan {
                searched.set(searched.get() + 1);
                let q = stripe_emulator::search::parse(query, fields)
                    .map_err(|e| TestCaseError::fail(format!("{query:?} does not parse: {e:?}")))?;
                prop_assert_eq!(q.clauses.len(), 1, "{}", query);
                let c = &q.clauses[0];
                prop_assert_eq!(&c.field, &vec!["name".to_string()]);
                prop_assert!(matches!(c.op, Op::Eq) && !c.negate, "{}", query);
                prop_assert!(matches!(&c.value, Lit::Str(s) if *s == v), "{:?} came back as {:?}", v, c.value);
            }
            Ok(())
        })
        .unwrap();
    let searched = searched.get();
    eprintln!("fuzz search: {CASES} values, {searched} planned as search and parsed back");
    assert!(searched >= CASES as usize / 3, "too few values reached search ({searched})");
}

fn key() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_ .=&+%-]{0,6}"
}

fn form_value() -> impl Strategy<Value = Value> {
    let scalar = prop_oneof![
        any::<String>().prop_map(Value::String),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::Bool),
    ];
    scalar.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// What the bracket form can carry: scalars become strings, empty containers `""`.
fn expected(v: &Value) -> Value {
    match v {
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Number(n) => Value::String(n.to_string()),
        Value::Array(a) if a.is_empty() => Value::String(String::new()),
        Value::Object(m) if m.is_empty() => Value::String(String::new()),
        Value::Array(a) => Value::Array(a.iter().map(expected).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), expected(v))).collect()),
        other => other.clone(),
    }
}

#[test]
fn form_encoding_round_trips_through_the_emulators_parser() {
    let strategy = prop::collection::btree_map(key(), form_value(), 0..5);
    runner()
        .run(&strategy, |m| {
            let original = Value::Object(m.into_iter().collect::<Map<String, Value>>());
            let pairs = stripe_client::form::encode(&original);
            let wire = stripe_client::form::to_urlencoded(&pairs);
            prop_assert!(!wire.contains(['\n', '#', '?']), "{}", wire);
            let back = stripe_emulator::form::parse(&wire).map_err(TestCaseError::fail)?;
            let want = match expected(&original) {
                Value::String(_) => Value::Object(Map::new()),
                v => v,
            };
            prop_assert_eq!(Value::Object(back), want, "wire: {}", wire);
            Ok(())
        })
        .unwrap();
    eprintln!("fuzz form encoding: {CASES} objects round-tripped");
}

//! Property tests: hostile values never change the endpoint, search escaping
//! round-trips, and planning is stable when re-run on the pushed filters.

use datafusion::arrow::datatypes::DataType;
use datafusion::functions::core::expr_fn::get_field;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, cast, col, in_list, lit, not};
use proptest::prelude::*;

use super::fixture::*;
use crate::catalog::TableDef;
use crate::pushdown::retrieve::is_valid_id;
use crate::pushdown::search::quote as search_quote;
use crate::pushdown::{Options, RequestPlan, plan, retrieve_path};

/// Parses one `'…'` literal written by `search_quote`; returns it and the rest.
pub(super) fn parse_quoted(s: &str) -> Option<(String, &str)> {
    let mut chars = s.strip_prefix('\'')?.char_indices();
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?.1),
            '\'' => return Some((out, &s[i + 2..])),
            c => out.push(c),
        }
    }
    None
}

/// One parsed search clause: field, metadata key, operator, value.
pub(super) type Clause = (String, Option<String>, String, String);

/// Parses a whole query into `(field, key, op, value)` clauses, or `None`:
/// `field[:~]'quoted'`, `metadata['k']:'v'` or `field(:|>|>=|<|<=)-?digits`.
pub(super) fn parse_query(mut s: &str) -> Option<Vec<Clause>> {
    let mut clauses = Vec::new();
    loop {
        let name_end = s.find(|c: char| !(c.is_ascii_lowercase() || c == '_'))?;
        let (name, mut rest) = s.split_at(name_end);
        let mut key = None;
        if let Some(r) = rest.strip_prefix('[') {
            let (k, r) = parse_quoted(r)?;
            key = Some(k);
            rest = r.strip_prefix(']')?;
        }
        let op_len = if rest.starts_with(">=") || rest.starts_with("<=") { 2 } else { 1 };
        let op = rest.get(..op_len)?.to_string();
        let after = &rest[op_len..];
        let (value, r) = if after.starts_with('\'') && (op == ":" || op == "~") {
            parse_quoted(after)?
        } else {
            let end = after
                .char_indices()
                .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && c == '-')))
                .map_or(after.len(), |(i, _)| i);
            let digits = &after[..end];
            if digits.is_empty() || digits == "-" || op == "~" {
                return None;
            }
            (digits.to_string(), &after[end..])
        };
        if !matches!(op.as_str(), ":" | "~" | ">" | ">=" | "<" | "<=") {
            return None;
        }
        clauses.push((name.to_string(), key, op, value));
        match r.strip_prefix(" AND ") {
            Some(next) => s = next,
            None if r.is_empty() => return Some(clauses),
            None => return None,
        }
    }
}

/// Every path of the plan is one of the table's own endpoints.
fn assert_endpoints(table: &TableDef, plan: &RequestPlan) {
    let params: Vec<String> = table
        .list_filters
        .iter()
        .flat_map(|f| {
            let p = &f.param;
            [
                p.clone(),
                format!("{p}[]"),
                format!("{p}[gt]"),
                format!("{p}[gte]"),
                format!("{p}[lt]"),
                format!("{p}[lte]"),
            ]
        })
        .chain(["limit".to_string()])
        .collect();
    match plan {
        RequestPlan::Retrieve { path, ids } => {
            assert_eq!(Some(path), table.retrieve_path.as_ref());
            for id in ids {
                assert!(is_valid_id(id), "{id:?}");
                assert_eq!(retrieve_path(path, id), path.replace("{id}", id));
            }
        }
        RequestPlan::List { requests, .. } => {
            for r in requests {
                match &table.parent {
                    None => assert_eq!(r.path, table.list_path),
                    Some(def) => {
                        let (head, tail) = table.list_path.split_once(&format!("{{{}}}", def.path_param)).unwrap();
                        let id = r.path.strip_prefix(head).and_then(|p| p.strip_suffix(tail)).expect("template shape");
                        assert!(is_valid_id(id), "{}", r.path);
                    }
                }
                for (k, _) in &r.params {
                    assert!(params.contains(k), "unexpected param {k}");
                }
            }
        }
        RequestPlan::Search { path, query, .. } => {
            assert_eq!(Some(path), table.search.as_ref().map(|s| &s.path));
            assert!(parse_query(query).is_some(), "unparsable query {query:?}");
        }
        RequestPlan::Empty | RequestPlan::MissingParent { .. } => {}
    }
}

fn tables() -> Vec<TableDef> {
    vec![customers(), charges(), subscriptions(), invoice_lines(), prices(), events()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn quoting_round_trips(v in any::<String>()) {
        let quoted = search_quote(&v);
        prop_assert_eq!(parse_quoted(&quoted), Some((v.clone(), "")));
    }

    #[test]
    fn hostile_values_never_change_the_endpoint(v in any::<String>(), w in "[ -~]{0,12}") {
        let shapes: Vec<Vec<Expr>> = vec![
            vec![col("id").eq(lit(v.clone()))],
            vec![in_list(col("id"), vec![lit(v.clone()), lit("cus_1"), lit(w.clone()), lit("x")], false)],
            vec![col("customer").eq(lit(v.clone()))],
            vec![col("invoice").eq(lit(v.clone())).or(col("invoice").eq(lit(w.clone())))],
            vec![col("email").eq(lit(v.clone()))],
            vec![col("type").eq(lit(v.clone()))],
            vec![col("status").eq(lit(v.clone()))],
        ];
        for table in tables() {
            for filters in &shapes {
                assert_endpoints(&table, &run(&table, filters).plan);
            }
        }
    }

    #[test]
    fn hostile_search_values_stay_inside_their_clause(name in any::<String>(), key in any::<String>(), value in any::<String>()) {
        let filters = [
            col("name").eq(lit(name.clone())),
            get_field(col("metadata"), key.as_str()).eq(lit(value.clone())),
        ];
        let p = run(&customers(), &filters);
        assert_endpoints(&customers(), &p.plan);
        if let RequestPlan::Search { query, .. } = &p.plan {
            let clauses = parse_query(query).expect("parsable");
            for (field, k, op, v) in clauses {
                prop_assert_eq!(op.as_str(), ":");
                match field.as_str() {
                    "name" => prop_assert_eq!(&v, &name),
                    "metadata" => { prop_assert_eq!(k.as_ref(), Some(&key)); prop_assert_eq!(&v, &value); }
                    other => prop_assert!(false, "unexpected field {other}"),
                }
            }
        }
    }

    #[test]
    fn planning_again_with_the_pushed_filters_is_stable(
        specs in prop::collection::vec(spec(), 0..6),
        table in 0usize..6,
        use_search in any::<bool>(),
    ) {
        let table = &tables()[table];
        let opts = Options { use_search };
        let qualified: Vec<Expr> = specs.iter().map(|s| s.render(Some(&table.name))).collect();
        let first = plan(table, &qualified, None, &opts);
        prop_assert_eq!(first.support.len(), specs.len());
        let pushed: Vec<usize> = (0..specs.len())
            .filter(|&i| first.support[i] != TableProviderFilterPushDown::Unsupported)
            .collect();
        let unqualified: Vec<Expr> = pushed.iter().map(|&i| specs[i].render(None)).collect();
        let second = plan(table, &unqualified, None, &opts);
        let expected: Vec<_> = pushed.iter().map(|&i| first.support[i].clone()).collect();
        prop_assert_eq!(&second.support, &expected);
        prop_assert_eq!(&second.plan, &first.plan);
        assert_endpoints(table, &first.plan);
        // The limit reaches scan only when every filter is exact.
        if first.support.iter().all(|s| *s == TableProviderFilterPushDown::Exact) {
            let limited = plan(table, &unqualified, Some(3), &opts);
            let ok = match (&limited.plan, &first.plan) {
                (RequestPlan::List { max_rows, .. }, RequestPlan::List { .. }) => *max_rows == Some(3),
                (RequestPlan::Search { max_rows, page_size, .. }, RequestPlan::Search { .. }) => *max_rows == Some(3) && *page_size == 3,
                (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
            };
            prop_assert!(ok, "{:?} vs {:?}", limited.plan, first.plan);
        }
    }
}

/// A filter shape, rendered with or without a table qualifier.
#[derive(Debug, Clone)]
pub(super) enum Spec {
    Eq(&'static str, String),
    In(&'static str, Vec<String>),
    Cmp(&'static str, u8, i64),
    Like(&'static str, String),
    Meta(String, String),
    Bool(&'static str, bool),
    Const(bool),
    NotEq(&'static str, String),
    FloatAmount(u8, f64),
}

pub(super) fn spec() -> impl Strategy<Value = Spec> {
    let column = prop::sample::select(vec![
        "id",
        "customer",
        "email",
        "name",
        "status",
        "payment_intent",
        "invoice",
        "product",
        "currency",
        "type",
        "price",
    ]);
    let value = prop::sample::select(vec![
        "cus_1",
        "cus_2",
        "in_1",
        "a b",
        "x'y",
        "succeeded",
        "active",
        "canceled",
        "all",
        "",
        "recurring",
        "charge.*",
    ])
    .prop_map(str::to_string);
    let number_column = prop::sample::select(vec!["created", "amount", "balance", "unit_amount"]);
    prop_oneof![
        (column.clone(), value.clone()).prop_map(|(c, v)| Spec::Eq(c, v)),
        (column.clone(), prop::collection::vec(value.clone(), 1..6)).prop_map(|(c, v)| Spec::In(c, v)),
        (number_column, 0u8..5, -3i64..40).prop_map(|(c, op, v)| Spec::Cmp(c, op, v)),
        (column.clone(), "[%_a-z@.]{0,8}").prop_map(|(c, p)| Spec::Like(c, p)),
        (value.clone(), value.clone()).prop_map(|(k, v)| Spec::Meta(k, v)),
        (prop::sample::select(vec!["active", "livemode", "refunded"]), any::<bool>())
            .prop_map(|(c, b)| Spec::Bool(c, b)),
        any::<bool>().prop_map(Spec::Const),
        (column, value).prop_map(|(c, v)| Spec::NotEq(c, v)),
        (0u8..5, -5.0f64..45.0).prop_map(|(op, f)| Spec::FloatAmount(op, f)),
    ]
}

impl Spec {
    pub(super) fn render(&self, qualifier: Option<&str>) -> Expr {
        let c = |name: &str| match qualifier {
            Some(t) => qcol(t, name),
            None => col(name),
        };
        let cmp = |l: Expr, op: u8, r: Expr| match op {
            0 => l.gt(r),
            1 => l.gt_eq(r),
            2 => l.lt(r),
            3 => l.lt_eq(r),
            _ => l.eq(r),
        };
        match self {
            Spec::Eq(col, v) => c(col).eq(lit(v.clone())),
            Spec::In(col, vs) if vs.len() <= 3 => {
                vs.iter().map(|v| c(col).eq(lit(v.clone()))).reduce(Expr::or).expect("non-empty")
            }
            Spec::In(col, vs) => in_list(c(col), vs.iter().map(|v| lit(v.clone())).collect(), false),
            Spec::Cmp("created", op, v) => cmp(c("created"), *op, ts(*v * 1000)),
            Spec::Cmp(col, op, v) => cmp(c(col), *op, lit(*v)),
            Spec::Like(col, p) => c(col).like(lit(p.clone())),
            Spec::Meta(k, v) => get_field(c("metadata"), k.as_str()).eq(lit(v.clone())),
            Spec::Bool(col, true) => c(col),
            Spec::Bool(col, false) => not(c(col)),
            Spec::Const(b) => lit(*b),
            Spec::NotEq(col, v) => c(col).not_eq(lit(v.clone())),
            Spec::FloatAmount(op, f) => cmp(cast(c("amount"), DataType::Float64), *op, lit(*f)),
        }
    }
}

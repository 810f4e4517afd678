//! Request conformance: every statement of every `tests/slt/*.slt` file (reads,
//! pushdown, DML, actions) plus an extra write/action workload is run against a
//! fresh demo emulator, and every request in the engine's log is checked against
//! the OpenAPI spec by [`super::conformance::Checker`].

use std::path::PathBuf;

use sqllogictest::{DefaultColumnType, Record};
use stripe_sql::catalog::{ColumnType, FilterKind, ParamType, TableDef, builtin};
use stripe_sql::engine::Engine;

use super::conformance::{Checker, bracket_segments, load_spec};

fn checker() -> Checker {
    Checker::new(
        load_spec().expect("stripe-openapi/spec3.json not found beside the crate (../shared) or in /work/shared"),
    )
}

/// Every SQL text of one slt file, in order.
fn slt_statements(file: &PathBuf) -> Vec<String> {
    let records = sqllogictest::parse_file::<DefaultColumnType>(file).expect("slt file parses");
    records
        .into_iter()
        .filter_map(|r| match r {
            Record::Statement { sql, .. } | Record::Query { sql, .. } => Some(sql),
            _ => None,
        })
        .collect()
}

/// Statements beyond the slt files: writes and actions the slt files do not cover.
const EXTRA: &[&str] = &[
    "INSERT INTO customers (email, name, metadata) VALUES ('conf@example.com', 'Conf', MAP {'tier': 'gold'})",
    "UPDATE customers SET description = 'conformance', metadata = MAP {'tier': ''} WHERE email = 'conf@example.com'",
    "INSERT INTO products (name, active) VALUES ('Conformance product', true)",
    "SELECT id FROM customers WHERE created >= 1 AND created < 4102444800 LIMIT 3",
    "SELECT id FROM charges WHERE amount > 100 AND status = 'succeeded' LIMIT 5",
    "SELECT id FROM invoices WHERE status IN ('paid', 'open') LIMIT 5",
    "SELECT id FROM subscriptions WHERE status = 'canceled' LIMIT 5",
    "SELECT id FROM events WHERE type = 'customer.created' LIMIT 5",
    "SELECT * FROM customers WHERE name LIKE 'A%' LIMIT 2",
    "DELETE FROM customers WHERE email = 'conf@example.com'",
];

/// A literal of `ty` for a generated statement.
fn literal(ty: &ParamType, name: &str) -> Option<String> {
    Some(match ty {
        ParamType::String | ParamType::Any => format!("'{name}_conformance'"),
        ParamType::Enum { values } => format!("'{}'", values.iter().find(|v| !v.is_empty())?),
        ParamType::Integer | ParamType::Timestamp => "1".into(),
        ParamType::Number => "1.5".into(),
        ParamType::Boolean => "true".into(),
        _ => return None,
    })
}

/// Statements generated from the catalog: a scan, a retrieve and each list filter
/// of every table, and every action with its required arguments.
fn catalog_workload() -> Vec<String> {
    let mut out = vec![];
    for t in &builtin().tables {
        if let Some(insert) = create_statement(t) {
            out.push(insert);
        }
        let parent = t.parent.as_ref().map(|p| format!("{} = 'x_parent1'", p.column));
        let with = |pred: Option<String>| -> String {
            let preds: Vec<String> = parent.iter().cloned().chain(pred).collect();
            let wh = if preds.is_empty() { String::new() } else { format!(" WHERE {}", preds.join(" AND ")) };
            format!("SELECT * FROM {}{wh} LIMIT 2", t.name)
        };
        out.push(with(None));
        if t.retrieve_path.is_some() {
            let prefix = t.id_prefix.as_deref().unwrap_or("obj");
            out.push(with(Some(format!("id = '{prefix}_conformance1'"))));
        }
        for f in &t.list_filters {
            if let Some(pred) = filter_predicate(t, f.column.as_deref(), &f.kind) {
                out.push(with(Some(pred)));
            }
        }
    }
    for a in &builtin().actions {
        let mut args = vec!["'x_conformance1'".to_string()];
        for p in a.params.iter().filter(|p| p.required) {
            match literal(&p.ty, &p.name) {
                Some(v) => args.push(format!("{} => {v}", p.name)),
                None => continue,
            }
        }
        out.push(format!("SELECT * FROM {}({})", a.name, args.join(", ")));
    }
    out
}

/// For every top-level table with rows in the demo account: UPDATE one row's
/// metadata (when updatable) and DELETE it (when deletable). Returns statements run.
async fn update_delete_workload(engine: &Engine) -> usize {
    let mut n = 0;
    for t in builtin().tables.iter().filter(|t| t.parent.is_none() && (t.update.is_some() || t.delete.is_some())) {
        n += 1;
        let Ok(batches) = engine.sql(&format!("SELECT id FROM {} LIMIT 1", t.name)).await else {
            continue;
        };
        let rows = super::json_rows(&batches);
        let Some(id) = rows.first().and_then(|r| r.get("id")).and_then(|v| v.as_str()) else {
            continue;
        };
        let metadata = t.update.as_ref().is_some_and(|u| u.params.iter().any(|p| p.name == "metadata"));
        if metadata && t.column("metadata").is_some() {
            n += 1;
            let _ = engine
                .sql(&format!("UPDATE {} SET metadata = MAP {{'conformance': 'yes'}} WHERE id = '{id}'", t.name))
                .await;
        }
        if t.delete.is_some() {
            n += 1;
            let _ = engine.sql(&format!("DELETE FROM {} WHERE id = '{id}'", t.name)).await;
        }
    }
    n
}

/// A JSON value of a simple param type (None for nested or free-form ones).
fn json_value(ty: &ParamType, name: &str) -> Option<serde_json::Value> {
    use serde_json::json;
    Some(match ty {
        ParamType::String => json!(format!("{name}_conformance")),
        ParamType::Enum { values } => json!(values.iter().find(|v| !v.is_empty())?),
        ParamType::Integer => json!(1),
        ParamType::Timestamp => json!(1_700_000_000),
        ParamType::Number => json!("1.5"),
        ParamType::Boolean => json!(true),
        _ => return None,
    })
}

/// `INSERT INTO t (_raw) VALUES ('{…}')` with every required create param and the
/// first optional simple one, when all required ones are simple.
fn create_statement(t: &TableDef) -> Option<String> {
    let create = t.create.as_ref()?;
    let mut body = serde_json::Map::new();
    for p in create.params.iter().filter(|p| p.required) {
        body.insert(p.name.clone(), json_value(&p.ty, &p.name)?);
    }
    if let Some((name, v)) =
        create.params.iter().filter(|p| !p.required).find_map(|p| Some((p.name.clone(), json_value(&p.ty, &p.name)?)))
    {
        body.insert(name, v);
    }
    let raw = serde_json::Value::Object(body).to_string().replace('\'', "''");
    Some(format!("INSERT INTO {} (_raw) VALUES ('{raw}')", t.name))
}

fn filter_predicate(t: &TableDef, column: Option<&str>, kind: &FilterKind) -> Option<String> {
    let col = t.column(column?)?;
    let name = &col.name;
    Some(match (kind, &col.ty) {
        (FilterKind::Enum(values), _) => format!("{name} = '{}'", values.first()?),
        (FilterKind::Boolean, _) => format!("{name} = true"),
        (FilterKind::Range, ColumnType::Timestamp) => {
            format!("{name} >= TIMESTAMP '2021-01-01T00:00:00Z' AND {name} < TIMESTAMP '2030-01-01T00:00:00Z'")
        }
        (FilterKind::Range, ColumnType::Int64) => format!("{name} > 5"),
        (_, ColumnType::Utf8) => format!("{name} = 'x_{name}1'"),
        (_, ColumnType::Int64) => format!("{name} = 5"),
        _ => return None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_of_the_slt_suite_and_the_write_workload_conforms_to_the_spec() {
    let mut checker = checker();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "the slt suite is missing: {files:?}");
    let mut problems = vec![];
    let (mut statements, mut requests) = (0, 0);
    let mut workloads: Vec<(String, Vec<String>)> =
        files.iter().map(|f| (f.display().to_string(), slt_statements(f))).collect();
    workloads.push(("extra writes".into(), EXTRA.iter().map(|s| s.to_string()).collect()));
    workloads.push(("catalog workload".into(), catalog_workload()));
    for (name, sqls) in workloads {
        let engine = Engine::demo().unwrap();
        for sql in &sqls {
            statements += 1;
            // Expected errors are part of the suite; only the requests matter here.
            let _ = engine.sql(sql).await;
        }
        let log = engine.client().request_log().entries();
        requests += log.len();
        problems.extend(checker.check_log(&log).into_iter().map(|p| format!("{name}: {p}")));
    }
    let engine = Engine::demo().unwrap();
    statements += update_delete_workload(&engine).await;
    let log = engine.client().request_log().entries();
    requests += log.len();
    problems.extend(checker.check_log(&log).into_iter().map(|p| format!("updates and deletes: {p}")));
    problems.sort();
    problems.dedup();
    eprintln!(
        "request conformance: {statements} statements, {requests} requests checked, {} distinct operations: {:?}",
        checker.covered.len(),
        checker.covered
    );
    assert!(problems.is_empty(), "{} requests do not conform to the spec:\n{}", problems.len(), problems.join("\n"));
    assert!(checker.covered.len() >= 270, "only {} operations were exercised", checker.covered.len());
}

#[test]
fn the_checker_rejects_unknown_paths_methods_params_and_wrong_types() {
    let mut c = checker();
    let p = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
    assert!(
        c.check("GET", "/v1/customers", &p(&[("limit", "10"), ("created[gte]", "5"), ("expand[]", "data.x")]))
            .is_empty()
    );
    assert!(c.check("POST", "/v1/customers/cus_1", &p(&[("metadata[a b]", "x"), ("metadata", "")])).is_empty());
    assert!(c.check("GET", "/v1/customers/search", &p(&[("query", "email:'x'"), ("page", "p")])).is_empty());
    assert_eq!(c.template("/v1/customers/search").as_deref(), Some("/v1/customers/search"));
    let bad = [
        c.check("GET", "/v1/customerz", &[]),
        c.check("PUT", "/v1/customers", &[]),
        c.check("GET", "/v1/customers", &p(&[("colour", "red")])),
        c.check("GET", "/v1/customers", &p(&[("limit", "ten")])),
        c.check("GET", "/v1/customers", &p(&[("created[soon]", "1")])),
        c.check("POST", "/v1/customers", &p(&[("tax_exempt", "maybe")])),
        c.check("POST", "/v1/payment_intents", &p(&[("amount", "")])),
        c.check("POST", "/v1/payment_intents", &p(&[("confirm", "yes")])),
        c.check("POST", "/v1/customers", &p(&[("email[x]", "a")])),
    ];
    for (i, problems) in bad.iter().enumerate() {
        assert!(!problems.is_empty(), "case {i} should have been rejected");
    }
    assert_eq!(bracket_segments("items[0][price]").unwrap(), ["items", "0", "price"]);
    assert!(bracket_segments("a[b").is_none());
    assert!(bracket_segments("[x]").is_none());
}

/// Panics unless every request `engine` sent so far conforms to the spec.
pub fn assert_conforms(engine: &Engine) {
    assert_conforms_except(engine, &[]);
}

/// [`assert_conforms`], ignoring problems that mention one of `fixtures` (requests a
/// test sends on purpose outside the spec, e.g. a peer's legacy endpoints).
pub fn assert_conforms_except(engine: &Engine, fixtures: &[&str]) {
    let mut c = checker();
    let mut problems = c.check_log(&engine.client().request_log().entries());
    problems.retain(|p| !fixtures.iter().any(|f| p.contains(f)));
    assert!(problems.is_empty(), "requests that do not conform to the spec:\n{}", problems.join("\n"));
}

//! Property test: for random predicates over the demo data, `SELECT id FROM t
//! WHERE p ORDER BY id` through the Stripe tables (pushdown active, with and
//! without the Search API) returns exactly the rows of the same query over a
//! full scan held in memory (`full_t`, filtered by DataFusion alone).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use datafusion::datasource::MemTable;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use stripe_sql::engine::Engine;

use super::{first_column, sql_str};

/// Which columns of a table each kind of predicate uses.
struct Shape {
    table: &'static str,
    eq: &'static [&'static str],
    range: &'static [&'static str],
    boolean: &'static [&'static str],
    like: &'static [&'static str],
    numeric: &'static [&'static str],
}

const SHAPES: &[Shape] = &[
    Shape {
        table: "charges",
        eq: &["customer", "status", "currency", "payment_intent", "description"],
        range: &["created"],
        boolean: &["refunded", "disputed", "captured", "paid"],
        like: &["description", "customer"],
        numeric: &["amount", "amount_refunded"],
    },
    Shape {
        table: "customers",
        eq: &["email", "name", "phone", "description"],
        range: &["created"],
        boolean: &["delinquent"],
        like: &["email", "name"],
        numeric: &["balance"],
    },
    Shape {
        table: "subscriptions",
        eq: &["status", "customer", "collection_method"],
        range: &["created", "current_period_end"],
        boolean: &["cancel_at_period_end"],
        like: &["customer"],
        numeric: &[],
    },
    Shape {
        table: "prices",
        eq: &["product", "currency", "type", "lookup_key"],
        range: &["created"],
        boolean: &["active"],
        like: &["lookup_key", "nickname"],
        numeric: &["unit_amount"],
    },
    Shape {
        table: "invoices",
        eq: &["status", "customer", "number", "collection_method"],
        range: &["created", "due_date"],
        boolean: &["paid"],
        like: &["number", "customer_email"],
        numeric: &["amount_due"],
    },
];

/// Values seen in the demo data, per table and column.
#[derive(Default)]
struct Samples {
    text: HashMap<(String, String), Vec<String>>,
    int: HashMap<(String, String), Vec<i64>>,
    ids: HashMap<String, Vec<String>>,
    metadata: HashMap<String, Vec<(String, String)>>,
}

impl Samples {
    fn text(&self, table: &str, column: &str) -> &[String] {
        self.text.get(&(table.into(), column.into())).map(Vec::as_slice).unwrap_or(&[])
    }
    fn int(&self, table: &str, column: &str) -> &[i64] {
        self.int.get(&(table.into(), column.into())).map(Vec::as_slice).unwrap_or(&[])
    }
}

async fn column_values(engine: &Engine, sql: &str) -> Vec<String> {
    first_column(&engine.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}")))
}

/// Loads every table into `full_<table>` and samples its values.
async fn prepare(engine: &Engine) -> Samples {
    let mut samples = Samples::default();
    for shape in SHAPES {
        let t = shape.table;
        let df = engine.dataframe(&format!("SELECT * FROM {t}")).await.expect("full scan plans");
        let schema = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await.expect("full scan runs");
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        assert!(rows > 0, "demo table {t} is empty");
        let mem = MemTable::try_new(schema, vec![batches]).expect("memtable");
        engine.context().register_table(format!("full_{t}"), Arc::new(mem)).expect("register full table");
        let ids = column_values(engine, &format!("SELECT id FROM full_{t} ORDER BY id")).await;
        samples.ids.insert(t.into(), ids);
        for c in shape.eq.iter().chain(shape.like) {
            let sql = format!(
                "SELECT DISTINCT CAST({c} AS VARCHAR) v FROM full_{t} WHERE {c} IS NOT NULL ORDER BY v LIMIT 300"
            );
            samples.text.insert((t.into(), c.to_string()), column_values(engine, &sql).await);
        }
        for c in shape.range.iter().chain(shape.numeric) {
            let sql = format!("SELECT DISTINCT CAST({c} AS BIGINT) v FROM full_{t} WHERE {c} IS NOT NULL ORDER BY v");
            let values = column_values(engine, &sql).await.iter().map(|v| v.parse().expect("integer")).collect();
            samples.int.insert((t.into(), c.to_string()), values);
        }
        let keys =
            column_values(engine, &format!("SELECT DISTINCT unnest(map_keys(metadata)) k FROM full_{t} ORDER BY k"))
                .await;
        let mut pairs = vec![("plan".to_string(), "pro".to_string()), ("nope".to_string(), "x".to_string())];
        for k in keys {
            let sql = format!(
                "SELECT DISTINCT metadata[{}] v FROM full_{t} WHERE metadata[{}] IS NOT NULL ORDER BY v LIMIT 20",
                sql_str(&k),
                sql_str(&k)
            );
            for v in column_values(engine, &sql).await {
                pairs.push((k.clone(), v));
            }
        }
        samples.metadata.insert(t.into(), pairs);
    }
    samples
}

/// One generated conjunct: a kind and three random numbers choosing its details.
#[derive(Debug, Clone)]
struct Atom {
    kind: u8,
    a: u32,
    b: u32,
    c: u32,
}

fn atom() -> impl Strategy<Value = Atom> {
    (0u8..10, any::<u32>(), any::<u32>(), any::<u32>()).prop_map(|(kind, a, b, c)| Atom { kind, a, b, c })
}

fn pick<T: Clone>(items: &[T], n: u32) -> Option<T> {
    if items.is_empty() { None } else { Some(items[n as usize % items.len()].clone()) }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn datetime(epoch: i64) -> String {
    let (y, m, d) = civil(epoch.div_euclid(86_400));
    let s = epoch.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

fn date(epoch: i64) -> String {
    datetime(epoch)[..10].to_string()
}

fn eq_atom(s: &Samples, shape: &Shape, x: &Atom) -> String {
    let column = pick(shape.eq, x.a).expect("every shape has equality columns");
    match pick(s.text(shape.table, column), x.b) {
        Some(v) => format!("{column} = {}", sql_str(&v)),
        None => format!("{column} IS NULL"),
    }
}

fn render(s: &Samples, shape: &Shape, x: &Atom) -> String {
    let t = shape.table;
    match x.kind {
        0 => eq_atom(s, shape, x),
        1 | 8 => {
            let column = pick(shape.eq, x.a).expect("eq columns");
            let values = s.text(t, column);
            if values.is_empty() {
                return eq_atom(s, shape, x);
            }
            let n = 2 + x.c as usize % 3;
            let chosen: Vec<String> =
                (0..n).map(|i| sql_str(&values[(x.b as usize + i * 7919) % values.len()])).collect();
            if x.kind == 1 {
                format!("{column} IN ({})", chosen.join(", "))
            } else {
                let ors: Vec<String> = chosen.iter().map(|v| format!("{column} = {v}")).collect();
                format!("({})", ors.join(" OR "))
            }
        }
        2 => {
            let column = pick(shape.range, x.a).expect("range columns");
            let Some(anchor) = pick(s.int(t, column), x.b) else { return eq_atom(s, shape, x) };
            let at = anchor + (x.c % 1_209_600) as i64 - 604_800;
            let span = (x.a % 5_184_000) as i64;
            match x.c % 6 {
                0 => format!("{column} >= TIMESTAMP '{}'", datetime(at)),
                1 => format!("{column} < '{}'", date(at)),
                2 => format!("{column} BETWEEN TIMESTAMP '{}' AND TIMESTAMP '{}'", datetime(at), datetime(at + span)),
                3 => format!("{column} > to_timestamp({at})"),
                4 => format!("{column} <= '{}T{}Z'", date(at), &datetime(at)[11..]),
                _ => format!("{column} >= '{}' AND {column} < '{}'", date(at), date(at + span)),
            }
        }
        3 => {
            let column = pick(shape.boolean, x.a).expect("boolean columns");
            match x.b % 4 {
                0 => column.to_string(),
                1 => format!("NOT {column}"),
                2 => format!("{column} = true"),
                _ => format!("{column} = false"),
            }
        }
        4 => {
            let column = pick(shape.like, x.a).expect("like columns");
            let Some(v) = pick(s.text(t, column), x.b) else { return eq_atom(s, shape, x) };
            let chars: Vec<char> = v.chars().collect();
            let k = (chars.len() / 2).max(1).min(chars.len());
            match x.c % 3 {
                0 => format!(
                    "{column} LIKE {}",
                    sql_str(&format!("%{}", chars[chars.len() - k..].iter().collect::<String>()))
                ),
                1 => format!("{column} LIKE {}", sql_str(&format!("{}%", chars[..k].iter().collect::<String>()))),
                _ => format!("{column} LIKE {}", sql_str(&v)),
            }
        }
        5 => {
            let (k, v) = pick(&s.metadata[t], x.a).expect("metadata pairs");
            format!("metadata[{}] = {}", sql_str(&k), sql_str(&v))
        }
        6 => {
            let Some(column) = pick(shape.numeric, x.a) else { return eq_atom(s, shape, x) };
            let Some(v) = pick(s.int(t, column), x.b) else { return eq_atom(s, shape, x) };
            let v = v + (x.c % 2001) as i64 - 1000;
            let op = [">", ">=", "<", "<=", "="][x.c as usize / 2001 % 5];
            format!("{column} {op} {v}")
        }
        7 => {
            let ids = &s.ids[t];
            let n = 1 + x.c as usize % 4;
            let mut chosen: Vec<String> = (0..n).map(|i| sql_str(&ids[(x.b as usize + i * 31) % ids.len()])).collect();
            if x.a.is_multiple_of(3) {
                chosen.push(sql_str(&format!("{}_missing", ids[0])));
            }
            match x.a % 2 {
                0 => format!("id IN ({})", chosen.join(", ")),
                _ => format!("({})", chosen.iter().map(|v| format!("id = {v}")).collect::<Vec<_>>().join(" OR ")),
            }
        }
        _ => {
            let ids = &s.ids[t];
            format!("id = {}", sql_str(&ids[x.b as usize % ids.len()]))
        }
    }
}

/// How a statement reached the API, read from the request log.
fn classify(engine: &Engine, since: usize) -> &'static str {
    let entries = engine.client().request_log().entries();
    let new = &entries[since..];
    if new.is_empty() {
        "no call"
    } else if new.iter().any(|e| e.path.ends_with("/search")) {
        "search"
    } else if new.iter().all(|e| e.path.matches('/').count() == 3) {
        "retrieve"
    } else if new.iter().any(|e| e.params.iter().any(|(k, _)| k != "limit" && k != "starting_after")) {
        "filtered list"
    } else {
        "plain list"
    }
}

async fn ids_of(engine: &Engine, sql: &str) -> Result<Vec<String>, String> {
    engine.sql(sql).await.map(|b| first_column(&b)).map_err(|e| format!("{sql}: {e}"))
}

#[test]
fn random_predicates_return_the_rows_of_a_locally_filtered_full_scan() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let engine = Engine::demo().expect("demo engine");
    let samples = rt.block_on(prepare(&engine));
    let config =
        Config { cases: 64, failure_persistence: None, rng_algorithm: RngAlgorithm::ChaCha, ..Config::default() };
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]));
    let strategy = (0..SHAPES.len(), prop::collection::vec(atom(), 1..=3), prop::option::of(1usize..40));
    let kinds: RefCell<BTreeMap<&'static str, usize>> = RefCell::default();
    let nonempty = Cell::new(0usize);
    let result = runner.run(&strategy, |(table, atoms, limit)| {
        let shape = &SHAPES[table];
        let predicate = atoms.iter().map(|x| render(&samples, shape, x)).collect::<Vec<_>>().join(" AND ");
        let tail = limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
        let t = shape.table;
        let expected_sql = format!("SELECT id FROM full_{t} WHERE {predicate} ORDER BY id{tail}");
        let actual_sql = format!("SELECT id FROM {t} WHERE {predicate} ORDER BY id{tail}");
        rt.block_on(async {
            let expected = ids_of(&engine, &expected_sql).await.map_err(TestCaseError::fail)?;
            for use_search in [true, false] {
                engine.sql(&format!("SET stripe.use_search = {use_search}")).await.expect("set");
                let before = engine.client().request_log().len();
                let actual = ids_of(&engine, &actual_sql).await.map_err(TestCaseError::fail)?;
                if use_search {
                    *kinds.borrow_mut().entry(classify(&engine, before)).or_default() += 1;
                } else if classify(&engine, before) == "search" {
                    return Err(TestCaseError::fail(format!("search used with use_search = false: {actual_sql}")));
                }
                prop_assert_eq!(&actual, &expected, "use_search = {}: {}", use_search, actual_sql);
            }
            nonempty.set(nonempty.get() + usize::from(!expected.is_empty()));
            Ok(())
        })
    });
    rt.block_on(async { engine.sql("SET stripe.use_search = true").await.expect("reset") });
    let (kinds, nonempty) = (kinds.into_inner(), nonempty.get());
    eprintln!("readpath property: 64 cases, {nonempty} with rows; plans with search on: {kinds:?}");
    if let Err(e) = result {
        panic!("{e}");
    }
    // The generator must exercise every kind of plan, or the property says little.
    for kind in ["search", "retrieve", "filtered list"] {
        assert!(kinds.contains_key(kind), "no case produced a {kind} plan: {kinds:?}");
    }
    assert!(nonempty >= 16, "only {nonempty} of 64 cases returned rows");
}

//! Helpers: an engine over an empty emulator whose clock the sync also reads,
//! writes through the API, a syncer over a temporary folder, and the row-for-row
//! comparison of a mirrored table with a live full scan.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::{Value, json};
use stripe_sql::emulator::EmulatorConfig;
use stripe_sql::engine::Engine;
use stripe_sql::sync::plan::Kind;
use stripe_sql::sync::{SyncOptions, Syncer, Target, progress};

/// 2024-01-01T00:00:00Z: where the tests start the emulator's clock.
pub const T0: i64 = 1_704_067_200;

/// An engine over an empty emulator and the clock shared with the sync.
pub struct Account {
    pub engine: Arc<Engine>,
    now: Arc<AtomicI64>,
}

impl Account {
    /// An empty account whose clock is frozen at `T0`.
    pub fn new() -> Account {
        let engine = Arc::new(Engine::with_emulator(EmulatorConfig::default(), |_| {}).expect("emulator starts"));
        let account = Account { engine, now: Arc::new(AtomicI64::new(0)) };
        account.set_clock(T0);
        account
    }

    /// Freezes the emulator's (and the sync's) clock at `second`.
    pub fn set_clock(&self, second: i64) {
        self.emulator().set_clock(Some(second));
        self.now.store(second, Ordering::Relaxed);
    }

    /// Moves the clock on by `seconds`.
    pub fn advance(&self, seconds: i64) {
        self.set_clock(self.now.load(Ordering::Relaxed) + seconds);
    }

    /// The in-process emulator.
    pub fn emulator(&self) -> &stripe_sql::emulator::Emulator {
        self.engine.emulator().expect("in-process emulator")
    }

    /// Sync options reading this account's clock, small pages and chunks so a
    /// backfill takes several commits.
    pub fn options(&self) -> SyncOptions {
        let now = Arc::clone(&self.now);
        SyncOptions {
            lag: 60,
            lookback: 120,
            backfill_rows: 5,
            page_size: 3,
            max_concurrency: None,
            reconcile_every: None,
            skip_unavailable: false,
            compact_files: 0,
            now: Arc::new(move || now.load(Ordering::Relaxed)),
        }
    }

    /// A syncer of `tables` into `dir`.
    pub async fn syncer(&self, tables: &[&str], dir: &std::path::Path) -> Syncer {
        let names: Vec<String> = tables.iter().map(|s| s.to_string()).collect();
        Syncer::open(
            Arc::clone(&self.engine),
            Some(&names),
            Target::Dir(dir.to_path_buf()),
            self.options(),
            progress::quiet(),
        )
        .await
        .expect("sync opens")
    }

    /// `POST path` with `body`; the object answered.
    pub async fn post(&self, path: &str, body: Value) -> Value {
        self.engine.client().post(path, &body).await.unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Value {
        self.engine.client().delete(path, &json!({})).await.unwrap_or_else(|e| panic!("DELETE {path}: {e}"))
    }

    /// A new customer's id.
    pub async fn customer(&self, email: &str) -> String {
        id(&self.post("/v1/customers", json!({"email": email})).await)
    }

    /// A succeeded charge of `amount` usd for `customer`; its id.
    pub async fn charge(&self, customer: &str, amount: i64) -> String {
        let body = json!({"amount": amount, "currency": "usd", "customer": customer, "source": "tok_visa"});
        id(&self.post("/v1/charges", body).await)
    }

    /// An open invoice with `lines` invoice items for `customer`; its id.
    pub async fn invoice(&self, customer: &str, lines: usize) -> String {
        let inv = id(&self.post("/v1/invoices", json!({"customer": customer})).await);
        for i in 0..lines {
            let item = json!({"customer": customer, "amount": 1000 + i as i64, "currency": "usd", "invoice": inv});
            self.post("/v1/invoiceitems", item).await;
        }
        inv
    }
}

/// The `id` of an object.
pub fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_string()
}

/// Every row of `batches` as text cells, sorted (by `id`, the first column).
pub fn rows_text(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for b in batches {
        let formatters: Vec<ArrayFormatter> =
            b.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &options).expect("formatter")).collect();
        for r in 0..b.num_rows() {
            rows.push(formatters.iter().map(|f| f.value(r).to_string()).collect());
        }
    }
    rows.sort();
    rows
}

/// The live rows of `table` (a nested table: under every live parent).
pub async fn live_rows(engine: &Engine, syncer: &Syncer, table: &str) -> Vec<RecordBatch> {
    let plan = syncer.plans().iter().find(|p| p.name() == table).expect("mirrored table");
    let sql = match &plan.kind {
        Kind::Nested { parent_table, column, .. } => {
            let parents = engine.sql(&format!("SELECT id FROM {parent_table}")).await.expect("parent ids");
            let ids: Vec<String> = rows_text(&parents).into_iter().map(|r| format!("'{}'", r[0])).collect();
            if ids.is_empty() {
                return vec![];
            }
            format!("SELECT * FROM {table} WHERE {column} IN ({})", ids.join(", "))
        }
        _ => format!("SELECT * FROM {table}"),
    };
    engine.sql(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Asserts every mirrored table equals a live full scan, row for row and cell
/// for cell; returns the number of rows compared.
pub async fn assert_exact(engine: &Engine, syncer: &Syncer) -> usize {
    let mut compared = 0;
    for plan in syncer.plans() {
        let table = plan.name();
        let live = rows_text(&live_rows(engine, syncer, table).await);
        let mirrored = rows_text(&syncer.rows(table).await.expect("mirror rows"));
        let ids = |rows: &[Vec<String>]| rows.iter().map(|r| r[0].clone()).collect::<Vec<_>>();
        assert_eq!(ids(&mirrored), ids(&live), "{table}: the mirror's ids differ from a live scan");
        for (m, l) in mirrored.iter().zip(&live) {
            assert_eq!(m, l, "{table}: row {} differs from a live scan", l[0]);
        }
        compared += live.len();
    }
    compared
}

/// An observer that keeps every progress event, and the events it kept.
pub fn recorder() -> (progress::Observer, Arc<std::sync::Mutex<Vec<progress::Progress>>>) {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    (Arc::new(move |p: &progress::Progress| sink.lock().unwrap().push(p.clone())), seen)
}

//! `sync --accounts`: a platform with five connected accounts, one of which
//! Stripe refuses (403), mirrored into one Delta table per Stripe table
//! partitioned by account. Every mirrored table read under
//! `stripe.accounts = 'all'` equals a live scan under the same setting, row for
//! row, before and after changes in one account; an account filter reads only
//! that account's partition; the refused account is skipped and named.

use std::sync::Arc;

use serde_json::json;
use stripe_sql::emulator::EmulatorConfig;
use stripe_sql::engine::Engine;
use stripe_sql::sync::plan::Kind;
use stripe_sql::sync::{AccountsSyncer, Observer, Progress, SyncOptions, Target};

use super::support::{id, recorder, rows_text};

const TABLES: &[&str] = &["customers", "charges", "refunds", "invoices", "invoice_lines", "balance_transactions"];

/// The demo data's "now" (`emulator::demo::REFERENCE_NOW`) plus a day: every
/// account's clock, and the sync's, are frozen here.
const T0: i64 = 1_793_491_200 + 86_400;

struct Platform {
    engine: Arc<Engine>,
    /// Reads the mirror (`--mirror`), for the comparisons; never syncs.
    reader: Engine,
    accounts: Vec<String>,
    now: Arc<std::sync::atomic::AtomicI64>,
}

impl Platform {
    fn new(connected: u32, mirror: &std::path::Path) -> Platform {
        let config = EmulatorConfig { accounts: connected, ..EmulatorConfig::demo() };
        let engine = Arc::new(Engine::with_emulator(config, |_| {}).expect("emulator starts"));
        let accounts = engine.emulator().expect("emulator").connected_accounts();
        let reader = Engine::new(engine.client().clone()).expect("engine");
        reader.set_mirror(mirror.to_path_buf());
        let p = Platform { engine, reader, accounts, now: Arc::new(0.into()) };
        p.set_clock(T0);
        p
    }

    fn set_clock(&self, second: i64) {
        let emu = self.engine.emulator().expect("emulator");
        emu.set_clock(Some(second));
        for a in &self.accounts {
            emu.set_clock_in(a, Some(second));
        }
        self.now.store(second, std::sync::atomic::Ordering::Relaxed);
    }

    fn options(&self) -> SyncOptions {
        let now = Arc::clone(&self.now);
        SyncOptions {
            lag: 60,
            lookback: 120,
            backfill_rows: 200,
            page_size: 100,
            max_concurrency: None,
            reconcile_every: None,
            skip_unavailable: false,
            compact_files: 0,
            now: Arc::new(move || now.load(std::sync::atomic::Ordering::Relaxed)),
        }
    }

    /// Opens a quiet sync of `tables` for the accounts `accounts` into `dir`
    /// and runs its first step.
    async fn synced(&self, tables: &[&str], accounts: &str, dir: &std::path::Path) -> AccountsSyncer {
        let names: Vec<String> = tables.iter().map(|t| t.to_string()).collect();
        let target = Target::Dir(dir.to_path_buf());
        let quiet = stripe_sql::sync::progress::quiet();
        let mut syncer =
            AccountsSyncer::open(Arc::clone(&self.engine), Some(&names), accounts, target, self.options(), quiet)
                .await
                .expect("sync opens");
        syncer.step(false).await.expect("step");
        syncer
    }

    async fn rows(&self, source: &str, sql: &str) -> Vec<Vec<String>> {
        self.reader.sql(&format!("SET stripe.source = '{source}'")).await.expect("set source");
        let batches = self.reader.sql(sql).await.unwrap_or_else(|e| panic!("{source}: {sql}: {e}"));
        rows_text(&batches)
    }
}

/// Compares every mirrored table read from the mirror with a live scan, both
/// under `stripe.accounts = 'all'`; returns the rows compared per table.
async fn assert_exact(p: &Platform, syncer: &AccountsSyncer) -> Vec<(String, usize)> {
    p.reader.sql("SET stripe.accounts = 'all'").await.expect("set accounts");
    let mut compared = Vec::new();
    for plan in syncer.plans() {
        let table = plan.name();
        let queries = match &plan.kind {
            // Nested tables are listed per parent: per account, under its parents.
            Kind::Nested { parent_table, column, .. } => {
                let parents = p.rows("live", &format!("SELECT account, id FROM {parent_table}")).await;
                let mut by_account: std::collections::BTreeMap<String, Vec<String>> = Default::default();
                for r in parents {
                    by_account.entry(r[0].clone()).or_default().push(format!("'{}'", r[1]));
                }
                // The added column is `stripe_account` where the table has an `account` of its own.
                let routing =
                    if plan.def.columns.iter().any(|c| c.name == "account") { "stripe_account" } else { "account" };
                by_account
                    .into_iter()
                    .map(|(a, ids)| {
                        format!("SELECT * FROM {table} WHERE {routing} = '{a}' AND {column} IN ({})", ids.join(", "))
                    })
                    .collect()
            }
            _ => vec![format!("SELECT * FROM {table}")],
        };
        let mut n = 0;
        for sql in queries {
            let live = p.rows("live", &sql).await;
            let mirrored = p.rows("mirror", &sql).await;
            assert_eq!(
                mirrored.len(),
                live.len(),
                "{sql}: the mirror holds {} rows, live {}",
                mirrored.len(),
                live.len()
            );
            for (m, l) in mirrored.iter().zip(&live) {
                assert_eq!(m, l, "{sql}: a row differs from a live scan");
            }
            n += live.len();
        }
        compared.push((table.to_string(), n));
    }
    compared
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_account_is_mirrored_into_partitions_and_followed() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("mirror");
    let p = Platform::new(5, &dir);
    let victim = p.accounts[1].clone();
    p.engine.emulator().expect("emulator").revoke_account_after(&victim, 0);
    let names: Vec<String> = TABLES.iter().map(|s| s.to_string()).collect();
    let (observer, seen) = recorder();
    let mut syncer = AccountsSyncer::open(
        Arc::clone(&p.engine),
        Some(&names),
        "all",
        Target::Dir(dir.clone()),
        p.options(),
        observer,
    )
    .await
    .expect("sync opens");
    syncer.step(false).await.expect("first step");

    // The platform and the four accounts that answer; the refused one is named.
    assert_eq!(syncer.accounts().len(), 5, "{:?}", syncer.accounts());
    assert!(syncer.accounts().contains(&syncer.platform().to_string()));
    assert_eq!(syncer.skipped().keys().collect::<Vec<_>>(), vec![&victim]);
    let skipped = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, Progress::AccountSkipped { account, .. } if *account == victim))
        .count();
    assert_eq!(skipped, 1, "the refused account is reported once");

    let compared = assert_exact(&p, &syncer).await;
    for (table, n) in &compared {
        assert!(*n > 0, "{table}: nothing compared ({compared:?})");
    }
    // The mirror holds every answering account's rows, and no others.
    let per: Vec<Vec<String>> = p.rows("mirror", "SELECT account, count(*) FROM charges GROUP BY account").await;
    assert_eq!(per.len(), 5, "{per:?}");
    assert!(per.iter().all(|r| r[0] != victim), "{per:?}");
    let emu = p.engine.emulator().expect("emulator");
    let other = p.accounts[2].clone();
    let n: usize = per.iter().find(|r| r[0] == other).expect("account mirrored")[1].parse().unwrap();
    assert_eq!(n, emu.count_in(&other, "charges"));

    // Changes in one account: a new customer, an updated one, a deleted one.
    let client = p.engine.client().as_account(&other);
    p.set_clock(T0 + 10);
    let created = id(&client.post("/v1/customers", &json!({"email": "new@example.com"})).await.expect("create"));
    let customers = p.rows("live", &format!("SELECT id FROM customers WHERE account = '{other}' ORDER BY id")).await;
    let older: Vec<&String> = customers.iter().map(|r| &r[0]).filter(|c| **c != created).collect();
    let (updated, deleted) = (older[0].clone(), older[1].clone());
    client.post(&format!("/v1/customers/{updated}"), &json!({"description": "vip"})).await.expect("update");
    client.delete(&format!("/v1/customers/{deleted}"), &json!({})).await.expect("delete");
    p.set_clock(T0 + 20);
    syncer.step(false).await.expect("second step");
    assert_exact(&p, &syncer).await;
    let sql = format!(
        "SELECT id, description FROM customers WHERE account = '{other}' AND id IN ('{created}', '{updated}', '{deleted}')"
    );
    let got = p.rows("mirror", &sql).await;
    let mut want = vec![vec![updated.clone(), "vip".to_string()], vec![created.clone(), "NULL".to_string()]];
    want.sort();
    assert_eq!(got, want, "created and updated, the deleted one removed");

    // Each account's state (its own cursor) is committed with its rows.
    let state = syncer.syncer(&other).expect("syncer").state("customers").expect("state").clone();
    assert!(state.events.last_event_created.is_some_and(|c| c >= T0 + 10), "{state:?}");
    let status =
        p.rows("mirror", "SELECT account, rows FROM stripe_mirror_status() WHERE table_name = 'customers'").await;
    assert_eq!(status.len(), 5, "one status row per account: {status:?}");
    let mirrored_customers =
        p.rows("mirror", &format!("SELECT count(*) FROM customers WHERE account = '{other}'")).await;
    assert!(status.contains(&vec![other.clone(), mirrored_customers[0][0].clone()]), "{status:?}");

    // Past the Events API's 30 days every account backfills again, each one
    // replacing its own partition only (a wider replace would empty the
    // accounts backfilled before it).
    seen.lock().unwrap().clear();
    p.set_clock(T0 + 31 * 86_400);
    syncer.step(false).await.expect("third step");
    let again: std::collections::BTreeSet<String> = seen
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            Progress::Account { account, progress } if matches!(**progress, Progress::Rebackfill { .. }) => {
                Some(account.clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(again.len(), 5, "every answering account backfills again: {again:?}");
    assert_exact(&p, &syncer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_sync_resumes_each_account_where_it_stopped() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("mirror");
    let p = Platform::new(2, &dir);
    let names = vec!["charges".to_string(), "refunds".to_string()];
    let options = SyncOptions { backfill_rows: 40, page_size: 10, ..p.options() };
    // Stop after the third committed backfill chunk (of whichever account).
    let stop: Arc<std::sync::OnceLock<Arc<std::sync::atomic::AtomicBool>>> = Default::default();
    let chunks = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (flag, count) = (Arc::clone(&stop), Arc::clone(&chunks));
    let observer: Observer = Arc::new(move |e: &Progress| {
        if let Progress::Account { progress, .. } = e
            && matches!(**progress, Progress::Backfill { .. })
            && count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 >= 3
            && let Some(f) = flag.get()
        {
            f.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let open = |observer: Observer| {
        AccountsSyncer::open(
            Arc::clone(&p.engine),
            Some(&names),
            "all",
            Target::Dir(dir.clone()),
            options.clone(),
            observer,
        )
    };
    let mut first = open(observer).await.expect("opens");
    let _ = stop.set(first.stop_flag());
    first.step(false).await.expect("stopped step");
    assert!(chunks.load(std::sync::atomic::Ordering::SeqCst) >= 3);
    let unfinished: Vec<String> = first
        .accounts()
        .into_iter()
        .filter(|a| first.syncer(a).is_some_and(|s| s.state("charges").is_ok_and(|st| st.backfill.is_some())))
        .collect();
    assert!(!unfinished.is_empty(), "stopped mid-backfill");
    let resumed_from: Vec<u64> = unfinished
        .iter()
        .map(|a| first.syncer(a).unwrap().state("charges").unwrap().backfill.as_ref().unwrap().fetched)
        .collect();
    drop(first);
    // A new process: each account continues from its own committed state.
    let (observer, seen) = recorder();
    let mut second = open(observer).await.expect("reopens");
    second.step(false).await.expect("resumed step");
    for (a, from) in unfinished.iter().zip(resumed_from) {
        let first_chunk = seen.lock().unwrap().iter().find_map(|e| match e {
            Progress::Account { account, progress } if account == a => match &**progress {
                Progress::Backfill { table, fetched, .. } if table == "charges" => Some(*fetched),
                _ => None,
            },
            _ => None,
        });
        assert!(
            first_chunk.is_some_and(|f| f > from),
            "{a} resumed past its {from} committed objects: {first_chunk:?}"
        );
    }
    assert_exact(&p, &second).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_filter_reads_only_its_partition() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("mirror");
    let p = Platform::new(3, &dir);
    let _syncer = p.synced(&["charges"], "all", &dir).await;
    let one = p.accounts[0].clone();
    p.reader.sql("SET stripe.accounts = 'all'").await.expect("set");
    // A sum, not a count alone: Delta answers a count from its statistics
    // without opening a file.
    let sql = format!("SELECT count(*), sum(amount) FROM charges WHERE account = '{one}'");
    let expected = p.rows("live", &sql).await;
    let n = p.engine.emulator().expect("emulator").count_in(&one, "charges");
    assert_eq!(expected[0][0], n.to_string());
    assert_eq!(p.rows("mirror", &sql).await, expected);
    // One folder per account; removing the others' files leaves the filtered
    // query whole (it never opens them) and breaks an unfiltered one.
    let table = dir.join("charges");
    let mut partitions: Vec<String> = std::fs::read_dir(&table)
        .expect("table folder")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("account="))
        .collect();
    partitions.sort();
    assert_eq!(partitions.len(), 4, "the platform and 3 accounts: {partitions:?}");
    for part in partitions.iter().filter(|n| **n != format!("account={one}")) {
        std::fs::remove_dir_all(table.join(part)).expect("remove partition");
    }
    assert_eq!(p.rows("mirror", &sql).await, expected, "only its partition is read");
    p.reader.sql("SET stripe.source = 'mirror'").await.expect("set");
    let err = p.reader.sql("SELECT sum(amount) FROM charges").await.expect_err("an unfiltered read opens them");
    assert!(err.to_string().contains("account="), "{err}");
    // The setting narrows the same way (`stripe.accounts` naming one account).
    p.reader.sql(&format!("SET stripe.accounts = '{one}'")).await.expect("set");
    let sql = "SELECT count(*), sum(amount) FROM charges";
    assert_eq!(p.rows("mirror", sql).await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mirror_of_other_accounts_is_refused_and_a_plain_mirror_is_unchanged() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("mirror");
    let p = Platform::new(2, &dir);
    let names = vec!["charges".to_string()];
    let quiet = stripe_sql::sync::progress::quiet;
    let list = format!("{},{}", p.accounts[0], p.accounts[1]);
    let syncer = p.synced(&["charges"], &list, &dir).await;
    assert_eq!(syncer.accounts(), {
        let mut a = p.accounts.clone();
        a.sort();
        a
    });
    let err = AccountsSyncer::open(
        Arc::clone(&p.engine),
        Some(&names),
        "all",
        Target::Dir(dir.clone()),
        p.options(),
        quiet(),
    )
    .await
    .expect_err("another selection is refused");
    assert!(err.to_string().contains("not of every account"), "{err}");
    // 'all' is more than the mirror holds: live under auto, an error under mirror.
    p.reader.sql("SET stripe.accounts = 'all'").await.expect("set");
    p.reader.sql("SET stripe.source = 'mirror'").await.expect("set");
    let err = p.reader.sql("SELECT count(*) FROM charges").await.expect_err("not held");
    assert!(err.to_string().contains("not every account"), "{err}");
    // A subset is answered from the mirror, filtered to it.
    p.reader.sql(&format!("SET stripe.accounts = '{}'", p.accounts[1])).await.expect("set");
    let n = p.engine.emulator().expect("emulator").count_in(&p.accounts[1], "charges");
    assert_eq!(p.rows("mirror", "SELECT count(*) FROM charges").await, vec![vec![n.to_string()]]);
    // The plain (one-account) mirror's tables have no account column.
    let plain = tmp.path().join("plain");
    let mut one = stripe_sql::sync::Syncer::open(
        Arc::clone(&p.engine),
        Some(&names),
        Target::Dir(plain.clone()),
        p.options(),
        quiet(),
    )
    .await
    .expect("opens");
    one.step(false).await.expect("step");
    let schema = one.rows("charges").await.expect("rows")[0].schema();
    assert!(schema.field_with_name("account").is_err());
    let marker = std::fs::read_to_string(plain.join("mirror.json")).expect("marker");
    assert!(!marker.contains("accounts"), "{marker}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_syncs_every_account_and_names_the_refused_one() {
    let tmp = tempfile::tempdir().expect("tmp");
    let home = tempfile::tempdir().expect("home");
    let dir = tmp.path().join("mirror");
    let p = Platform::new(2, &dir);
    let emu = p.engine.emulator().expect("emulator");
    let victim = p.accounts[0].clone();
    emu.revoke_account_after(&victim, 0);
    let base = emu.base_url();
    let to = dir.to_str().expect("utf-8");
    let args = [
        "--api-base",
        &base,
        "--api-key",
        emu.api_key(),
        "--format",
        "ndjson",
        "sync",
        "--accounts",
        "all",
        "--tables",
        "charges",
        "--to",
        to,
        "--once",
    ];
    let out = crate::cli::support::command(&args, home.path()).stdin(std::process::Stdio::null()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "sync --accounts all: {}{stdout}", String::from_utf8_lossy(&out.stderr));
    let skipped: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == "account_skipped")
        .collect();
    assert_eq!(skipped.len(), 1, "{stdout}");
    assert_eq!(skipped[0]["account"], victim.as_str());
    assert!(stdout.contains(&format!("\"account\":\"{}\"", p.accounts[1])), "progress names the account: {stdout}");
    let marker = std::fs::read_to_string(dir.join("mirror.json")).expect("marker");
    assert!(marker.contains("\"accounts\": \"all\""), "{marker}");
    // Read back under the same setting: the platform and the account that answered.
    p.reader.sql("SET stripe.accounts = 'all'").await.expect("set");
    let per = p.rows("mirror", "SELECT account, count(*) FROM charges GROUP BY account").await;
    let expected = emu.count_in(&p.accounts[1], "charges").to_string();
    assert_eq!(per.len(), 2, "{per:?}");
    assert!(per.contains(&vec![p.accounts[1].clone(), expected]), "{per:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_with_its_own_account_column_is_partitioned_by_stripe_account() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("mirror");
    let p = Platform::new(1, &dir);
    let syncer = p.synced(&["customers", "customer_sources"], "all", &dir).await;
    assert!(syncer.skipped().is_empty(), "{:?}", syncer.skipped());
    let log = std::fs::read_to_string(dir.join("customer_sources/_delta_log/00000000000000000000.json")).expect("log");
    assert!(log.contains(r#""partitionColumns":["stripe_account"]"#), "{log}");
    let log = std::fs::read_to_string(dir.join("customers/_delta_log/00000000000000000000.json")).expect("log");
    assert!(log.contains(r#""partitionColumns":["account"]"#), "{log}");
    assert_exact(&p, &syncer).await;
    p.reader.sql("SET stripe.accounts = 'all'").await.expect("set");
    let sql = format!("SELECT count(*) FROM customer_sources WHERE stripe_account = '{}'", p.accounts[0]);
    p.rows("mirror", &sql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_under_stripe_accounts_are_read_back_from_the_mirror_at_once() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("mirror");
    let p = Platform::new(2, &dir);
    let mut syncer = p.synced(&["customers"], "all", &dir).await;
    let (a, b) = (p.accounts[0].clone(), p.accounts[1].clone());
    let states = || async {
        let table = stripe_sql::mirror::store::open_existing(&dir.join("customers")).await.expect("open");
        stripe_sql::mirror::partition::read_states(&table.expect("mirrored")).await.expect("states")
    };
    let before = states().await;
    assert!(before.contains_key(&a) && before.contains_key(&b), "{before:?}");
    p.reader.sql("SET stripe.accounts = 'all'").await.expect("set");
    // What the REPL's banner and `\dt` show: the lag of the mirror the session reads.
    let lags = stripe_sql::mirror::read::staleness(p.reader.context()).expect("the mirror of several accounts");
    assert!(lags.contains_key("customers"), "{lags:?}");
    let of_a = p.rows("live", &format!("SELECT id FROM customers WHERE account = '{a}' ORDER BY id")).await;
    let (updated, deleted) = (of_a[0][0].clone(), of_a[1][0].clone());

    // Each write goes to its row's account; no sync step runs in between.
    p.set_clock(T0 + 10);
    p.reader.sql("SET stripe.source = 'mirror'").await.expect("set");
    let write = |sql: String| {
        let reader = &p.reader;
        async move { reader.sql(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}")) }
    };
    write(format!("UPDATE customers SET description = 'vip' WHERE account = '{a}' AND id = '{updated}'")).await;
    write(format!("DELETE FROM customers WHERE account = '{a}' AND id = '{deleted}'")).await;
    write(format!("INSERT INTO customers (account, email) VALUES ('{b}', 'new@example.com')")).await;

    let got = p
        .rows("mirror", &format!("SELECT description FROM customers WHERE account = '{a}' AND id = '{updated}'"))
        .await;
    assert_eq!(got, vec![vec!["vip".to_string()]], "the update is read back from the mirror");
    let got = p.rows("mirror", &format!("SELECT id FROM customers WHERE account = '{a}' AND id = '{deleted}'")).await;
    assert!(got.is_empty(), "the deleted customer is gone from the mirror: {got:?}");
    let got = p.rows("mirror", "SELECT account FROM customers WHERE email = 'new@example.com'").await;
    assert_eq!(got, vec![vec![b.clone()]], "the inserted customer lands in its account's partition");
    // The rows equal Stripe's, and no account's sync state moved.
    assert_exact(&p, &syncer).await;
    assert_eq!(states().await, before, "the writes left every account's sync state as it was");
    // The sync's next step re-applies the same changes from events, harmlessly.
    p.set_clock(T0 + 100);
    syncer.step(false).await.expect("next step");
    assert_exact(&p, &syncer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_keeps_a_mirror_of_every_account_fresh() {
    use std::io::BufRead;
    let tmp = tempfile::tempdir().expect("tmp");
    let home = tempfile::tempdir().expect("home");
    let dir = tmp.path().join("mirror");
    let p = Platform::new(2, &dir);
    let emu = p.engine.emulator().expect("emulator");
    // Real time: the server's sync reads events by the wall clock.
    emu.set_clock(None);
    for a in &p.accounts {
        emu.set_clock_in(a, None);
    }
    let (base, to) = (emu.base_url(), dir.to_str().expect("utf-8").to_string());
    let cli = |args: &[&str]| {
        let mut all = vec!["--api-base", base.as_str(), "--api-key", emu.api_key()];
        all.extend_from_slice(args);
        crate::cli::support::command(&all, home.path())
    };
    let out = cli(&["sync", "--accounts", "all", "--tables", "customers", "--to", &to, "--once"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "sync --once: {}", String::from_utf8_lossy(&out.stderr));

    let args = ["--accounts", "all", "--mirror", &to, "serve", "--listen", "127.0.0.1:0", "--sync-interval", "1s"];
    let mut server =
        cli(&args).stdin(std::process::Stdio::null()).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut lines = std::io::BufReader::new(server.stdout.take().unwrap()).lines();
    let line = lines.next().expect("a line").unwrap();
    std::thread::spawn(move || lines.for_each(drop));
    let port = line.split("listening on 127.0.0.1:").nth(1).and_then(|r| r.split_whitespace().next());
    let port = port.unwrap_or_else(|| panic!("unexpected line: {line}")).to_string();

    let b = p.accounts[1].clone();
    let query = format!("SELECT count(*) FROM customers WHERE account = '{b}' AND email = 'fresh@example.com'");
    let poll = |want: &str, timeout: &str| {
        let out =
            crate::serve::support::python_with("psycopg", "pg_python.py", &[&port, "poll", &query, want, timeout]);
        serde_json::from_str::<serde_json::Value>(out.stdout.trim())
            .unwrap_or_else(|e| panic!("{e}: {} {}", out.stdout, out.stderr))
    };
    let before = poll("0", "10");
    assert_eq!(before["first"], "0", "{before}");
    assert!(before["explain"].as_str().unwrap_or("").contains("MirrorScanExec"), "read from the mirror: {before}");

    p.engine
        .client()
        .as_account(&b)
        .post("/v1/customers", &json!({"email": "fresh@example.com"}))
        .await
        .expect("create");
    let created_at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let after = poll("1", "30");
    let _ = server.kill();
    let _ = server.wait();
    let seen_at =
        after["seen_at"].as_f64().unwrap_or_else(|| panic!("the new customer never reached the mirror: {after}"));
    println!(
        "serve --accounts all: a new customer of {b} was read from the mirror {:.2} s after it was created",
        seen_at - created_at
    );
    // One interval until the next step, plus the step (each account's events, merge, commit) on a loaded machine.
    assert!(seen_at - created_at < 1.0 + 6.0, "visible after {:.2} s", seen_at - created_at);
}

/// Data files under `dir/table/<column>=<account>/` (on disk, whether or not still in the table).
fn partition_files(dir: &std::path::Path, table: &str, account: &str) -> std::collections::BTreeSet<String> {
    let part = dir.join(table).join(format!("account={account}"));
    std::fs::read_dir(part).map_or_else(
        |_| Default::default(),
        |d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_accounts_partition_is_compacted_on_its_own() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("mirror");
    let p = Platform::new(2, &dir);
    let names = vec!["customers".to_string()];
    let (observer, seen) = recorder();
    let options = SyncOptions { compact_files: 3, ..p.options() };
    let mut syncer =
        AccountsSyncer::open(Arc::clone(&p.engine), Some(&names), "all", Target::Dir(dir.clone()), options, observer)
            .await
            .expect("sync opens");
    syncer.step(false).await.expect("first step");
    let (busy, quiet) = (p.accounts[0].clone(), p.accounts[1].clone());
    let quiet_files = partition_files(&dir, "customers", &quiet);
    assert!(!quiet_files.is_empty(), "the quiet account is mirrored");

    // Only one account creates customers: a file per step in its partition.
    let client = p.engine.client().as_account(&busy);
    for round in 0..6 {
        p.set_clock(T0 + 10 * (round + 1));
        client.post("/v1/customers", &json!({"email": format!("r{round}@example.com")})).await.expect("create");
        syncer.step(false).await.expect("step");
        assert_exact(&p, &syncer).await;
    }
    let compacted: Vec<(String, usize, usize)> = seen
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            Progress::Account { account, progress } => match &**progress {
                Progress::Compacted { files_before, files_after, .. } => {
                    Some((account.clone(), *files_before, *files_after))
                }
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert!(!compacted.is_empty(), "six new files in one partition, a budget of 3: no compaction");
    assert!(compacted.iter().all(|(a, before, after)| *a == busy && before > &3 && after < before), "{compacted:?}");
    // The quiet account's files are untouched, and every account's state reads back.
    assert_eq!(partition_files(&dir, "customers", &quiet), quiet_files);
    let status =
        p.rows("mirror", "SELECT account, rows FROM stripe_mirror_status() WHERE table_name = 'customers'").await;
    assert_eq!(status.len(), 3, "the platform and two accounts: {status:?}");
}

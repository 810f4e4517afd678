//! A Delta reader we did not write — the Python `deltalake` package, installed
//! by `tests/peers/install.sh` — reads a synced table and gets the rows a live
//! scan returns (ids and whole objects).

use std::collections::BTreeMap;

use super::support::*;

fn python() -> String {
    let peers = std::env::var("STRIPE_SQL_PEERS").unwrap_or_else(|_| {
        format!("{}/.cache/stripe-sql-peers", std::env::var("HOME").unwrap_or_else(|_| "/root".into()))
    });
    let python = format!("{peers}/venv/bin/python");
    assert!(std::path::Path::new(&python).exists(), "{python} missing: run tests/peers/install.sh");
    python
}

#[tokio::test]
async fn python_deltalake_reads_the_same_rows() {
    let a = Account::new();
    for i in 0..3 {
        let cus = a.customer(&format!("p{i}@sync.test")).await;
        a.advance(100);
        a.charge(&cus, 700 + i).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut sync = a.syncer(&["customers", "charges"], dir.path()).await;
    sync.step(false).await.unwrap();
    a.advance(10);
    a.customer("late@sync.test").await;
    sync.step(false).await.unwrap();

    for table in ["customers", "charges"] {
        // os._exit: deltalake 1.6.6 aborts in its runtime's teardown at interpreter exit.
        let script = "import sys, json\n\
                      from deltalake import DeltaTable\n\
                      t = DeltaTable(sys.argv[1]).to_pyarrow_table()\n\
                      rows = t.select(['id', '_raw', 'created']).to_pylist()\n\
                      print(json.dumps({r['id']: [r['_raw'], int(r['created'].timestamp())] for r in rows}), flush=True)\n\
                      import os; os._exit(0)";
        let path = dir.path().join(table);
        let out = std::process::Command::new(python()).args(["-c", script, path.to_str().unwrap()]).output().unwrap();
        assert!(out.status.success(), "deltalake (python) failed: {}", String::from_utf8_lossy(&out.stderr));
        let read: BTreeMap<String, (String, i64)> = serde_json::from_slice(&out.stdout).unwrap();
        let live =
            a.engine.sql(&format!("SELECT id, _raw, CAST(created AS BIGINT) AS created FROM {table}")).await.unwrap();
        let live: BTreeMap<String, (String, i64)> =
            rows_text(&live).into_iter().map(|r| (r[0].clone(), (r[1].clone(), r[2].parse().unwrap()))).collect();
        assert_eq!(read.len(), if table == "customers" { 4 } else { 3 });
        assert_eq!(read, live, "{table}: python deltalake reads what Stripe lists");
    }
}

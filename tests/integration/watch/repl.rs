//! The REPL's `\watch new` runs the same watcher over the REPL's own engine:
//! new rows once, calls in the engine's request log, the session's search
//! setting left as it was.

use std::sync::Arc;

use stripe_sql_app::backend::EngineBackend;
use stripe_sql_app::repl::{Backend, OutputFormat, ScriptOptions, run_script};

use super::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn watch_new_prints_new_rows_once_through_the_session_engine() {
    let engine = engine();
    // Objects stamped in the future count as new for a watch starting now.
    let future = stripe_sql::watch::watcher::unix_now() + 100;
    set_clock(&engine, future);
    insert_customers(&engine, &emails("r", 2)).await;
    let backend: Arc<dyn Backend> = Arc::new(EngineBackend::new(Arc::clone(&engine)));
    let script = "SELECT email FROM customers WHERE email LIKE 'r%';\n\\watch new 0.05 3\n";
    let opts = ScriptOptions { format: OutputFormat::Ndjson, ..ScriptOptions::default() };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_script(backend, script, &opts, &mut out, &mut err).await;
    let (out, err) = (String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap());
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.iter().filter(|l| l.contains("r0@watch.test")).count(),
        2,
        "once by SELECT, once by \\watch new: {out}"
    );
    assert_eq!(lines.iter().filter(|l| l.contains("r1@watch.test")).count(), 2, "{out}");
    let options = stripe_sql::settings::StripeOptions::from_session(&engine.context().state());
    assert!(options.use_search, "the session's use_search is restored after the polls");
    let bounds: Vec<i64> = engine
        .client()
        .request_log()
        .entries()
        .into_iter()
        .filter_map(|e| e.param("created[gte]").map(|v| v.parse().unwrap()))
        .collect();
    assert_eq!(bounds.len(), 3, "three polls through the REPL's engine: {bounds:?}");
    // Then from the high-water second less the default settle window of 10 s.
    assert!(bounds[0] < future && bounds[1..] == [future - 10, future - 10], "{bounds:?}");
}

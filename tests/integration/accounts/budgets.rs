//! Each connected account's rate budget is the process's, not a session's:
//! two sessions (as two `serve` connections are) reading as one account at
//! once stay within its strict per-second limit together, with no 429.

use stripe_sql::emulator::{EmulatorConfig, RateWindow};
use stripe_sql::engine::Engine;
use stripe_sql::stripe::RequestLog;

use super::{number, rows};

/// Requests per second the emulator allows each account per endpoint (a
/// strict sliding window) and the client budgets for each.
const RPS: f64 = 4.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sessions_reading_as_one_account_share_its_budget() {
    let config =
        EmulatorConfig { accounts: 2, endpoint_rps: RPS, rate_window: RateWindow::Sliding, ..EmulatorConfig::demo() };
    let first = Engine::with_emulator(config, |c| c.endpoint_rps = RPS).expect("emulator starts");
    let emu = first.emulator().expect("emulator");
    let account = emu.connected_accounts()[0].clone();
    let objects = emu.count_in(&account, "balance_transactions");
    // As `serve` makes a connection's session: the same client, its own log.
    let second = Engine::new(first.client().with_request_log(RequestLog::with_capacity(10_000))).expect("session");
    for engine in [&first, &second] {
        engine.sql("SET stripe.accounts = 'all'").await.expect("set");
        engine.sql("SET stripe.max_concurrency = 4").await.expect("set");
    }
    let sql = format!("SELECT count(*) FROM balance_transactions WHERE account = '{account}'");
    let (a, b) = tokio::join!(number(&first, &sql), number(&second, &sql));
    assert_eq!((a as usize, b as usize), (objects, objects), "both sessions read every row");
    let mut statuses = Vec::new();
    for engine in [&first, &second] {
        statuses.extend(rows(engine, "SELECT status FROM stripe_request_log() WHERE account IS NOT NULL").await);
    }
    let sent = statuses.len();
    assert!(sent as f64 > 3.0 * RPS, "enough calls to need the budget over several seconds: {sent}");
    let rejected = statuses.iter().filter(|s| s[0] == "429").count();
    assert_eq!(
        rejected, 0,
        "the two sessions together went over the account's {RPS}/s: {rejected} of {sent} answered 429"
    );
}

//! A failing account's warning reaches the user: after the result on the
//! CLI's error stream, as a Postgres WARNING notice from `serve` (simple and
//! extended protocol), and in `stripe_last_requests()` with its `account`;
//! under `stripe.account_errors = 'fail'` the statement fails instead.

use std::process::Command;

use stripe_sql::emulator::{Emulator, EmulatorConfig};

use super::{platform, rows};
use crate::serve::support::{python_with, start_over};

const COUNT_BY_ACCOUNT: &str = "SELECT account, count(*) AS n FROM charges GROUP BY account ORDER BY account";

/// An emulator with three connected accounts, the second one revoked.
fn revoked_platform() -> (Emulator, String) {
    let emu = Emulator::start(EmulatorConfig { accounts: 3, ..EmulatorConfig::demo() }).expect("emulator starts");
    let victim = emu.connected_accounts()[1].clone();
    emu.revoke_account_after(&victim, 0);
    (emu, victim)
}

fn cli(emu: &Emulator, sql: &[&str]) -> std::process::Output {
    let home = tempfile::tempdir().expect("home");
    let mut cmd = crate::serve::support::command(
        &["--api-base", &emu.base_url(), "--api-key", emu.api_key(), "--accounts", "all", "--format", "csv"],
        home.path(),
    );
    for s in sql {
        cmd.args(["-c", s]);
    }
    cmd.output().expect("run stripe-sql")
}

#[test]
fn the_cli_prints_a_failing_accounts_warning_after_the_result() {
    let (emu, victim) = revoked_platform();
    let out = cli(&emu, &[COUNT_BY_ACCOUNT]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    let accounts: Vec<&str> = stdout.lines().skip(1).filter_map(|l| l.split(',').next()).collect();
    assert_eq!(accounts.len(), 3, "the platform and the two accounts that answered:\n{stdout}");
    assert!(!accounts.contains(&victim.as_str()), "{stdout}");
    let warning =
        stderr.lines().find(|l| l.starts_with("WARNING: ")).unwrap_or_else(|| panic!("no warning:\n{stderr}"));
    assert!(warning.contains(&victim) && warning.contains("failed"), "{warning}");
    assert!(!stderr.contains(emu.api_key()), "the key never appears");

    let out = cli(&emu, &["SET stripe.account_errors = 'fail'", COUNT_BY_ACCOUNT]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "under 'fail' the statement fails");
    assert!(stderr.contains(&victim) && !stderr.contains("WARNING: "), "{stderr}");
}

#[test]
fn serve_sends_a_failing_accounts_warning_as_a_notice() {
    let (emu, victim) = revoked_platform();
    let base = emu.base_url();
    let (server, _) = start_over(
        &["--api-base", &base, "--api-key", emu.api_key(), "--accounts", "all", "--listen", "127.0.0.1:0"],
        &[],
        false,
    );
    let port = server.addr.port().to_string();

    // The simple protocol (psql -c): psql prints the notice on stderr.
    let psql = |commands: &[&str]| {
        let mut cmd = Command::new(crate::serve::support::require("psql"));
        cmd.args(["-X", "-A", "-h", "127.0.0.1", "-p", &port, "-U", "stripe", "-d", "stripe"]);
        for c in commands {
            cmd.args(["-c", c]);
        }
        cmd.env("PGSSLMODE", "disable").output().expect("psql runs")
    };
    let out = psql(&[COUNT_BY_ACCOUNT]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("(3 rows)"), "{stdout}");
    assert!(stderr.contains("WARNING:") && stderr.contains(&victim), "psql shows the notice:\n{stderr}");

    // The extended protocol (psycopg, prepared).
    let out = python_with("psycopg", "pg_notices.py", &[&port, COUNT_BY_ACCOUNT]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let got: serde_json::Value = serde_json::from_str(out.stdout.trim()).expect("json");
    assert_eq!(got["rows"].as_array().map(Vec::len), Some(3), "{got}");
    let notices = got["notices"].as_array().expect("notices");
    assert_eq!(notices.len(), 1, "{got}");
    assert_eq!(notices[0]["severity"], "WARNING");
    assert!(notices[0]["message"].as_str().unwrap_or("").contains(&victim), "{got}");

    // 'fail': an error, no notice.
    let out = psql(&["SET stripe.account_errors = 'fail'", COUNT_BY_ACCOUNT]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("ERROR") && stderr.contains(&victim), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_last_requests_names_each_calls_account() {
    let engine = platform(2);
    let connected = engine.emulator().expect("emulator").connected_accounts();
    engine.sql("SET stripe.accounts = 'all'").await.expect("set");
    engine.sql("SELECT count(*) FROM customers").await.expect("count");
    let per = rows(
        &engine,
        "SELECT coalesce(account, 'platform'), count(*) FROM stripe_last_requests() WHERE path = '/v1/customers' GROUP BY 1 ORDER BY 1",
    )
    .await;
    let named: Vec<&String> = per.iter().map(|r| &r[0]).collect();
    let mut expected: Vec<&String> = connected.iter().collect();
    let platform = "platform".to_string();
    expected.push(&platform);
    expected.sort();
    assert_eq!(named, expected, "one group of calls per account, the platform's without a header: {per:?}");
}

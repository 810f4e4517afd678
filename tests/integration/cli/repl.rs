//! The interactive REPL of the real binary, driven through tmux as a person
//! would: Tab completion, a multi-line query, `\d`, progress and Ctrl-C
//! during a slow query (the demo emulator's latency), then `\q`.

use crate::cli::support::{self, tmux::Tmux};

/// Latency of every demo API response: long enough that Ctrl-C lands while the
/// statement waits for Stripe, short enough to keep the test quick.
const LATENCY_MS: &str = "1500";

/// The first demo customer by id.
const CUSTOMER: &str = "cus_0Br4O2cTH48s7Cg13Ri0dIeM";

fn demo_customer_count() -> String {
    let out = support::demo(&["--format", "csv", "-c", "SELECT count(*) AS n FROM customers"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.stdout.lines().nth(1).expect("a count row").to_string()
}

/// The value printed under the one-column table header `header` (after the `---` rule).
fn value_below<'a>(screen: &'a str, header: &str) -> Option<&'a str> {
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines.iter().position(|l| l.trim() == header)?;
    lines.get(at + 2).map(|l| l.trim())
}

#[test]
fn repl_completes_runs_describes_cancels_and_quits() {
    assert!(support::tmux::available(), "tmux is not installed (tests/peers/install.sh installs it)");
    let customers = demo_customer_count();
    let home = tempfile::tempdir().unwrap();
    let home_dir = home.path().to_str().unwrap();
    let env = [
        ("HOME", home_dir),
        ("TERM", "screen"),
        ("NO_COLOR", "1"),
        ("LANG", "C.UTF-8"),
        ("STRIPE_SQL_DEMO_LATENCY_MS", LATENCY_MS),
    ];
    let term = Tmux::start(support::BIN, &["--demo"], &env, 160, 50);
    term.wait_for("the prompt", |s| s.contains("stripe-sql> "));

    // Tab completes the common prefix of the customer tables, a second Tab lists them.
    term.type_text("SELECT count(*) AS n FROM cust");
    term.press("Tab");
    term.wait_for("completion to `customer`", |s| s.contains("FROM customer"));
    term.press("Tab");
    term.wait_for("the list of candidates", |s| s.contains("customer_tax_ids") && s.contains("customers"));
    term.type_text("s;");
    term.press("Enter");
    let screen = term.wait_for("the count", |s| s.contains("(1 row)"));
    assert_eq!(value_below(&screen, "n"), Some(customers.trim()), "{screen}");

    // A statement over three lines runs once it ends with `;`.
    term.type_text("SELECT id, email");
    term.press("Enter");
    term.type_text("FROM customers");
    term.press("Enter");
    let screen = term.wait_for("the statement to continue", |s| {
        s.contains("\nFROM customers\n") || s.trim_end().ends_with("FROM customers")
    });
    assert!(screen.matches("(1 row)").count() == 1 && !screen.contains("error:"), "ran before the `;`: {screen}");
    term.type_text(&format!("WHERE id = '{CUSTOMER}';"));
    term.press("Enter");
    let screen = term.wait_for("the multi-line result", |s| s.matches("(1 row)").count() == 2);
    assert!(screen.contains(&format!(" {CUSTOMER} | linus.conway148@example.com\n(1 row)")), "{screen}");

    term.type_text("\\d customers");
    term.press("Enter");
    let screen = term.wait_for("the description of customers", |s| s.contains("writes: INSERT, UPDATE, DELETE"));
    assert!(screen.contains(" email "), "{screen}");

    // Ctrl-C while the scan waits for the (slow) API cancels only the statement.
    term.type_text("SELECT count(*) AS slow FROM charges;");
    term.press("Enter");
    term.wait_for_cooked_mode();
    // stderr is the terminal: a progress line appears while the scan waits.
    term.wait_for("the progress line", |s| s.contains(" elapsed; Ctrl-C cancels") && s.contains("API request"));
    term.press("C-c");
    let screen = term.wait_for("the cancellation", |s| s.contains("error: statement canceled"));
    assert!(!screen.contains(" slow\n"), "the canceled statement printed a result: {screen}");
    assert!(!screen.contains("elapsed; Ctrl-C cancels"), "the progress line was not erased: {screen}");

    term.wait_for("the prompt after the cancellation", |s| s.trim_end().ends_with("stripe-sql>"));
    term.type_text("SELECT count(*) AS after_cancel FROM customers;");
    term.press("Enter");
    let screen = term.wait_for("the query after the cancellation", |s| {
        s.contains("after_cancel") && s.matches("(1 row)").count() == 3
    });
    assert_eq!(value_below(&screen, "after_cancel"), Some(customers.trim()), "{screen}");

    term.type_text("\\q");
    term.press("Enter");
    assert_eq!(term.wait_for_exit(), 0, "{}", term.screen());
    let history = std::fs::read_to_string(Tmux::history_file(home.path())).expect("history file");
    assert!(history.contains("\\d customers"), "{history}");
}

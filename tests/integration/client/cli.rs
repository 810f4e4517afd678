//! The binary's command line: `--help`, and a malformed key.

use std::process::Command;

fn stripe_sql() -> Command {
    let home = std::env::temp_dir().join("stripe-sql-cli-test-home-does-not-exist");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stripe-sql"));
    for var in [
        "STRIPE_API_KEY",
        "STRIPE_API_BASE",
        "STRIPE_ACCOUNT",
        "STRIPE_VERSION",
        "HTTPS_PROXY",
        "https_proxy",
        "XDG_CONFIG_HOME",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", home);
    cmd
}

#[test]
fn help_lists_the_contract() {
    let out = stripe_sql().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--api-key",
        "--api-base",
        "--account",
        "--stripe-version",
        "--proxy",
        "--max-rps",
        "--allow-live-writes",
        "--format",
        "--config",
        "--demo",
        "-c",
        "-f",
        "serve",
        "emulator",
        "watch",
    ] {
        assert!(text.contains(needle), "--help lacks {needle}:\n{text}");
    }
}

#[test]
fn a_malformed_key_is_a_clear_error_that_does_not_echo_it() {
    let key = "pk_live_NotASecretKey42";
    let out = stripe_sql().args(["--api-key", key, "-c", "select 1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a stripe key") && err.contains("--api-key"), "{err}");
    assert!(!err.contains(key) && !String::from_utf8_lossy(&out.stdout).contains(key), "{err}");

    let out = stripe_sql().env("STRIPE_API_KEY", "sk_test_has space").args(["-c", "select 1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("malformed") && err.contains("STRIPE_API_KEY") && !err.contains("has space"), "{err}");
}

#[test]
fn a_missing_key_is_a_clear_error() {
    let out = stripe_sql().args(["-c", "select 1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no api key"), "{err}");
}

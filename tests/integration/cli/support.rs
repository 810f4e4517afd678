//! Runs the real `stripe-sql` binary in a hermetic environment: no Stripe
//! variables from the caller, `HOME` and data directories in a temporary
//! folder (no history or Stripe CLI profile of the machine is read).

use std::io::Write;
use std::process::{Command, Stdio};

pub mod tmux;

/// The binary cargo built for this test run.
pub const BIN: &str = env!("CARGO_BIN_EXE_stripe-sql");

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// A command for the binary with `args`, a clean environment and a private home.
pub fn command(args: &[&str], home: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().to_string();
        if name.starts_with("STRIPE")
            || name == "HTTPS_PROXY"
            || name == "https_proxy"
            || name.starts_with("XDG_")
            || name == "COLUMNS"
        {
            cmd.env_remove(&name);
        }
    }
    cmd.env("HOME", home).env("NO_COLOR", "1");
    cmd
}

/// Runs the binary with `args` and `stdin` (empty when `None`), waiting for it to exit.
pub fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let home = tempfile::tempdir().expect("temporary home");
    let mut cmd = command(args, home.path());
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start stripe-sql");
    {
        let mut input = child.stdin.take().expect("stdin pipe");
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).expect("write stdin");
        }
    }
    let out = child.wait_with_output().expect("wait for stripe-sql");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

/// `run` with `--demo` first.
pub fn demo(args: &[&str]) -> Output {
    let mut all = vec!["--demo"];
    all.extend_from_slice(args);
    run(&all, None)
}

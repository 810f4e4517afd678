//! Starts `stripe-sql serve --demo --listen 127.0.0.1:0` (the real binary)
//! and drives it with real Postgres clients: psql, Python (psycopg,
//! SQLAlchemy, pandas) and pgJDBC. A missing client fails the test with a
//! message naming tests/peers/install.sh.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The binary cargo built for this test run.
pub const BIN: &str = env!("CARGO_BIN_EXE_stripe-sql");

/// A running server process; killed on drop.
pub struct Served {
    child: Child,
    /// The address it listens on.
    pub addr: SocketAddr,
    _home: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A command for the binary with a clean environment and a private home.
pub fn command(args: &[&str], home: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().to_string();
        if name.starts_with("STRIPE") || name.to_lowercase() == "https_proxy" || name.starts_with("XDG_") {
            cmd.env_remove(&name);
        }
    }
    cmd.env("HOME", home);
    cmd
}

/// Starts `stripe-sql serve --demo --listen 127.0.0.1:0 EXTRA...` with `env`
/// and waits for its `listening on ADDR` line.
pub fn serve(extra: &[&str], env: &[(&str, &str)]) -> Served {
    let mut args = vec!["--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let (served, _) = start(&args, env, false);
    served
}

/// Starts `stripe-sql serve --demo --listen 127.0.0.1:0 --flight-sql
/// 127.0.0.1:0 EXTRA...`: the Postgres port (`addr`) and the Flight SQL
/// address returned beside it.
pub fn serve_with_flight(extra: &[&str], env: &[(&str, &str)]) -> (Served, SocketAddr) {
    let mut args = vec!["--listen", "127.0.0.1:0", "--flight-sql", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let (served, flight) = start(&args, env, true);
    (served, flight.expect("a Flight SQL address"))
}

/// Starts the server with `args` and reads its `listening on` lines (the
/// Postgres one first when there is one, then the Flight SQL one when `flight`).
pub fn start(args: &[&str], env: &[(&str, &str)], flight: bool) -> (Served, Option<SocketAddr>) {
    let mut all = vec!["--demo"];
    all.extend_from_slice(args);
    start_over(&all, env, flight)
}

/// [`start`] without `--demo`: `args` say which API to serve (`--api-base`, `--api-key`, …).
pub fn start_over(args: &[&str], env: &[(&str, &str)], flight: bool) -> (Served, Option<SocketAddr>) {
    let home = tempfile::tempdir().expect("temporary home");
    let mut all = vec!["serve"];
    all.extend_from_slice(args);
    let mut cmd = command(&all, home.path());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = cmd.spawn().expect("start stripe-sql serve");
    let stdout = child.stdout.take().expect("stdout pipe");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // Every line goes to the test; the rest keeps draining so the server
        // never blocks on a full pipe.
        for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
            let _ = tx.send(line);
        }
    });
    let parse = |line: &str| -> SocketAddr {
        line.split("listening on ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected line from stripe-sql serve: {line:?}"))
    };
    let mut next = |what: &str| match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(line) => line,
        Err(_) => {
            let _ = child.kill();
            panic!("stripe-sql serve printed no {what} line within 60 s");
        }
    };
    let postgres = args.contains(&"--listen");
    let addr = if postgres { Some(parse(&next("`listening on`"))) } else { None };
    let flight_addr = if flight {
        let line = next("`Flight SQL listening on`");
        assert!(line.contains("Flight SQL"), "{line}");
        Some(parse(&line))
    } else {
        None
    };
    let addr = addr.or(flight_addr).expect("an address");
    (Served { child, addr, _home: home }, flight_addr)
}

/// Runs `Rscript tests/clients/FILE ARGS...` (R and RPostgreSQL from
/// `tests/peers/install.sh`).
pub fn rscript(file: &str, args: &[&str]) -> Output {
    let rscript = require("Rscript");
    let driver = Path::new("/usr/lib/R/site-library/RPostgreSQL");
    assert!(driver.is_dir(), "RPostgreSQL ({}) is missing: run tests/peers/install.sh", driver.display());
    let mut cmd = Command::new(rscript);
    cmd.arg(clients_dir().join(file)).args(args);
    run(cmd)
}

/// Runs SQL through the CLI on the same demo data (`--format json`): the rows as JSON objects.
pub fn cli_json(sql: &str) -> serde_json::Value {
    let home = tempfile::tempdir().expect("temporary home");
    let out = command(&["--demo", "--format", "json", "-c", sql], home.path()).output().expect("run stripe-sql");
    assert!(out.status.success(), "stripe-sql -c {sql:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("-c {sql:?} printed no JSON ({e})"))
}

/// Runs `tests/clients/SCRIPT ARGS` with the peers' Python, checking first
/// that `modules` import (else: run tests/peers/install.sh).
pub fn python_with(modules: &str, script: &str, args: &[&str]) -> Output {
    let python = peers().join("venv/bin/python");
    assert!(python.is_file(), "{} is missing: run tests/peers/install.sh", python.display());
    let check = run({
        let mut c = Command::new(&python);
        c.args(["-c", &format!("import {modules}")]);
        c
    });
    assert_eq!(check.code, 0, "{modules} are not installed: run tests/peers/install.sh\n{}", check.stderr);
    let mut cmd = Command::new(python);
    cmd.arg(clients_dir().join(script)).args(args);
    run(cmd)
}

/// What a client program printed.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Panics with both streams unless the program succeeded.
    pub fn ok(self) -> Self {
        assert_eq!(self.code, 0, "client failed\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
}

fn run(mut cmd: Command) -> Output {
    let out = cmd.stdin(Stdio::null()).output().expect("run client");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Fails the test when `program` is not installed.
pub fn require(program: &str) -> PathBuf {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).map(|p| p.join(program)).find(|p| p.is_file()))
        .unwrap_or_default();
    found.unwrap_or_else(|| panic!("`{program}` is not installed: run tests/peers/install.sh"))
}

/// A self-signed certificate for `localhost` and its key, written into `dir`
/// by openssl: `(cert.pem, key.pem)`.
pub fn self_signed_cert(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new(require("openssl"))
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(made.status.success(), "openssl: {}", String::from_utf8_lossy(&made.stderr));
    (cert, key)
}

/// psql against `addr` (unaligned, no psqlrc), running each of `commands` with `-c`.
pub fn psql(addr: SocketAddr, password: Option<&str>, commands: &[&str]) -> Output {
    psql_with(addr, password, "disable", commands)
}

/// psql that insists on TLS (`sslmode=require`: it fails if the server does not speak TLS).
pub fn psql_tls(addr: SocketAddr, commands: &[&str]) -> Output {
    psql_with(addr, None, "require", commands)
}

fn psql_with(addr: SocketAddr, password: Option<&str>, sslmode: &str, commands: &[&str]) -> Output {
    let mut cmd = Command::new(require("psql"));
    cmd.args(["-X", "-A", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose"]).args([
        "-h",
        "127.0.0.1",
        "-p",
        &addr.port().to_string(),
        "-U",
        "stripe",
        "-d",
        "stripe",
    ]);
    for c in commands {
        cmd.args(["-c", c]);
    }
    cmd.env_remove("PGPASSWORD").env("PGCONNECT_TIMEOUT", "20").env("PGSSLMODE", sslmode);
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    run(cmd)
}

/// The peers directory of tests/peers/install.sh.
fn peers() -> PathBuf {
    std::env::var_os("STRIPE_SQL_PEERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| dirs::home_dir().expect("home directory").join(".cache/stripe-sql-peers"))
}

/// The client scripts folder.
pub fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

/// Runs `tests/clients/SCRIPT` with the peers' Python (psycopg, SQLAlchemy, pandas) and `args`.
pub fn python(script: &str, args: &[&str]) -> Output {
    let python = peers().join("venv/bin/python");
    assert!(python.is_file(), "{} is missing: run tests/peers/install.sh", python.display());
    let check = run({
        let mut c = Command::new(&python);
        c.args(["-c", "import psycopg, sqlalchemy, pandas"]);
        c
    });
    assert_eq!(
        check.code, 0,
        "psycopg/sqlalchemy/pandas are not installed: run tests/peers/install.sh\n{}",
        check.stderr
    );
    let mut cmd = Command::new(python);
    cmd.arg(clients_dir().join(script)).args(args);
    run(cmd)
}

/// Runs `tests/clients/FILE.java` with the single-file launcher and pgJDBC on the class path.
pub fn java(file: &str, args: &[&str]) -> Output {
    let java = require("java");
    let jar = Path::new("/usr/share/java/postgresql.jar");
    assert!(jar.is_file(), "pgJDBC ({}) is missing: run tests/peers/install.sh", jar.display());
    let mut cmd = Command::new(java);
    cmd.arg("-cp").arg(jar).arg(clients_dir().join(file)).args(args);
    run(cmd)
}

/// Runs SQL through the CLI on the same demo data (`--format csv`), for expected values.
pub fn cli_csv(sql: &str) -> String {
    let home = tempfile::tempdir().expect("temporary home");
    let out = command(&["--demo", "--format", "csv", "-c", sql], home.path()).output().expect("run stripe-sql");
    assert!(out.status.success(), "stripe-sql -c {sql:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The single value of a one-row, one-column CSV result (after the header).
pub fn single_value(csv: &str) -> String {
    csv.lines().nth(1).unwrap_or_else(|| panic!("no data row in {csv:?}")).trim().to_owned()
}

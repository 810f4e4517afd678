//! A soak of `stripe-sql serve --demo`: many short connections, then a few
//! busy ones, with the server's resident memory read from `/proc` between the
//! phases. Shared by the `soak` benchmark (full size, figures printed) and the
//! test suite (a shorter form with a generous bound).
//!
//! The client is a minimal Postgres simple-query client over a plain socket
//! (startup without password, `Q`, `X`), so the soak measures the server and
//! not a driver.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A `serve` process on a loopback port; killed on drop.
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    _home: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `BIN serve --demo --listen 127.0.0.1:0 EXTRA…` and waits for its address.
    pub fn start(bin: &Path, extra: &[&str]) -> Server {
        let home = tempfile::tempdir().expect("temporary home");
        let mut cmd = Command::new(bin);
        cmd.args(["serve", "--demo", "--listen", "127.0.0.1:0"]).args(extra);
        cmd.env("HOME", home.path()).env_remove("STRIPE_API_KEY").env_remove("STRIPE_API_BASE");
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("start stripe-sql serve");
        let mut out = child.stdout.take().expect("stdout");
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while out.read(&mut byte).map(|n| n == 1).unwrap_or(false) && byte[0] != b'\n' {
            line.push(byte[0]);
        }
        let text = String::from_utf8_lossy(&line).to_string();
        let addr = text
            .split("listening on ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("serve did not say where it listens: {text:?}"));
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        Server { child, addr, _home: home }
    }

    /// The server's resident set size in MiB (`VmRSS`).
    pub fn rss_mib(&self) -> f64 {
        rss_mib(self.child.id())
    }
}

/// `VmRSS` of process `pid` in MiB.
pub fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc/PID/status");
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS in /proc/PID/status");
    kib / 1024.0
}

/// One client connection speaking the simple query protocol.
pub struct Conn {
    stream: TcpStream,
}

/// What a connection attempt or a query ended with, when not success.
#[derive(Debug)]
pub struct WireError {
    /// SQLSTATE when the server sent an ErrorResponse.
    pub code: Option<String>,
    /// The server's message, or the I/O error.
    pub message: String,
}

impl Conn {
    /// Connects and completes the startup (no password).
    pub fn open(addr: SocketAddr) -> Result<Conn, WireError> {
        let stream = TcpStream::connect(addr).map_err(io)?;
        stream.set_read_timeout(Some(Duration::from_secs(60))).map_err(io)?;
        stream.set_nodelay(true).map_err(io)?;
        let mut conn = Conn { stream };
        let mut body = Vec::new();
        body.extend_from_slice(&196_608u32.to_be_bytes());
        for part in ["user", "soak", "database", "stripe", "application_name", "soak"] {
            body.extend_from_slice(part.as_bytes());
            body.push(0);
        }
        body.push(0);
        let mut message = ((body.len() + 4) as u32).to_be_bytes().to_vec();
        message.extend_from_slice(&body);
        conn.stream.write_all(&message).map_err(io)?;
        conn.until_ready()?;
        Ok(conn)
    }

    /// Runs `sql` and returns the number of data rows.
    pub fn query(&mut self, sql: &str) -> Result<usize, WireError> {
        let mut message = vec![b'Q'];
        message.extend_from_slice(&((sql.len() + 5) as u32).to_be_bytes());
        message.extend_from_slice(sql.as_bytes());
        message.push(0);
        self.stream.write_all(&message).map_err(io)?;
        self.until_ready()
    }

    /// Waits, sending nothing, for the server to end the session with an error.
    pub fn wait_for_error(&mut self) -> WireError {
        match self.until_ready() {
            Ok(_) => WireError { code: None, message: "the server sent ReadyForQuery, not an error".into() },
            Err(e) => e,
        }
    }

    /// Says goodbye (`X`) and closes.
    pub fn close(mut self) {
        let _ = self.stream.write_all(&[b'X', 0, 0, 0, 4]);
    }

    /// Reads messages until ReadyForQuery; counts DataRows, fails on an ErrorResponse.
    fn until_ready(&mut self) -> Result<usize, WireError> {
        let mut rows = 0;
        let mut error = None;
        loop {
            let mut head = [0u8; 5];
            if let Err(e) = self.stream.read_exact(&mut head) {
                // A FATAL error is followed by the server closing the socket.
                return Err(error.unwrap_or_else(|| io(e)));
            }
            let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
            let mut body = vec![0u8; len.saturating_sub(4)];
            self.stream.read_exact(&mut body).map_err(io)?;
            match head[0] {
                b'D' => rows += 1,
                b'E' => error = Some(error_fields(&body)),
                b'Z' => return error.map_or(Ok(rows), Err),
                b'R' if body.get(..4) != Some(&[0, 0, 0, 0]) => {
                    return Err(WireError { code: None, message: "the server asks for a password".into() });
                }
                _ => {}
            }
        }
    }
}

fn io(e: std::io::Error) -> WireError {
    WireError { code: None, message: e.to_string() }
}

/// The SQLSTATE (`C`) and message (`M`) fields of an ErrorResponse body.
fn error_fields(body: &[u8]) -> WireError {
    let mut code = None;
    let mut message = String::new();
    for field in body.split(|b| *b == 0) {
        match field.first() {
            Some(b'C') => code = Some(String::from_utf8_lossy(&field[1..]).to_string()),
            Some(b'M') => message = String::from_utf8_lossy(&field[1..]).to_string(),
            _ => {}
        }
    }
    WireError { code, message }
}

/// Figures of one soak.
#[derive(Debug, Default, Clone)]
pub struct SoakFigures {
    /// RSS after the warm-up, MiB.
    pub warm_mib: f64,
    /// RSS after the short connections, MiB.
    pub after_churn_mib: f64,
    /// RSS after the busy connections, MiB.
    pub after_busy_mib: f64,
    /// Short connections made.
    pub connections: usize,
    /// Queries run by the busy connections.
    pub busy_queries: usize,
    /// Connections or queries that failed.
    pub errors: usize,
    /// Mean time from connect to the first `SELECT 1` answered, ms.
    pub connect_ms: f64,
}

impl SoakFigures {
    /// Growth after the warm-up, MiB.
    pub fn growth_mib(&self) -> f64 {
        self.after_churn_mib.max(self.after_busy_mib) - self.warm_mib
    }
}

/// How long the busy phase runs.
#[derive(Debug, Clone, Copy)]
pub enum Busy {
    /// This many queries per connection.
    Queries(usize),
    /// Until this much time has passed.
    For(Duration),
}

/// The queries a busy connection cycles through: a constant, a scan of demo
/// data, and the catalog queries BI tools send.
pub const BUSY_QUERIES: [&str; 4] = [
    "SELECT 1",
    "SELECT count(*) FROM customers",
    "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'stripe'",
    "SELECT status, count(*) FROM charges GROUP BY 1",
];

/// Runs the soak: `warmup` short connections, then `connections` short ones
/// (`parallel` at a time, one `SELECT 1` each), then `busy_connections` busy
/// ones for `busy`.
pub fn soak(
    server: &Server,
    warmup: usize,
    connections: usize,
    parallel: usize,
    busy_connections: usize,
    busy: Busy,
) -> SoakFigures {
    let errors = AtomicUsize::new(0);
    let mut figures = SoakFigures::default();
    churn(server.addr, warmup, parallel, &errors);
    for _ in 0..busy_connections {
        let mut c = Conn::open(server.addr).expect("warm-up connection");
        for q in BUSY_QUERIES {
            c.query(q).expect("warm-up query");
        }
        c.close();
    }
    settle();
    figures.warm_mib = server.rss_mib();
    figures.connect_ms = churn(server.addr, connections, parallel, &errors);
    figures.connections = connections;
    settle();
    figures.after_churn_mib = server.rss_mib();
    let queries = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..busy_connections {
            s.spawn(|| {
                let started = Instant::now();
                let Ok(mut c) = Conn::open(server.addr) else {
                    errors.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                for (i, q) in BUSY_QUERIES.iter().cycle().enumerate() {
                    let done = match busy {
                        Busy::Queries(n) => i >= n,
                        Busy::For(d) => started.elapsed() >= d,
                    };
                    if done {
                        break;
                    }
                    if c.query(q).is_err() {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                    queries.fetch_add(1, Ordering::Relaxed);
                }
                c.close();
            });
        }
    });
    settle();
    figures.after_busy_mib = server.rss_mib();
    figures.busy_queries = queries.load(Ordering::Relaxed);
    figures.errors = errors.load(Ordering::Relaxed);
    figures
}

/// Opens `n` connections, `parallel` at a time, each answering one `SELECT 1`
/// and closing; returns the mean connect-to-first-answer time in ms.
pub fn churn(addr: SocketAddr, n: usize, parallel: usize, errors: &AtomicUsize) -> f64 {
    let next = AtomicUsize::new(0);
    let total_us = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..parallel.max(1) {
            s.spawn(|| {
                while next.fetch_add(1, Ordering::Relaxed) < n {
                    let started = Instant::now();
                    match Conn::open(addr).and_then(|mut c| c.query("SELECT 1").map(|_| c)) {
                        Ok(c) => {
                            total_us.fetch_add(started.elapsed().as_micros() as usize, Ordering::Relaxed);
                            c.close();
                        }
                        Err(_) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            });
        }
    });
    if n == 0 { 0.0 } else { total_us.load(Ordering::Relaxed) as f64 / n as f64 / 1000.0 }
}

/// Lets the server finish tearing down the sessions of closed connections
/// before its memory is read (the reads are of a process, not of a clock).
fn settle() {
    std::thread::sleep(Duration::from_millis(500));
}

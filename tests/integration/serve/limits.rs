//! `stripe-sql serve` as a server that runs for months: memory stays flat
//! under connection churn, `--max-connections`, `--idle-timeout`,
//! `--memory-limit`, SCRAM passwords, and a request log per connection.
//! Each test starts the real binary on 127.0.0.1:0.

#[path = "../../../benches/support/soak.rs"]
pub(super) mod soak;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use crate::serve::support::{BIN, psql};

fn server(extra: &[&str]) -> soak::Server {
    soak::Server::start(Path::new(BIN), extra)
}

#[test]
fn memory_stays_flat_under_connection_churn_and_busy_sessions() {
    let server = server(&[]);
    let f = soak::soak(&server, 30, 300, 20, 8, soak::Busy::Queries(40));
    eprintln!("soak (test size): {f:?}");
    assert_eq!(f.errors, 0, "{f:?}");
    assert!(f.busy_queries >= 8 * 40, "{f:?}");
    // Before the fix each connection kept ~6.6 MB: 300 connections grew the
    // server by ~2 GB. The bound is generous for allocator noise.
    assert!(f.growth_mib() < 150.0, "the server grew {:.1} MiB after warm-up: {f:?}", f.growth_mib());
}

#[test]
fn the_client_past_max_connections_is_refused_with_53300() {
    let server = server(&["--max-connections", "2"]);
    let first = soak::Conn::open(server.addr).expect("first session");
    let mut second = soak::Conn::open(server.addr).expect("second session");
    let refused = soak::Conn::open(server.addr).err().expect("a third session is refused");
    assert_eq!(refused.code.as_deref(), Some("53300"), "{refused:?}");
    assert!(refused.message.contains("too many clients"), "{refused:?}");
    let out = psql(server.addr, None, &["select 1"]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("too many clients"), "psql shows the reason: {}", out.stderr);
    assert_eq!(second.query("SELECT 1").expect("open sessions keep working"), 1);
    first.close();
    // The freed slot is taken by the next client (the server notices the close asynchronously).
    let mut third = (0..200)
        .find_map(|_| {
            soak::Conn::open(server.addr).ok().or_else(|| {
                std::thread::yield_now();
                None
            })
        })
        .expect("a slot frees when a session closes");
    assert_eq!(third.query("SELECT 1").unwrap(), 1);
}

#[test]
fn an_idle_session_is_closed_with_57p05() {
    let server = server(&["--idle-timeout", "300ms"]);
    let mut idle = soak::Conn::open(server.addr).expect("session");
    assert_eq!(idle.query("SELECT 1").unwrap(), 1);
    // Waiting on the server's own timer: the next read returns its FATAL.
    let err = idle.wait_for_error();
    assert_eq!(err.code.as_deref(), Some("57P05"), "{err:?}");
    let mut fresh = soak::Conn::open(server.addr).expect("new sessions still open");
    assert_eq!(fresh.query("SELECT 1").unwrap(), 1);
}

#[test]
fn a_query_past_the_memory_limit_fails_alone_with_53200() {
    let server = server(&["--memory-limit", "16MB"]);
    let mut c = soak::Conn::open(server.addr).expect("session");
    let mut other = soak::Conn::open(server.addr).expect("another session");
    let err = c
        .query("CREATE TABLE big AS SELECT v, v * 2 AS w FROM generate_series(1, 3000000) AS s(v)")
        .expect_err("a 48 MB table does not fit in 16 MB");
    assert_eq!(err.code.as_deref(), Some("53200"), "{err:?}");
    assert_eq!(c.query("SELECT 1").expect("the session survives"), 1);
    assert_eq!(other.query("SELECT count(*) FROM customers").expect("other sessions are untouched"), 1);
    c.query("CREATE TABLE small AS SELECT v FROM generate_series(1, 1000) AS s(v)").expect("a small table fits");
    assert_eq!(c.query("SELECT v FROM small WHERE v <= 10").unwrap(), 10);
    let out = std::process::Command::new(BIN).args(["serve", "--demo", "--memory-limit", "lots"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--memory-limit"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The authentication request a server sends after a startup message.
fn auth_request(addr: std::net::SocketAddr) -> (u32, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut body = 196_608u32.to_be_bytes().to_vec();
    body.extend_from_slice(b"user\0stripe\0\0");
    let mut msg = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    msg.extend_from_slice(&body);
    s.write_all(&msg).unwrap();
    let mut head = [0u8; 5];
    s.read_exact(&mut head).unwrap();
    assert_eq!(head[0], b'R', "an authentication request");
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    let mut rest = vec![0u8; len - 4];
    s.read_exact(&mut rest).unwrap();
    let kind = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
    (kind, String::from_utf8_lossy(&rest[4..]).to_string())
}

#[test]
fn passwords_use_scram_sha_256_unless_md5_is_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("password");
    std::fs::write(&pw, "correct horse\n").unwrap();
    let scram = server(&["--password-file", pw.to_str().unwrap()]);
    let (kind, mechanisms) = auth_request(scram.addr);
    assert_eq!(kind, 10, "AuthenticationSASL");
    assert!(mechanisms.contains("SCRAM-SHA-256"), "{mechanisms:?}");
    assert!(psql(scram.addr, Some("correct horse"), &["select 1"]).ok().stdout.contains('1'));
    assert_ne!(psql(scram.addr, Some("wrong"), &["select 1"]).code, 0);

    let md5 = server(&["--password-file", pw.to_str().unwrap(), "--password-auth", "md5"]);
    assert_eq!(auth_request(md5.addr).0, 5, "AuthenticationMD5Password");
    assert!(psql(md5.addr, Some("correct horse"), &["select 1"]).ok().stdout.contains('1'));
}

#[test]
fn each_connection_has_its_own_request_log() {
    let server = server(&[]);
    let mut a = soak::Conn::open(server.addr).unwrap();
    let mut b = soak::Conn::open(server.addr).unwrap();
    a.query("SELECT id FROM customers LIMIT 3").unwrap();
    assert!(a.query("SELECT * FROM stripe_request_log()").unwrap() >= 1, "a sees its own calls");
    assert_eq!(b.query("SELECT * FROM stripe_request_log()").unwrap(), 0, "b sees none of a's calls");
    assert!(a.query("SELECT * FROM stripe_request_log_status() WHERE kept >= 1 AND dropped = 0").unwrap() == 1);
}

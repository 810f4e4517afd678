//! The fixed startup and metadata queries of BI tools we cannot run here,
//! taken from their public sources (tests/clients/bi/*.sql name each one's
//! origin) and replayed through psql: Npgsql (Power BI) loading its types
//! from pg_type/pg_range/pg_enum in one batch and resetting with DISCARD ALL,
//! DBeaver, Metabase, Grafana and the ADBC PostgreSQL driver. Every one is
//! answered without error.

use std::process::{Command, Stdio};

use super::support::{clients_dir, require, serve};

/// Runs psql with `args` against `port` (no ON_ERROR_STOP: every statement runs).
fn psql(port: u16, args: &[&str]) -> (String, String) {
    let out = Command::new(require("psql"))
        .args(["-X", "-A", "-h", "127.0.0.1", "-p", &port.to_string(), "-U", "stripe", "-d", "stripe"])
        .args(args)
        .env_remove("PGPASSWORD")
        .env("PGSSLMODE", "disable")
        .env("PGCONNECT_TIMEOUT", "20")
        .stdin(Stdio::null())
        .output()
        .expect("run psql");
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn bi_tools_startup_and_metadata_queries_are_all_answered() {
    let server = serve(&[], &[]);
    let port = server.addr.port();
    let dir = clients_dir().join("bi");
    for tool in ["dbeaver", "metabase", "grafana", "adbc_postgresql", "npgsql_reset"] {
        let file = dir.join(format!("{tool}.sql"));
        let (stdout, stderr) = psql(port, &["-f", file.to_str().unwrap()]);
        assert!(!stderr.contains("ERROR"), "{tool}: {stderr}");
        assert!(!stdout.is_empty(), "{tool} got answers");
    }
    // Npgsql sends its four type queries as one simple-protocol batch.
    let batch = std::fs::read_to_string(dir.join("npgsql.sql")).unwrap();
    let (stdout, stderr) = psql(port, &["-c", &batch]);
    assert!(!stderr.contains("ERROR"), "npgsql: {stderr}");
    assert!(stdout.contains("PostgreSQL 16"), "{stdout}");
    // Every type our columns are sent as is among the base types it loads.
    for (oid, name) in [(16, "bool"), (20, "int8"), (25, "text"), (114, "json"), (701, "float8"), (1184, "timestamptz")]
    {
        assert!(stdout.contains(&format!("pg_catalog|{oid}|{name}|b|")), "npgsql lacks {name}: {stdout}");
    }
}

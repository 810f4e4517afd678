//! The fixed startup and metadata queries of BI tools we cannot run here,
//! taken from their public sources (tests/clients/bi/*.sql name each one's
//! origin) and replayed through psql: Npgsql (Power BI) loading its types
//! from pg_type/pg_range/pg_enum in one batch and resetting with DISCARD ALL,
//! DataGrip, DBeaver, Metabase, Grafana and the ADBC PostgreSQL driver;
//! those of the tools that connect through pgJDBC (DataGrip, DBeaver,
//! Metabase) also through pgJDBC itself. Every one is answered without
//! error, and every column type a result is sent with is the one
//! `pg_attribute` lists and `pg_type` has.

use std::process::{Command, Stdio};

use super::support::{clients_dir, java, python, require, serve};

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
    for tool in ["datagrip", "dbeaver", "metabase", "grafana", "adbc_postgresql", "npgsql_reset"] {
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

#[test]
fn pgjdbc_tools_queries_replayed_through_pgjdbc_are_all_answered() {
    let server = serve(&[], &[]);
    let port = server.addr.port().to_string();
    let dir = clients_dir().join("bi");
    let tools = ["datagrip", "dbeaver", "metabase"];
    let files: Vec<String> = tools.iter().map(|t| dir.join(format!("{t}.sql")).display().to_string()).collect();
    let mut args = vec![port.as_str()];
    args.extend(files.iter().map(String::as_str));
    let out = java("JdbcReplay.java", &args);
    assert_eq!(out.code, 0, "every statement is answered:\n{}\n{}", out.stdout, out.stderr);
    for tool in tools {
        let answered =
            out.stdout.lines().filter(|l| l.starts_with("ok ") && l.ends_with(&format!(" {tool}.sql"))).count();
        assert!(answered >= 5, "{tool}: {answered} statements answered:\n{}", out.stdout);
    }
}

#[test]
fn every_result_column_type_is_the_one_pg_attribute_lists() {
    let server = serve(&[], &[]);
    let out = python("pg_python.py", &[&server.addr.port().to_string(), "types"]).ok();
    let v: serde_json::Value =
        serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", out.stdout));
    assert!(v["checked"].as_u64().unwrap_or(0) > 50, "{v}");
    assert_eq!(v["mismatches"], serde_json::json!({}), "[sent OID, pg_attribute's OID] per column: {v}");
}

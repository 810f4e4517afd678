//! The workspace's crates are its layers (DESIGN.md §2), checked on the
//! resolved dependency graph (`cargo tree`, normal dependencies, default
//! features): the crates below the engine know no DataFusion, the engine knows
//! no front end, and no crate depends on one above it. Inside the engine, its
//! modules are layers too (checked on their `crate::` references).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

/// The workspace's crates, lowest first; a crate may depend only on crates
/// listed before it (and not on every one of them: see `ALLOWED`).
const LAYERS: &[&str] = &["stripe-client", "stripe-catalog", "stripe-emulator", "stripe-sql-engine", "stripe-sql"];

/// Which workspace crates each crate may use.
const ALLOWED: &[(&str, &[&str])] = &[
    ("stripe-client", &[]),
    ("stripe-catalog", &[]),
    // The emulator is independent of the catalog and the client: it is a fake
    // Stripe, not a reading of our catalog, so it can catch the catalog's mistakes.
    ("stripe-emulator", &[]),
    ("stripe-sql-engine", &["stripe-client", "stripe-catalog", "stripe-emulator"]),
    ("stripe-sql", &["stripe-client", "stripe-catalog", "stripe-emulator", "stripe-sql-engine"]),
];

/// Front-end crates the engine must not pull in.
const FRONT_ENDS: &[&str] = &["rustyline", "clap", "pgwire", "axum", "datafusion-postgres", "arrow-flight", "tonic"];

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

/// The names of every crate `package` depends on (normal dependencies, with
/// `features`), transitively.
fn dependencies(package: &str, features: &[&str]) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(workspace_root()).args([
        "tree",
        "--locked",
        "--offline",
        "-e",
        "normal",
        "--prefix",
        "none",
        "--format",
        "{lib}",
        "-p",
        package,
    ]);
    if !features.is_empty() {
        command.args(["--features", &features.join(",")]);
    }
    let out = command.output().expect("run cargo tree");
    assert!(out.status.success(), "cargo tree -p {package}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    // The first line is the package itself.
    text.lines()
        .skip(1)
        .map(|l| l.trim_end_matches(" (*)").trim().replace('_', "-"))
        .filter(|l| !l.is_empty())
        .collect()
}

/// The workspace package whose library `cargo tree` printed as `lib` (two
/// libraries are named otherwise than their packages); `None` outside the workspace.
fn layer_of(lib: &str) -> Option<&'static str> {
    let package = match lib {
        "stripe-sql" => "stripe-sql-engine",
        "stripe-sql-app" => "stripe-sql",
        other => other,
    };
    LAYERS.iter().copied().find(|p| *p == package)
}

#[test]
fn the_crates_below_the_engine_know_no_datafusion() {
    for package in ["stripe-client", "stripe-catalog", "stripe-emulator"] {
        let deps = dependencies(package, &[]);
        let engines: Vec<_> = deps.iter().filter(|d| d.starts_with("datafusion") || d.starts_with("arrow")).collect();
        assert!(engines.is_empty(), "{package} depends on {engines:?}");
    }
}

#[test]
fn the_engine_knows_no_front_end() {
    let deps = dependencies("stripe-sql-engine", &[]);
    let front: Vec<_> = FRONT_ENDS.iter().filter(|f| deps.contains(**f)).collect();
    assert!(front.is_empty(), "the engine depends on {front:?}");
    assert!(deps.contains("datafusion"), "the check reads the engine's real tree: {deps:?}");
}

#[test]
fn no_crate_depends_on_a_crate_above_it() {
    for (package, allowed) in ALLOWED {
        let features: &[&str] = if *package == "stripe-sql-engine" { &["demo"] } else { &[] };
        let used: BTreeSet<&str> = dependencies(package, features).iter().filter_map(|d| layer_of(d)).collect();
        let above: Vec<_> = used.iter().filter(|d| !allowed.contains(d)).collect();
        assert!(above.is_empty(), "{package} depends on {above:?}, which it may not");
    }
    // The check sees the workspace's own edges (it would pass vacuously otherwise).
    let app = dependencies("stripe-sql", &[]);
    assert!(app.iter().any(|d| layer_of(d) == Some("stripe-sql-engine")), "{app:?}");
}

/// The engine's modules, lowest first (the engine's `lib.rs` says why): a
/// module's code refers only to modules before it. Unit tests may reach up.
const ENGINE_MODULES: &[&str] = &[
    "error", "settings", "time", "catalog", "decode", "pushdown", "mirror", "provider", "dml", "actions", "engine",
    "watch", "sync", "embedded",
];

/// Every `crate::module` reference in the engine's non-test code that points
/// to a module above the referring one, as `(file, module, line)`.
fn upward_references() -> Vec<(String, String, String)> {
    let src = workspace_root().join("crates/engine/src");
    let rank = |m: &str| ENGINE_MODULES.iter().position(|x| *x == m);
    let mut found = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read the engine's sources") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "tests") {
                    dirs.push(path);
                }
                continue;
            }
            let relative = path.strip_prefix(&src).expect("inside src").to_string_lossy().into_owned();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if !name.ends_with(".rs") || name == "lib.rs" || name == "tests.rs" || name.ends_with("_tests.rs") {
                continue;
            }
            let own = relative.split('/').next().unwrap_or_default().trim_end_matches(".rs").to_string();
            let Some(own_rank) = rank(&own) else { panic!("{relative}: module {own} is not in ENGINE_MODULES") };
            let text = std::fs::read_to_string(&path).expect("read a source file");
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (at, _) in line.match_indices("crate::") {
                    let module: String =
                        line[at + 7..].chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                    if rank(&module).is_some_and(|r| r > own_rank) {
                        found.push((relative.clone(), module, line.trim().to_string()));
                    }
                }
            }
        }
    }
    found
}

#[test]
fn engine_modules_lean_only_on_modules_below_them() {
    let upward = upward_references();
    assert!(upward.is_empty(), "references up the engine's layers: {upward:#?}");
}

//! Project tasks. `cargo run -p xtask -- gen-catalog [SPEC] [OUT]` regenerates
//! `crates/catalog/src/catalog.json` from the Stripe OpenAPI spec (default
//! `../shared/stripe-openapi/spec3.json` beside the repository) and
//! `xtask/overrides.toml`. Its test checks the committed catalog is what the
//! generator makes; it fails when the spec is missing unless
//! `STRIPE_SQL_SKIP_SPEC_CHECK=1` says to skip.

mod generate;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use generate::{OVERRIDES_TOML, generate, to_json};

/// The repository's root (this crate lives in `xtask/`).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the repository").to_path_buf()
}

/// Where the spec is looked for by default: `$STRIPE_SQL_SHARED`, then
/// `shared/` beside the repository, then `/work/shared` (where the project's
/// machines keep it); the first that exists, else the one beside the repository.
fn default_spec() -> PathBuf {
    let beside = repo_root().join("../shared");
    let mut dirs: Vec<PathBuf> = std::env::var_os("STRIPE_SQL_SHARED").map(PathBuf::from).into_iter().collect();
    dirs.extend([beside.clone(), PathBuf::from("/work/shared")]);
    let spec_in = |d: &PathBuf| d.join("stripe-openapi/spec3.json");
    dirs.iter().map(spec_in).find(|p| p.exists()).unwrap_or_else(|| spec_in(&beside))
}

/// The committed catalog file.
fn catalog_file() -> PathBuf {
    repo_root().join("crates/catalog/src/catalog.json")
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("gen-catalog") => {}
        other => {
            eprintln!("usage: cargo run -p xtask -- gen-catalog [SPEC] [OUT] (got {other:?})");
            return ExitCode::from(2);
        }
    }
    let spec_path = args.next().map(PathBuf::from).unwrap_or_else(default_spec);
    let out_path = args.next().map(PathBuf::from).unwrap_or_else(catalog_file);
    match run(&spec_path, &out_path) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-catalog: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Reads and parses the spec at `path`.
fn read_spec(path: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("reading spec {} failed: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("parsing spec {} failed: {e}", path.display()))
}

fn run(spec_path: &Path, out_path: &Path) -> Result<String, String> {
    let catalog = generate(&read_spec(spec_path)?, OVERRIDES_TOML)?;
    std::fs::write(out_path, to_json(&catalog)).map_err(|e| format!("writing {} failed: {e}", out_path.display()))?;
    Ok(format!(
        "wrote {}: {} tables, {} actions (api {})",
        out_path.display(),
        catalog.tables.len(),
        catalog.actions.len(),
        catalog.api_version
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_catalog_is_what_the_generator_makes() {
        let path = default_spec();
        if !path.exists() {
            assert!(
                std::env::var("STRIPE_SQL_SKIP_SPEC_CHECK").is_ok_and(|v| v == "1"),
                "the spec is missing at {}: put shared/ beside the repository, or set STRIPE_SQL_SKIP_SPEC_CHECK=1 to skip this check",
                path.display()
            );
            return;
        }
        let generated = to_json(&generate(&read_spec(&path).unwrap(), OVERRIDES_TOML).expect("generator succeeds"));
        if generated != stripe_catalog::CATALOG_JSON {
            let diff = generated.lines().zip(stripe_catalog::CATALOG_JSON.lines()).find(|(a, b)| a != b);
            panic!(
                "the committed catalog.json is stale; run `cargo run -p xtask -- gen-catalog`; first differing line: {diff:?}"
            );
        }
    }
}

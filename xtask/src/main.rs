//! `gen-catalog [SPEC] [OUT]`: regenerates `src/catalog/catalog.json` from the
//! Stripe OpenAPI spec (default `../shared/stripe-openapi/spec3.json`) and
//! `src/catalog/overrides.json`. Built only with `--features generator`.

use std::path::PathBuf;
use std::process::ExitCode;

use stripe_sql::catalog::generate::{OVERRIDES_JSON, generate, to_json};

fn main() -> ExitCode {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut args = std::env::args().skip(1);
    let spec_path = args.next().map(PathBuf::from).unwrap_or_else(|| {
        let beside = root.join("../shared/stripe-openapi/spec3.json");
        if beside.exists() { beside } else { PathBuf::from("/work/shared/stripe-openapi/spec3.json") }
    });
    let out_path = args.next().map(PathBuf::from).unwrap_or_else(|| root.join("src/catalog/catalog.json"));
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

fn run(spec_path: &PathBuf, out_path: &PathBuf) -> Result<String, String> {
    let text = std::fs::read_to_string(spec_path)
        .map_err(|e| format!("reading spec {} failed: {e}", spec_path.display()))?;
    let spec: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("parsing spec {} failed: {e}", spec_path.display()))?;
    let catalog = generate(&spec, OVERRIDES_JSON)?;
    std::fs::write(out_path, to_json(&catalog))
        .map_err(|e| format!("writing {} failed: {e}", out_path.display()))?;
    Ok(format!(
        "wrote {}: {} tables, {} actions (api {})",
        out_path.display(),
        catalog.tables.len(),
        catalog.actions.len(),
        catalog.api_version
    ))
}

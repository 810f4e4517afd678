//! The catalog generator: OpenAPI spec (`spec3.json`) + `overrides.toml` →
//! [`Catalog`], deterministic (tables and actions sorted by name), and its
//! committed text form (`catalog.json`, one table or action per line).
//!
//! Operations are classified by shape (the spec has no `x-stripeOperations`):
//! a GET returning `object: list` is a table; GET/POST/DELETE on `{list}/{id}`
//! are retrieve/update/delete; POST on the list path is create; POST on
//! `/{id}/verb` is an action. Only the binary `gen-catalog` and the
//! regeneration test run this; normal builds read the committed JSON.

mod actions;
mod columns;
mod filters;
mod naming;
mod overrides;
mod params;
mod spec;
mod tables;

pub use overrides::{OVERRIDES_TOML, Overrides};

use serde_json::Value;

use stripe_catalog::model::Catalog;

/// Builds the catalog from a parsed spec and the overrides text.
pub fn generate(spec_json: &Value, overrides_text: &str) -> Result<Catalog, String> {
    let overrides = Overrides::parse(overrides_text)?;
    let spec = spec::Spec::new(spec_json);
    let mut tables = tables::list_endpoints(&spec, &overrides)
        .iter()
        .map(|list| tables::build_table(&spec, &overrides, list))
        .collect::<Result<Vec<_>, String>>()?;
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(w) = tables.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(format!(
            "two list endpoints map to table {}: {} and {}",
            w[0].name, w[0].list_path, w[1].list_path
        ));
    }
    for name in overrides.search.keys().chain(overrides.promoted_columns.keys()).chain(overrides.delete_hints.keys()) {
        if !tables.iter().any(|t| &t.name == name) {
            return Err(format!("overrides name table {name}, which the spec does not produce"));
        }
    }
    let actions = actions::build_actions(&spec, &overrides, &tables)?;
    Ok(Catalog { api_version: spec.api_version(), tables, actions })
}

/// The committed text form: valid JSON with one table or action per line, so
/// a regenerated catalog diffs line by line.
pub fn to_json(catalog: &Catalog) -> String {
    fn lines<T: serde::Serialize>(items: &[T]) -> String {
        items
            .iter()
            .map(|i| serde_json::to_string(i).expect("catalog types always serialise"))
            .collect::<Vec<_>>()
            .join(",\n")
    }
    format!(
        "{{\"api_version\":{},\n\"tables\":[\n{}\n],\n\"actions\":[\n{}\n]}}\n",
        Value::String(catalog.api_version.clone()),
        lines(&catalog.tables),
        lines(&catalog.actions)
    )
}

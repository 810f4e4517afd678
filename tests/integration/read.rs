//! Read-path acceptance tests through the engine: randomized
//! predicates against a locally filtered full scan, hostile values that must
//! not change the endpoint, and streaming of multi-page scans.

mod hostile;
mod order;
mod plans;
mod props;
mod stream;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use stripe_sql::catalog::TableDef;

/// The first column of `batches` as strings (NULL becomes "NULL").
pub fn first_column(batches: &[RecordBatch]) -> Vec<String> {
    let mut out = Vec::new();
    for batch in batches {
        let column = cast(batch.column(0), &DataType::Utf8).expect("column casts to text");
        let strings = column.as_string::<i32>();
        for i in 0..strings.len() {
            out.push(if strings.is_null(i) { "NULL".to_string() } else { strings.value(i).to_string() });
        }
    }
    out
}

/// A string as a SQL literal (quotes doubled).
pub fn sql_str(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Whether `path` is an instance of `template`, each `{param}` segment being a
/// plausible Stripe id (`[A-Za-z0-9_]+`). Returns the filled-in values.
pub fn match_template(template: &str, path: &str) -> Option<Vec<String>> {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    if t.len() != p.len() {
        return None;
    }
    let mut filled = Vec::new();
    for (ts, ps) in t.iter().zip(&p) {
        if ts.starts_with('{') && ts.ends_with('}') {
            if ps.is_empty() || !ps.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return None;
            }
            filled.push(ps.to_string());
        } else if ts != ps {
            return None;
        }
    }
    Some(filled)
}

/// Every path `def` may legitimately call: list, search and retrieve templates.
pub fn templates(def: &TableDef) -> Vec<String> {
    let mut out = vec![def.list_path.clone()];
    if let Some(search) = &def.search {
        out.push(search.path.clone());
    }
    if let Some(retrieve) = &def.retrieve_path {
        out.push(retrieve.clone());
    }
    out
}

//! What the describing meta-commands show: `\?` help, and `\dt`, `\d TABLE`,
//! `\df` as small Arrow batches, so they print in the current output format.

use std::io::{self, Write};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;

use stripe_sql::catalog::nearest::edit_distance;

use super::backend::{ColumnInfo, FunctionInfo, TableInfo};
use super::meta::COMMANDS;

/// Writes the `\?` help text.
pub fn help(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "Statements end with `;` and may span lines. Meta-commands:")?;
    let width = COMMANDS.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (name, text) in COMMANDS {
        writeln!(out, "  {name:<width$}  {text}")?;
    }
    writeln!(out, "Ctrl-C cancels a running statement; Ctrl-D or \\q quits.")
}

/// `\dt`: one row per table with its pushdown hint.
pub fn tables_batch(tables: &[TableInfo]) -> RecordBatch {
    text_batch(&[
        ("table", tables.iter().map(|t| t.name.as_str()).collect()),
        ("pushdown", tables.iter().map(|t| t.hint.as_str()).collect()),
    ])
}

/// `\d TABLE`: one row per column (SQL type first, the Arrow type last).
pub fn columns_batch(columns: &[ColumnInfo]) -> RecordBatch {
    text_batch(&[
        ("column", columns.iter().map(|c| c.name.as_str()).collect()),
        ("type", columns.iter().map(|c| c.data_type.as_str()).collect()),
        ("pushdown", columns.iter().map(|c| c.pushdown.as_str()).collect()),
        ("writable", columns.iter().map(|c| c.writable.as_str()).collect()),
        ("arrow_type", columns.iter().map(|c| c.arrow_type.as_str()).collect()),
    ])
}

/// `\df`: one row per function or action.
pub fn functions_batch(functions: &[FunctionInfo]) -> RecordBatch {
    text_batch(&[
        ("function", functions.iter().map(|f| f.name.as_str()).collect()),
        ("arguments", functions.iter().map(|f| f.arguments.as_str()).collect()),
        ("description", functions.iter().map(|f| f.description.as_str()).collect()),
    ])
}

/// The error for `\d` on a table that does not exist, with the nearest names.
pub fn unknown_table(name: &str, tables: &[TableInfo]) -> String {
    let near = nearest_tables(name, tables);
    if near.is_empty() {
        format!("could not describe `{name}`: no such table; \\dt lists the tables")
    } else {
        format!("could not describe `{name}`: no such table; did you mean {}?", near.join(", "))
    }
}

/// Up to three table names close to `name` (edit distance, or containing it), nearest first.
pub fn nearest_tables<'a>(name: &str, tables: &'a [TableInfo]) -> Vec<&'a str> {
    let name = name.to_lowercase();
    let mut scored: Vec<(usize, &str)> =
        tables.iter().map(|t| (edit_distance(&name, &t.name), t.name.as_str())).collect();
    scored.sort();
    let best = scored.first().map_or(0, |(d, _)| *d);
    // Close in edit distance (and nearly as close as the best), or containing what was typed.
    let close = |d: usize, n: &str| (d <= (n.len() / 2).max(2) && d <= best + 1) || n.contains(name.as_str());
    scored.iter().filter(|(d, n)| close(*d, n)).take(3).map(|(_, n)| *n).collect()
}

fn text_batch(columns: &[(&str, Vec<&str>)]) -> RecordBatch {
    let schema = Schema::new(columns.iter().map(|(n, _)| Field::new(*n, DataType::Utf8, false)).collect::<Vec<_>>());
    let arrays: Vec<ArrayRef> =
        columns.iter().map(|(_, v)| Arc::new(StringArray::from(v.clone())) as ArrayRef).collect();
    RecordBatch::try_new(Arc::new(schema), arrays).expect("columns of equal length")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str) -> TableInfo {
        TableInfo { name: name.into(), hint: String::new() }
    }

    #[test]
    fn unknown_table_suggests_nearest_names() {
        let tables = [table("customers"), table("charges"), table("invoices")];
        assert_eq!(
            unknown_table("custmers", &tables),
            "could not describe `custmers`: no such table; did you mean customers?"
        );
        assert!(unknown_table("zzzzzzzzzz", &tables).contains("\\dt lists the tables"));
    }
}

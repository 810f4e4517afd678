//! Writing query results in the output formats of the REPL and the command
//! line: aligned table (optionally expanded), CSV, JSON, NDJSON and Markdown.
//! Every format formats cells through `cell`, so values read the same way
//! everywhere (UTC ISO timestamps, JSON for nested values).

mod cell;
mod delimited;
mod json;
mod table;

use std::io::Write;
use std::str::FromStr;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::record_batch::RecordBatch;

pub use cell::Style;

/// An output format (`--format`, `\format`, `format = ".."` in the config file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// Aligned columns with a `(N rows)` footer.
    #[default]
    Table,
    /// RFC 4180 CSV with a header row.
    Csv,
    /// One JSON array of objects per result.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// A GitHub-flavoured Markdown table.
    #[value(alias = "md")]
    #[serde(alias = "md")]
    Markdown,
}

impl OutputFormat {
    /// Every format, in help order.
    pub const ALL: [OutputFormat; 5] = [Self::Table, Self::Csv, Self::Json, Self::Ndjson, Self::Markdown];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Table => "table",
            Self::Csv => "csv",
            Self::Json => "json",
            Self::Ndjson => "ndjson",
            Self::Markdown => "markdown",
        }
    }
}

impl FromStr for OutputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s) || (s.eq_ignore_ascii_case("md") && *f == Self::Markdown))
            .ok_or_else(|| format!("unknown output format `{s}`; expected one of: table, csv, json, ndjson, markdown"))
    }
}

impl std::fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Layout options that only some formats use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatOptions {
    /// Table format: total line width to fit (the terminal width); `None` never truncates.
    pub max_width: Option<usize>,
    /// Table format: one line per column per row (`\x`).
    pub expanded: bool,
    /// Table format: longest shown JSON-like cell (nested value or text starting with `{`/`[`).
    pub max_json_cell: usize,
}

impl Default for FormatOptions {
    fn default() -> Self {
        Self { max_width: None, expanded: false, max_json_cell: 60 }
    }
}

/// Writes one result (all `batches` share a schema) to `out` in `fmt`.
/// A result without columns (DDL, `SET`) prints nothing.
pub fn write_batches(
    out: &mut dyn Write,
    batches: &[RecordBatch],
    fmt: OutputFormat,
    opts: &FormatOptions,
) -> crate::Result<()> {
    let Some(first) = batches.first() else {
        return Ok(());
    };
    if first.num_columns() == 0 {
        return Ok(());
    }
    match fmt {
        OutputFormat::Table if opts.expanded => table::write_expanded(out, &grid(batches, Style::Display), opts)?,
        OutputFormat::Table => table::write_table(out, &grid(batches, Style::Display), opts)?,
        OutputFormat::Markdown => delimited::write_markdown(out, &grid(batches, Style::Display))?,
        OutputFormat::Csv => delimited::write_csv(out, &grid(batches, Style::Iso))?,
        OutputFormat::Json => json::write_json(out, batches)?,
        OutputFormat::Ndjson => json::write_ndjson(out, batches)?,
    }
    Ok(())
}

/// A result as text cells, the common input of the text formats.
pub(crate) struct Grid {
    /// Column names.
    pub headers: Vec<String>,
    /// Which columns are numeric (right-aligned).
    pub numeric: Vec<bool>,
    /// Which columns hold nested values (shown as JSON).
    pub nested: Vec<bool>,
    /// Rows of cells; `None` is NULL.
    pub rows: Vec<Vec<Option<String>>>,
}

fn grid(batches: &[RecordBatch], style: Style) -> Grid {
    let schema = batches[0].schema();
    let headers = schema.fields().iter().map(|f| f.name().clone()).collect();
    let numeric = schema.fields().iter().map(|f| cell::is_numeric(f.data_type())).collect();
    let nested = schema.fields().iter().map(|f| f.data_type().is_nested()).collect();
    let mut rows = Vec::with_capacity(batches.iter().map(|b| b.num_rows()).sum());
    for batch in batches {
        let columns: Vec<ArrayRef> = batch.columns().iter().map(cell::normalize).collect();
        for row in 0..batch.num_rows() {
            rows.push(columns.iter().map(|c| cell::text(c.as_ref(), row, style)).collect());
        }
    }
    Grid { headers, numeric, nested, rows }
}

/// The row-count footer of the table format: `(1 row)`, `(N rows)`.
pub fn row_count_footer(n: usize) -> String {
    if n == 1 { "(1 row)".to_string() } else { format!("({n} rows)") }
}

#[cfg(test)]
mod tests;

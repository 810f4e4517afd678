//! Row-per-line text formats: CSV (RFC 4180 quoting, NULL empty, empty text
//! `""`) and GitHub-flavoured Markdown tables.

use std::io::{self, Write};

use unicode_width::UnicodeWidthStr;

use super::Grid;

/// Writes a header row then one line per row.
pub fn write_csv(out: &mut dyn Write, grid: &Grid) -> io::Result<()> {
    let header: Vec<String> = grid.headers.iter().map(|h| csv_field(h, true)).collect();
    writeln!(out, "{}", header.join(","))?;
    for row in &grid.rows {
        let fields: Vec<String> =
            row.iter().map(|c| c.as_deref().map_or(String::new(), |v| csv_field(v, false))).collect();
        writeln!(out, "{}", fields.join(","))?;
    }
    Ok(())
}

fn csv_field(v: &str, header: bool) -> String {
    // An empty string is quoted so it differs from NULL (an empty field).
    let needs_quotes = (v.is_empty() && !header) || v.contains([',', '"', '\n', '\r']);
    if needs_quotes { format!("\"{}\"", v.replace('"', "\"\"")) } else { v.to_string() }
}

/// Writes a Markdown table with padded columns; numeric columns right-aligned.
pub fn write_markdown(out: &mut dyn Write, grid: &Grid) -> io::Result<()> {
    let cells: Vec<Vec<String>> = grid
        .rows
        .iter()
        .map(|r| r.iter().map(|c| c.as_deref().map_or("NULL".to_string(), md_cell)).collect())
        .collect();
    let headers: Vec<String> = grid.headers.iter().map(|h| md_cell(h)).collect();
    let widths: Vec<usize> = (0..headers.len())
        .map(|i| cells.iter().map(|r| r[i].width()).chain([headers[i].width(), 3]).max().unwrap_or(3))
        .collect();
    let line = |values: &[String], align: bool| {
        let parts: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let fill = " ".repeat(widths[i] - v.width());
                if align && grid.numeric[i] { format!("{fill}{v}") } else { format!("{v}{fill}") }
            })
            .collect();
        format!("| {} |", parts.join(" | "))
    };
    writeln!(out, "{}", line(&headers, false))?;
    let rule: Vec<String> = widths
        .iter()
        .enumerate()
        .map(|(i, &w)| if grid.numeric[i] { format!("{}:", "-".repeat(w - 1)) } else { "-".repeat(w) })
        .collect();
    writeln!(out, "| {} |", rule.join(" | "))?;
    for row in &cells {
        writeln!(out, "{}", line(row, true))?;
    }
    Ok(())
}

fn md_cell(v: &str) -> String {
    v.replace('\\', "\\\\").replace('|', "\\|").replace("\r\n", "<br>").replace(['\n', '\r'], "<br>")
}

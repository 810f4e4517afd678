//! The aligned table format (psql style, `(N rows)` footer) and its expanded
//! variant (`\x`), fitted to a maximum width by shrinking the widest columns
//! and truncating their cells with `…`. A cell with line breaks (an EXPLAIN
//! plan, a multi-line description) spans several lines, each continued line
//! marked with `+` as psql does.

use std::io::{self, Write};

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::{FormatOptions, Grid, row_count_footer};

const NULL: &str = "NULL";
/// Columns are not shrunk below this many characters (unless naturally narrower).
const MIN_COLUMN: usize = 6;

/// Writes `grid` as an aligned table.
pub fn write_table(out: &mut dyn Write, grid: &Grid, opts: &FormatOptions) -> io::Result<()> {
    let cells: Vec<Vec<Vec<String>>> = grid
        .rows
        .iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(i, c)| display_cell(c, grid.nested[i], opts, true).split('\n').map(str::to_string).collect())
                .collect()
        })
        .collect();
    let natural: Vec<usize> = (0..grid.headers.len())
        .map(|i| {
            cells
                .iter()
                .flat_map(|r| r[i].iter().map(|l| l.width()))
                .chain([grid.headers[i].width()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let widths = fit(&natural, opts.max_width);
    // One printed line: each value padded, followed by `+` when its cell goes
    // on below, else a space; columns joined by `| `.
    let line = |values: &[(&str, bool)], align_numeric: bool| {
        let parts: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, (v, more))| {
                format!(
                    "{}{}",
                    pad(&truncate(v, widths[i]), widths[i], align_numeric && grid.numeric[i]),
                    if *more { '+' } else { ' ' }
                )
            })
            .collect();
        format!(" {}", parts.join("| ")).trim_end().to_string()
    };
    let headers: Vec<(&str, bool)> = grid.headers.iter().map(|h| (h.as_str(), false)).collect();
    writeln!(out, "{}", line(&headers, false))?;
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(w + 2)).collect();
    writeln!(out, "{}", rule.join("+"))?;
    for row in &cells {
        let height = row.iter().map(Vec::len).max().unwrap_or(1);
        for k in 0..height {
            let values: Vec<(&str, bool)> =
                row.iter().map(|lines| (lines.get(k).map_or("", String::as_str), k + 1 < lines.len())).collect();
            writeln!(out, "{}", line(&values, true))?;
        }
    }
    writeln!(out, "{}", row_count_footer(grid.rows.len()))
}

/// Writes `grid` one `name | value` line per column, with a record header per row.
pub fn write_expanded(out: &mut dyn Write, grid: &Grid, opts: &FormatOptions) -> io::Result<()> {
    if grid.rows.is_empty() {
        return writeln!(out, "{}", row_count_footer(0));
    }
    let name_w = grid.headers.iter().map(|h| h.width()).max().unwrap_or(0);
    let value_max = opts.max_width.map(|w| w.saturating_sub(name_w + 3).max(MIN_COLUMN));
    let records: Vec<Vec<String>> = grid
        .rows
        .iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .map(|(i, c)| {
                    let v = display_cell(c, grid.nested[i], opts, false);
                    value_max.map_or(v.clone(), |m| truncate(&v, m))
                })
                .collect()
        })
        .collect();
    let value_w = records.iter().flatten().map(|v| v.width()).max().unwrap_or(0);
    for (n, values) in records.iter().enumerate() {
        let title = format!("-[ RECORD {} ]", n + 1);
        let total = (name_w + 3 + value_w).max(title.width());
        writeln!(out, "{title}{}", "-".repeat(total - title.width()))?;
        for (h, v) in grid.headers.iter().zip(values) {
            writeln!(out, "{} | {v}", pad(h, name_w, false))?;
        }
    }
    Ok(())
}

/// The cell as shown in a table: NULL marked, control characters escaped
/// (line breaks kept when `multiline`; trailing ones dropped), JSON-like
/// values shortened.
fn display_cell(cell: &Option<String>, nested: bool, opts: &FormatOptions, multiline: bool) -> String {
    let Some(v) = cell else { return NULL.to_string() };
    let json_like = nested || v.starts_with('{') || v.starts_with('[');
    let multiline = multiline && !json_like;
    let v = if multiline { v.trim_end_matches('\n') } else { v.as_str() };
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\n' if multiline => s.push('\n'),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if c.is_control() => s.push(' '),
            c => s.push(c),
        }
    }
    if json_like && s.width() > opts.max_json_cell { truncate(&s, opts.max_json_cell) } else { s }
}

/// Column widths that fit `max_width` (if any), shrinking the widest first.
fn fit(natural: &[usize], max_width: Option<usize>) -> Vec<usize> {
    let mut widths = natural.to_vec();
    let Some(max) = max_width else { return widths };
    // The rule line is the widest: ` a | b ` padded both sides, joined by `+`.
    let total = |w: &[usize]| (w.iter().sum::<usize>() + 3 * w.len()).saturating_sub(1);
    while total(&widths) > max {
        let Some((i, _)) = widths
            .iter()
            .enumerate()
            .filter(|&(i, &w)| w > MIN_COLUMN.min(natural[i]))
            .max_by_key(|&(i, &w)| (w, usize::MAX - i))
        else {
            break;
        };
        widths[i] -= 1;
    }
    widths
}

/// `s` cut to `width` display columns, ending with `…` when cut.
pub(crate) fn truncate(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

fn pad(s: &str, width: usize, right: bool) -> String {
    let fill = " ".repeat(width.saturating_sub(s.width()));
    if right { format!("{fill}{s}") } else { format!("{s}{fill}") }
}

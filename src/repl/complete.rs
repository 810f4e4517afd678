//! The rustyline helper: Tab completion (SQL keywords, tables, columns of the
//! tables in the statement or after `t.`, functions and actions,
//! meta-commands), keyword highlighting on colour terminals, and multi-line
//! input (Enter continues until the statement ends with `;`).

use std::borrow::Cow;
use std::sync::Arc;

use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use super::backend::{Backend, ColumnInfo, FunctionInfo, TableInfo};
use super::format::OutputFormat;
use super::meta::COMMANDS;
use super::statements::is_complete;

/// SQL keywords offered by completion and highlighted.
pub const KEYWORDS: &[&str] = &[
    "ALL", "AND", "AS", "ASC", "BETWEEN", "BY", "CASE", "CAST", "CREATE", "CROSS", "DELETE", "DESC", "DISTINCT",
    "ELSE", "END", "EXISTS", "EXPLAIN", "FALSE", "FROM", "FULL", "GROUP", "HAVING", "ILIKE", "IN", "INNER", "INSERT",
    "INTERVAL", "INTO", "IS", "JOIN", "LEFT", "LIKE", "LIMIT", "NOT", "NULL", "OFFSET", "ON", "OR", "ORDER", "OUTER",
    "RIGHT", "SELECT", "SET", "SHOW", "TABLE", "TABLES", "THEN", "TRUE", "UNION", "UPDATE", "VALUES", "VIEW", "WHEN",
    "WHERE", "WITH",
];

/// Common built-in functions, offered next to the backend's functions and actions.
const BUILTINS: &[&str] = &[
    "avg",
    "coalesce",
    "concat",
    "count",
    "date_trunc",
    "from_unixtime",
    "length",
    "lower",
    "max",
    "min",
    "now",
    "round",
    "sum",
    "to_timestamp",
    "upper",
];

/// Words after which a table name is expected.
const TABLE_CONTEXT: &[&str] = &["from", "join", "into", "update", "table"];

/// What completion knows about the session; a snapshot taken per Tab press.
pub struct Schema<'a> {
    /// Tables in the session.
    pub tables: &'a [TableInfo],
    /// Functions and actions.
    pub functions: &'a [FunctionInfo],
    /// Columns of a table, `None` when unknown.
    pub columns: &'a dyn Fn(&str) -> Option<Vec<ColumnInfo>>,
}

/// Completion candidates for the word ending at `pos` in `buffer`: the byte
/// offset where the replaced word starts and the replacements, best first.
pub fn candidates(buffer: &str, pos: usize, schema: &Schema<'_>) -> (usize, Vec<String>) {
    let before = &buffer[..pos];
    let start = before
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '\\'))
        .map_or(0, |i| i + before[i..].chars().next().map_or(1, char::len_utf8));
    let word = &before[start..];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = &before[line_start..];
    if line.trim_start().starts_with('\\') {
        return meta_candidates(line.trim_start(), start, word, schema);
    }
    let statement = current_statement(buffer, pos);
    let referenced = referenced_tables(statement, schema.tables);
    if let Some(dot) = word.rfind('.') {
        let (qualifier, prefix) = (&word[..dot], &word[dot + 1..]);
        let from = start + dot + 1;
        if qualifier.eq_ignore_ascii_case("stripe") {
            return (from, matching(schema.tables.iter().map(|t| t.name.clone()), prefix));
        }
        let table = referenced
            .iter()
            .find(|(t, alias)| alias.as_deref() == Some(qualifier) || t == qualifier)
            .map_or(qualifier, |(t, _)| t.as_str());
        let cols = (schema.columns)(table).unwrap_or_default();
        return (from, matching(cols.into_iter().map(|c| c.name), prefix));
    }
    let previous = previous_word(&before[..start]).to_lowercase();
    let tables = schema.tables.iter().map(|t| t.name.clone());
    let functions = schema.functions.iter().map(|f| f.name.clone()).chain(BUILTINS.iter().map(|s| s.to_string()));
    let mut out = Vec::new();
    if TABLE_CONTEXT.contains(&previous.as_str()) {
        out.extend(matching(tables, word));
        out.extend(matching(schema.functions.iter().map(|f| f.name.clone()), word));
    } else {
        let columns = referenced.iter().flat_map(|(t, _)| (schema.columns)(t).unwrap_or_default()).map(|c| c.name);
        out.extend(matching(columns, word));
        out.extend(matching(functions, word));
        let upper = word.is_empty() || word.chars().any(|c| c.is_uppercase());
        out.extend(matching(KEYWORDS.iter().map(|k| if upper { k.to_string() } else { k.to_lowercase() }), word));
        out.extend(matching(tables, word));
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|c| seen.insert(c.clone()));
    (start, out)
}

fn meta_candidates(line: &str, start: usize, word: &str, schema: &Schema<'_>) -> (usize, Vec<String>) {
    let command = line.split_whitespace().next().unwrap_or("");
    if word.starts_with('\\') && line.trim_end() == word {
        return (start, matching(COMMANDS.iter().map(|(n, _)| n.to_string()), word));
    }
    match command {
        "\\d" => (start, matching(schema.tables.iter().map(|t| t.name.clone()), word)),
        "\\df" => (start, matching(schema.functions.iter().map(|f| f.name.clone()), word)),
        "\\format" => (start, matching(OutputFormat::ALL.iter().map(|f| f.name().to_string()), word)),
        "\\timing" | "\\x" => (start, matching(["on", "off"].iter().map(|s| s.to_string()), word)),
        "\\cache" => (start, matching(std::iter::once("clear".to_string()), word)),
        _ => (start, Vec::new()),
    }
}

/// Case-insensitive prefix matches, sorted.
fn matching(names: impl Iterator<Item = String>, prefix: &str) -> Vec<String> {
    let p = prefix.to_lowercase();
    let mut v: Vec<String> = names.filter(|n| n.to_lowercase().starts_with(&p)).collect();
    v.sort();
    v
}

/// The statement around `pos` (between the `;` before and after it).
fn current_statement(buffer: &str, pos: usize) -> &str {
    let begin = buffer[..pos].rfind(';').map_or(0, |i| i + 1);
    let end = buffer[pos..].find(';').map_or(buffer.len(), |i| pos + i);
    &buffer[begin..end]
}

fn previous_word(before: &str) -> &str {
    let trimmed = before.trim_end();
    let start = trimmed.rfind(|c: char| !(c.is_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
    &trimmed[start..]
}

/// Tables named after FROM / JOIN / INTO / UPDATE (also `FROM a, b`), with their alias.
pub fn referenced_tables(statement: &str, tables: &[TableInfo]) -> Vec<(String, Option<String>)> {
    let tokens = tokenize(statement);
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if TABLE_CONTEXT.contains(&tokens[i].to_lowercase().as_str()) {
            i += 1;
            while let Some(name) = tokens.get(i) {
                let name = name.strip_prefix("stripe.").unwrap_or(name).to_string();
                if !tables.iter().any(|t| t.name == name) {
                    break;
                }
                i += 1;
                let mut alias = None;
                if tokens.get(i).is_some_and(|t| t.eq_ignore_ascii_case("as")) {
                    i += 1;
                }
                if let Some(a) =
                    tokens.get(i).filter(|t| is_identifier(t) && !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(t)))
                {
                    alias = Some(a.clone());
                    i += 1;
                }
                out.push((name, alias));
                if tokens.get(i).map(String::as_str) == Some(",") {
                    i += 1;
                } else {
                    break;
                }
            }
        } else {
            i += 1;
        }
    }
    out
}

fn is_identifier(t: &str) -> bool {
    t.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// Words (with dots) and single punctuation characters; quoted strings skipped.
fn tokenize(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            let mut w = c.to_string();
            while let Some(&n) = chars.peek().filter(|n| n.is_alphanumeric() || **n == '_' || **n == '.') {
                w.push(n);
                chars.next();
            }
            out.push(w);
        } else if c == '\'' {
            for n in chars.by_ref() {
                if n == '\'' {
                    break;
                }
            }
        } else if c == '"' {
            let w: String = chars.by_ref().take_while(|&n| n != '"').collect();
            out.push(w);
        } else if !c.is_whitespace() {
            out.push(c.to_string());
        }
    }
    out
}

/// The rustyline helper over a backend.
pub struct ReplHelper {
    backend: Arc<dyn Backend>,
    files: FilenameCompleter,
    color: bool,
}

impl ReplHelper {
    /// A helper completing from `backend`; `color` turns on keyword highlighting.
    pub fn new(backend: Arc<dyn Backend>, color: bool) -> Self {
        Self { backend, files: FilenameCompleter::new(), color }
    }
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let current = &line[line[..pos].rfind('\n').map_or(0, |i| i + 1)..pos];
        let command = current.trim_start();
        if (command.starts_with("\\i ") || command.starts_with("\\o ")) && command.len() > 3 {
            return self.files.complete(line, pos, ctx);
        }
        let tables = self.backend.tables();
        let functions = self.backend.functions();
        let backend = self.backend.clone();
        let columns = move |t: &str| backend.columns(t);
        let schema = Schema { tables: &tables, functions: &functions, columns: &columns };
        let (start, names) = candidates(line, pos, &schema);
        Ok((start, names.into_iter().map(|n| Pair { display: n.clone(), replacement: n }).collect()))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}

impl Highlighter for ReplHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if !self.color || line.trim_start().starts_with('\\') {
            return Cow::Borrowed(line);
        }
        Cow::Owned(highlight_keywords(line))
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        self.color
    }
}

/// `line` with SQL keywords in bold blue and string literals in green (ANSI).
pub fn highlight_keywords(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 16);
    let mut word = String::new();
    let mut in_string = false;
    let flush = |word: &mut String, out: &mut String| {
        if KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word)) {
            out.push_str("\x1b[1;34m");
            out.push_str(word);
            out.push_str("\x1b[0m");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in line.chars() {
        if in_string {
            out.push(c);
            if c == '\'' {
                out.push_str("\x1b[0m");
                in_string = false;
            }
        } else if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            if c == '\'' {
                out.push_str("\x1b[32m'");
                in_string = true;
            } else {
                out.push(c);
            }
        }
    }
    flush(&mut word, &mut out);
    if in_string {
        out.push_str("\x1b[0m");
    }
    out
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        let input = ctx.input();
        if input.trim().is_empty() || is_complete(input) {
            Ok(ValidationResult::Valid(None))
        } else {
            Ok(ValidationResult::Incomplete)
        }
    }
}

impl Helper for ReplHelper {}

#[cfg(test)]
#[path = "complete_tests.rs"]
mod tests;

//! Parsing meta-commands (`\dt`, `\d customers`, `\format csv`, ...) into a
//! typed command. Parsing is pure; running them is `runner`'s job.

use std::path::PathBuf;
use std::time::Duration;

use super::format::OutputFormat;

/// A parsed meta-command.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaCommand {
    /// `\?`: list meta-commands.
    Help,
    /// `\q`: leave the REPL (ends a script).
    Quit,
    /// `\dt` (or `\d` alone): list tables.
    ListTables,
    /// `\d TABLE`: columns, types, pushdown, writes and actions.
    Describe(String),
    /// `\df [PATTERN]`: functions and actions, optionally those whose name contains PATTERN.
    Functions(Option<String>),
    /// `\timing [on|off]`: toggle (None) or set statement timing.
    Timing(Option<bool>),
    /// `\format FORMAT`: set the output format.
    Format(OutputFormat),
    /// `\x [on|off]`: toggle (None) or set expanded rows.
    Expanded(Option<bool>),
    /// `\requests`: API calls of the last statement.
    Requests,
    /// `\watch [SECONDS] [COUNT]`: re-run the last query every SECONDS (default 2),
    /// COUNT times or until Ctrl-C.
    Watch { interval: Duration, count: Option<u64> },
    /// `\watch new|changes [SECONDS] [COUNT]`: print only the rows of the last
    /// query that are new since the watch started (`changes`: also updated and
    /// deleted ones), checking every SECONDS (default 2), like `stripe-sql watch`.
    WatchNew { interval: Duration, count: Option<u64>, changes: bool },
    /// `\i FILE`: run statements from a file.
    Include(PathBuf),
    /// `\o [FILE]`: send results to FILE, or back to standard output.
    Output(Option<PathBuf>),
    /// `\cache clear`: drop cached API results.
    CacheClear,
}

/// Names offered by completion and listed by `\?`, with their help line.
pub const COMMANDS: &[(&str, &str)] = &[
    ("\\?", "show this help"),
    ("\\q", "quit"),
    ("\\dt", "list tables and what their filters push down"),
    ("\\d", "\\d TABLE: columns, types, pushdown, writes and actions"),
    ("\\df", "\\df [NAME]: functions and actions with their arguments"),
    ("\\timing", "\\timing [on|off]: show how long each statement took"),
    ("\\format", "\\format table|csv|json|ndjson|markdown: output format"),
    ("\\x", "\\x [on|off]: expanded rows (one line per column)"),
    ("\\requests", "API calls made by the last statement"),
    (
        "\\watch",
        "\\watch [new|changes] [SECONDS] [COUNT]: re-run the last query (new: print only new rows) until Ctrl-C",
    ),
    ("\\i", "\\i FILE: run statements from FILE"),
    ("\\o", "\\o [FILE]: send results to FILE (no FILE: back to standard output)"),
    ("\\cache", "\\cache clear: drop cached API results"),
];

/// Parses one meta-command line (starting with `\`).
pub fn parse(line: &str) -> Result<MetaCommand, String> {
    let line = line.trim();
    let body = line.strip_prefix('\\').ok_or_else(|| format!("not a meta-command: {line}"))?;
    let (name, args) = match body.find(char::is_whitespace) {
        Some(n) => (&body[..n], body[n..].trim()),
        None => (body, ""),
    };
    let args: Vec<&str> = args.split_whitespace().collect();
    let no_args = |cmd: MetaCommand| {
        if args.is_empty() { Ok(cmd) } else { Err(format!("\\{name} takes no argument, got `{}`", args.join(" "))) }
    };
    match name {
        "?" | "h" | "help" => no_args(MetaCommand::Help),
        "q" | "quit" => no_args(MetaCommand::Quit),
        "dt" => no_args(MetaCommand::ListTables),
        "d" => match args.as_slice() {
            [] => Ok(MetaCommand::ListTables),
            [table] => Ok(MetaCommand::Describe(unquote(table))),
            _ => Err("\\d takes one table name".to_string()),
        },
        "df" => match args.as_slice() {
            [] => Ok(MetaCommand::Functions(None)),
            [pattern] => Ok(MetaCommand::Functions(Some(pattern.to_string()))),
            _ => Err("\\df takes at most one name".to_string()),
        },
        "timing" => on_off(name, &args).map(MetaCommand::Timing),
        "x" => on_off(name, &args).map(MetaCommand::Expanded),
        "format" | "pset" if name == "format" || args.first() == Some(&"format") => {
            let args = if name == "pset" { &args[1..] } else { &args[..] };
            match args {
                [fmt] => fmt.parse().map(MetaCommand::Format),
                _ => Err("\\format needs one of: table, csv, json, ndjson, markdown".to_string()),
            }
        }
        "requests" => no_args(MetaCommand::Requests),
        "watch" => parse_watch(&args),
        "i" | "include" => match args.as_slice() {
            [file] => Ok(MetaCommand::Include(PathBuf::from(unquote(file)))),
            _ => Err("\\i needs one file name".to_string()),
        },
        "o" | "out" => match args.as_slice() {
            [] => Ok(MetaCommand::Output(None)),
            [file] => Ok(MetaCommand::Output(Some(PathBuf::from(unquote(file))))),
            _ => Err("\\o takes at most one file name".to_string()),
        },
        "cache" => match args.as_slice() {
            ["clear"] => Ok(MetaCommand::CacheClear),
            _ => Err("\\cache needs a subcommand: \\cache clear".to_string()),
        },
        _ => Err(format!("unknown meta-command \\{name}; type \\? for the list")),
    }
}

fn on_off(name: &str, args: &[&str]) -> Result<Option<bool>, String> {
    match args {
        [] => Ok(None),
        [v] if v.eq_ignore_ascii_case("on") => Ok(Some(true)),
        [v] if v.eq_ignore_ascii_case("off") => Ok(Some(false)),
        _ => Err(format!("\\{name} takes `on` or `off`, got `{}`", args.join(" "))),
    }
}

fn parse_watch(args: &[&str]) -> Result<MetaCommand, String> {
    let seconds = |s: &str| -> Result<Duration, String> {
        let secs: f64 = s
            .trim_end_matches('s')
            .parse()
            .map_err(|_| format!("\\watch interval must be a number of seconds, got `{s}`"))?;
        if !(secs > 0.0 && secs.is_finite()) {
            return Err(format!("\\watch interval must be positive, got `{s}`"));
        }
        Ok(Duration::from_secs_f64(secs))
    };
    let count = |s: &str| -> Result<u64, String> {
        s.parse::<u64>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("\\watch count must be a positive integer, got `{s}`"))
    };
    if let Some((mode, rest)) = args.split_first().filter(|(m, _)| matches!(**m, "new" | "changes")) {
        let changes = *mode == "changes";
        return match parse_watch(rest)? {
            MetaCommand::Watch { interval, count } => Ok(MetaCommand::WatchNew { interval, count, changes }),
            other => Ok(other),
        };
    }
    match args {
        [] => Ok(MetaCommand::Watch { interval: Duration::from_secs(2), count: None }),
        [i] => Ok(MetaCommand::Watch { interval: seconds(i)?, count: None }),
        [i, c] => Ok(MetaCommand::Watch { interval: seconds(i)?, count: Some(count(c)?) }),
        _ => Err("\\watch takes [new|changes] [SECONDS] [COUNT]".to_string()),
    }
}

fn unquote(s: &str) -> String {
    let s = s.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')).unwrap_or(s);
    let s = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(s);
    s.to_string()
}

#[cfg(test)]
#[path = "meta_tests.rs"]
mod tests;

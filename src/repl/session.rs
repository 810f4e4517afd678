//! The interactive loop: read (multi-line) input with rustyline, run complete
//! statements and meta-commands, keep history in a file. Ctrl-C at the prompt
//! clears the line, Ctrl-C while a statement runs cancels it, Ctrl-D or `\q`
//! leaves. Works when stdin or stdout is not a terminal (no panic on EOF).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use rustyline::config::Config;
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{CompletionType, Editor};

use super::backend::Backend;
use super::complete::ReplHelper;
use super::format::OutputFormat;
use super::history::default_history_path;
use super::runner::{Flow, Runner};
use super::statements::split;

const PROMPT: &str = "stripe-sql> ";
const CONTINUATION: &str = "        ..> ";

/// How the interactive REPL starts.
#[derive(Debug, Clone, Default)]
pub struct ReplOptions {
    /// Initial output format (`\format` changes it).
    pub format: OutputFormat,
    /// History file; `None` uses `default_history_path()` (no history if that is `None` too).
    pub history_file: Option<PathBuf>,
    /// No banner and no notices.
    pub quiet: bool,
}

/// Runs the REPL until Ctrl-D or `\q`. Results go to stdout, errors to stderr.
/// Await it from the program's main task (the future is not `Send`).
pub async fn run_interactive(backend: Arc<dyn Backend>, opts: ReplOptions) -> crate::Result<()> {
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let config = Config::builder()
        .auto_add_history(false)
        .completion_type(CompletionType::List)
        .history_ignore_space(true)
        .build();
    let mut editor: Editor<ReplHelper, FileHistory> = Editor::with_config(config).map_err(readline_error)?;
    editor.set_helper(Some(ReplHelper::new(backend.clone(), color)));
    let history = opts.history_file.clone().or_else(default_history_path);
    if let Some(path) = &history {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        // A missing or unreadable history file only means an empty history.
        let _ = editor.load_history(path);
    }
    let mut runner = Runner::new(backend, opts.format, opts.quiet);
    runner.cancel_on_ctrl_c = true;
    runner.stop_on_error = false;
    runner.progress = std::io::stderr().is_terminal();
    if !opts.quiet {
        eprintln!("stripe-sql: statements end with `;`. \\? for help, \\q to quit.");
        if let Some(lags) = runner.backend.mirror_staleness() {
            eprintln!("{}", mirror_banner(&lags));
        }
    }
    let mut pending = String::new();
    loop {
        let prompt = if pending.is_empty() { PROMPT } else { CONTINUATION };
        runner.max_width = editor.dimensions().map(|(w, _)| usize::from(w));
        let line = read_line(&mut editor, prompt);
        let line = match line {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                pending.clear();
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                let _ = runner.finish();
                return Err(readline_error(e));
            }
        };
        if !line.trim().is_empty() {
            let _ = editor.add_history_entry(line.as_str());
            if let Some(path) = &history {
                let _ = editor.append_history(path);
            }
        }
        pending.push_str(&line);
        pending.push('\n');
        let parts = split(&pending);
        pending = if parts.rest.is_empty() { String::new() } else { format!("{}\n", parts.rest) };
        if parts.pieces.is_empty() {
            continue;
        }
        let mut out = std::io::stdout();
        let mut err = std::io::stderr();
        let flow = runner.run_pieces(parts.pieces, None, 1, &mut out, &mut err).await;
        let _ = out.flush();
        if matches!(flow, Ok(Flow::Quit)) {
            break;
        }
    }
    if let Err(message) = runner.finish() {
        eprintln!("error: {message}");
    }
    Ok(())
}

/// Reads one entry without stalling other tokio tasks on a multi-thread runtime.
fn read_line(editor: &mut Editor<ReplHelper, FileHistory>, prompt: &str) -> rustyline::Result<String> {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(|| editor.readline(prompt)),
        _ => editor.readline(prompt),
    }
}

fn readline_error(e: ReadlineError) -> crate::Error {
    match e {
        ReadlineError::Io(io) => crate::Error::Io(io),
        other => crate::Error::Io(std::io::Error::other(format!("could not read input: {other}"))),
    }
}

/// The banner line about the mirror: each mirrored table's staleness.
pub fn mirror_banner(lags: &std::collections::BTreeMap<String, i64>) -> String {
    if lags.is_empty() {
        return "stripe-sql: mirror configured but not synced yet: every table is read live".into();
    }
    let tables: Vec<String> = lags.iter().map(|(t, s)| format!("{t} {s}s")).collect();
    format!(
        "stripe-sql: reading mirrored tables from the mirror (stale by: {}); SET stripe.source = 'live' to read the API",
        tables.join(", ")
    )
}

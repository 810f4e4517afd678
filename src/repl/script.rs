//! Non-interactive runs (`-c SQL`, `-f FILE`, SQL on a piped stdin): every
//! statement and meta-command in order, results to `out`, diagnostics to
//! `err`. Like `psql -v ON_ERROR_STOP=1`, the run stops at the first failing
//! statement or meta-command and the exit code is 1; statements before it
//! have run (and any writes they made stay made).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use super::backend::Backend;
use super::format::OutputFormat;
use super::runner::{Flow, Runner, report};

/// How a script runs.
#[derive(Debug, Clone, Default)]
pub struct ScriptOptions {
    /// Output format of results (`--format`).
    pub format: OutputFormat,
    /// Suppress notices such as `Output format is csv.` on `err`.
    pub quiet: bool,
    /// File name used in error messages (`FILE:LINE: error: …`); `None` for `-c`/stdin.
    pub source_name: Option<String>,
    /// Width to fit table output to (the terminal's, when stdout is one).
    pub max_width: Option<usize>,
    /// Print `Time: … ms` after each statement.
    pub timing: bool,
    /// Draw a progress line on `err` during slow statements (set it when stderr is a terminal).
    pub progress: bool,
}

impl ScriptOptions {
    /// Options for running the file at `path` (errors name it).
    pub fn for_file(path: &Path, format: OutputFormat) -> Self {
        Self { format, source_name: Some(path.display().to_string()), ..Default::default() }
    }
}

/// Runs `sql` (statements ended by `;`, the last one may lack it; meta-commands
/// on their own lines). Returns the exit code: 0 when everything ran, 1 when a
/// statement or meta-command failed (the run stops there).
pub async fn run_script(
    backend: Arc<dyn Backend>,
    sql: &str,
    opts: &ScriptOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let mut runner = Runner::new(backend, opts.format, opts.quiet);
    runner.max_width = opts.max_width;
    runner.timing = opts.timing;
    runner.progress = opts.progress;
    runner.stop_on_error = true;
    let result = runner.run_text(sql, opts.source_name.as_deref(), 1, out, err).await;
    let mut code = match result {
        Ok(Flow::Continue) | Ok(Flow::Quit) => 0,
        Err(_) => 1,
    };
    if let Err(message) = runner.finish() {
        report(err, opts.source_name.as_deref(), 1, &message);
        code = 1;
    }
    if let Err(e) = out.flush() {
        report(err, None, 1, &format!("could not write the results: {e}"));
        code = 1;
    }
    code
}

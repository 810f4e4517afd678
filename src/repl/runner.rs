//! The state both front ends share (format, `\x`, `\timing`, `\o`, last query
//! and its API calls) and the code that runs statements and meta-commands.
//! A statement runs in its own tokio task; when cancellation is enabled,
//! Ctrl-C aborts that task and the session goes on.

use std::fs::File;
use std::future::Future;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::record_batch::RecordBatch;

use super::backend::Backend;
use super::format::{FormatOptions, OutputFormat, write_batches};
use super::meta::{self, MetaCommand};
use super::progress::{DELAY as PROGRESS_DELAY, INTERVAL as PROGRESS_INTERVAL, Progress};
use super::statements::{Piece, split};

/// `\i` files may include files up to this depth (stops include loops).
const MAX_INCLUDE_DEPTH: usize = 16;

/// What the caller should do after a piece of input ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Go on reading input.
    Continue,
    /// `\q`: stop.
    Quit,
}

/// A failed statement or meta-command (already reported on the error stream).
#[derive(Debug)]
pub(crate) struct Failed;

type Step<'a> = Pin<Box<dyn Future<Output = Result<Flow, Failed>> + 'a>>;

/// The session state and statement runner.
pub(crate) struct Runner {
    pub backend: Arc<dyn Backend>,
    pub format: OutputFormat,
    pub expanded: bool,
    pub timing: bool,
    pub quiet: bool,
    /// Width to fit tables to (terminal width), `None` for no limit.
    pub max_width: Option<usize>,
    /// Ctrl-C cancels a running statement (interactive sessions).
    pub cancel_on_ctrl_c: bool,
    /// Stop a piece of input at its first failure (scripts) or go on (REPL lines).
    pub stop_on_error: bool,
    /// Draw a progress line on the error stream while a statement runs (a terminal).
    pub progress: bool,
    last_statement: Option<String>,
    last_requests: Vec<String>,
    output: Option<(PathBuf, BufWriter<File>)>,
    depth: usize,
}

impl Runner {
    /// A runner with default settings over `backend`.
    pub fn new(backend: Arc<dyn Backend>, format: OutputFormat, quiet: bool) -> Self {
        Self {
            backend,
            format,
            expanded: false,
            timing: false,
            quiet,
            max_width: None,
            cancel_on_ctrl_c: false,
            stop_on_error: true,
            progress: false,
            last_statement: None,
            last_requests: Vec::new(),
            output: None,
            depth: 0,
        }
    }

    /// Runs every statement and meta-command of `text`. `source` names the
    /// file for error messages; `first_line` is the line `text` starts on.
    pub fn run_text<'a>(
        &'a mut self,
        text: &'a str,
        source: Option<&'a str>,
        first_line: usize,
        out: &'a mut dyn Write,
        err: &'a mut dyn Write,
    ) -> Step<'a> {
        Box::pin(async move {
            let split = split(text);
            let mut pieces = split.pieces;
            if !split.rest.is_empty() {
                pieces.push(Piece::Sql { text: split.rest, line: split.rest_line });
            }
            self.run_pieces(pieces, source, first_line, out, err).await
        })
    }

    /// Runs already split pieces in order (see `run_text`).
    pub fn run_pieces<'a>(
        &'a mut self,
        pieces: Vec<Piece>,
        source: Option<&'a str>,
        first_line: usize,
        out: &'a mut dyn Write,
        err: &'a mut dyn Write,
    ) -> Step<'a> {
        Box::pin(async move {
            let mut failed = false;
            for piece in pieces {
                let (result, line) = match piece {
                    Piece::Sql { text, line } => (self.run_statement(&text, out, err).await, line),
                    Piece::Meta { text, line } => (self.run_meta(&text, out, err).await, line),
                };
                match result {
                    Ok(Flow::Quit) => return Ok(Flow::Quit),
                    Ok(Flow::Continue) => {}
                    Err(message) => {
                        // An empty message was already reported (by an `\i` file).
                        if !message.is_empty() {
                            report(err, source, first_line + line - 1, &message);
                        }
                        failed = true;
                        if self.stop_on_error {
                            break;
                        }
                    }
                }
            }
            if failed { Err(Failed) } else { Ok(Flow::Continue) }
        })
    }

    /// Runs one SQL statement and prints its result.
    pub async fn run_statement(&mut self, sql: &str, out: &mut dyn Write, err: &mut dyn Write) -> Result<Flow, String> {
        self.last_statement = Some(sql.to_string());
        let mark = self.backend.request_mark();
        let started = Instant::now();
        let result = self.execute(sql, mark, err).await;
        self.last_requests = self.backend.requests_since(mark);
        // What the statement reported without failing (accounts that failed
        // under stripe.accounts): on the error stream, after the result.
        let warnings = self.backend.take_warnings();
        let batches = result.map_err(|message| super::hints::with_hint(message, &self.backend.tables()))?;
        let elapsed = started.elapsed();
        self.print(&batches, out)?;
        for warning in warnings {
            let _ = writeln!(err, "WARNING: {warning}");
        }
        if self.timing {
            let _ = writeln!(err, "Time: {:.3} ms", elapsed.as_secs_f64() * 1000.0);
        }
        Ok(Flow::Continue)
    }

    async fn execute(&self, sql: &str, mark: u64, err: &mut dyn Write) -> Result<Vec<RecordBatch>, String> {
        let backend = Arc::clone(&self.backend);
        let sql = sql.to_owned();
        let mut task = tokio::spawn(async move { backend.run_sql(&sql).await });
        let mut progress = Progress::start();
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + PROGRESS_DELAY, PROGRESS_INTERVAL);
        // One listener for the whole statement, so a Ctrl-C between two ticks is not missed.
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        let mut listening = self.cancel_on_ctrl_c;
        let joined = loop {
            tokio::select! {
                joined = &mut task => break joined,
                signal = &mut ctrl_c, if listening => {
                    if signal.is_ok() {
                        task.abort();
                        progress.clear(err);
                        return Err("statement canceled".to_string());
                    }
                    // No signal handling on this platform: the statement just runs to its end.
                    listening = false;
                }
                _ = ticks.tick(), if self.progress => progress.tick(self.backend.requests_since(mark).len(), err),
            }
        };
        progress.clear(err);
        match joined {
            Ok(Ok(batches)) => Ok(batches),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) if e.is_panic() => {
                Err(format!("statement failed: the engine panicked: {}", panic_text(e.into_panic())))
            }
            Err(_) => Err("statement canceled".to_string()),
        }
    }

    fn print(&mut self, batches: &[RecordBatch], out: &mut dyn Write) -> Result<(), String> {
        let opts = FormatOptions {
            max_width: self.max_width.filter(|_| self.output.is_none()),
            expanded: self.expanded,
            ..Default::default()
        };
        let format = self.format;
        let has_columns = batches.first().is_some_and(|b| b.num_columns() > 0);
        let target: &mut dyn Write = match &mut self.output {
            Some((_, file)) => file,
            None => out,
        };
        let written =
            write_batches(target, batches, format, &opts).map_err(|e| format!("could not write the result: {e}"));
        let spaced = if written.is_ok() && has_columns && format == OutputFormat::Table {
            writeln!(target).map_err(|e| e.to_string())
        } else {
            Ok(())
        };
        written.and(spaced).and_then(|_| target.flush().map_err(|e| format!("could not write the result: {e}")))
    }

    /// Parses and runs one meta-command line.
    pub async fn run_meta(&mut self, line: &str, out: &mut dyn Write, err: &mut dyn Write) -> Result<Flow, String> {
        let command = meta::parse(line)?;
        match command {
            MetaCommand::Help => {
                let _ = super::describe::help(self.target(out));
            }
            MetaCommand::Quit => return Ok(Flow::Quit),
            MetaCommand::ListTables => {
                let tables = self.backend.tables();
                self.print(&[super::describe::tables_batch(&tables)], out)?;
            }
            MetaCommand::Describe(table) => {
                let Some(columns) = self.backend.columns(&table) else {
                    return Err(super::describe::unknown_table(&table, &self.backend.tables()));
                };
                self.print(&[super::describe::columns_batch(&columns)], out)?;
                if let Some(extra) = self.backend.describe_extra(&table) {
                    let target = self.target(out);
                    let _ = writeln!(target, "{}", extra.trim_end());
                    let _ = writeln!(target);
                }
            }
            MetaCommand::Functions(pattern) => {
                let mut functions = self.backend.functions();
                if let Some(p) = &pattern {
                    let p = p.to_lowercase();
                    functions.retain(|f| f.name.to_lowercase().contains(&p));
                }
                self.print(&[super::describe::functions_batch(&functions)], out)?;
            }
            MetaCommand::Timing(v) => {
                self.timing = v.unwrap_or(!self.timing);
                self.notice(err, &format!("Timing is {}.", on_off(self.timing)));
            }
            MetaCommand::Expanded(v) => {
                self.expanded = v.unwrap_or(!self.expanded);
                self.notice(err, &format!("Expanded display is {}.", on_off(self.expanded)));
            }
            MetaCommand::Format(f) => {
                self.format = f;
                self.notice(err, &format!("Output format is {f}."));
            }
            MetaCommand::Requests => {
                let lines = if self.last_requests.is_empty() {
                    vec!["(no API requests)".to_string()]
                } else {
                    self.last_requests.clone()
                };
                let target = self.target(out);
                for line in &lines {
                    let _ = writeln!(target, "{line}");
                }
            }
            MetaCommand::Watch { interval, count } => return self.watch(interval, count, out, err).await,
            MetaCommand::WatchNew { interval, count, changes } => {
                return self.watch_new(interval, count, changes, out).await;
            }
            MetaCommand::Include(path) => return self.include(path, out, err).await,
            MetaCommand::Output(path) => self.redirect(path)?,
            MetaCommand::CacheClear => {
                self.backend.clear_cache();
                self.notice(err, "Cache cleared.");
            }
        }
        Ok(Flow::Continue)
    }

    async fn watch(
        &mut self,
        interval: Duration,
        count: Option<u64>,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> Result<Flow, String> {
        let sql = self.last_statement.clone().ok_or("\\watch needs a query to repeat; run one first")?;
        let mut run = 0u64;
        loop {
            run += 1;
            if self.format == OutputFormat::Table {
                let _ =
                    writeln!(self.target(out), "-- every {}s, run {run}: {}", interval.as_secs_f64(), first_line(&sql));
            }
            self.run_statement(&sql, out, err).await?;
            if count.is_some_and(|c| run >= c) {
                return Ok(Flow::Continue);
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                Ok(()) = tokio::signal::ctrl_c() => return Ok(Flow::Continue),
            }
        }
    }

    /// `\watch new`: the backend's feed of new rows, printed as they come.
    async fn watch_new(
        &mut self,
        interval: Duration,
        count: Option<u64>,
        changes: bool,
        out: &mut dyn Write,
    ) -> Result<Flow, String> {
        let sql = self.last_statement.clone().ok_or("\\watch new needs a query to watch; run one first")?;
        let mut feed = match self.backend.watch_new(&sql, changes).await {
            Some(feed) => feed?,
            None => return Err("\\watch new is not available here".to_string()),
        };
        if self.format == OutputFormat::Table {
            let _ = writeln!(self.target(out), "-- new rows every {}s: {}", interval.as_secs_f64(), first_line(&sql));
        }
        let mut run = 0u64;
        loop {
            run += 1;
            let batches = tokio::select! {
                rows = feed.next_rows() => rows?,
                Ok(()) = tokio::signal::ctrl_c() => return Ok(Flow::Continue),
            };
            if batches.iter().any(|b| b.num_rows() > 0) {
                self.print(&batches, out)?;
            }
            if count.is_some_and(|c| run >= c) {
                return Ok(Flow::Continue);
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                Ok(()) = tokio::signal::ctrl_c() => return Ok(Flow::Continue),
            }
        }
    }

    async fn include(&mut self, path: PathBuf, out: &mut dyn Write, err: &mut dyn Write) -> Result<Flow, String> {
        if self.depth >= MAX_INCLUDE_DEPTH {
            return Err(format!("could not run {}: \\i nested more than {MAX_INCLUDE_DEPTH} deep", path.display()));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| format!("could not read {}: {e}", path.display()))?;
        let name = path.display().to_string();
        let stop = std::mem::replace(&mut self.stop_on_error, true);
        self.depth += 1;
        let result = self.run_text(&text, Some(&name), 1, out, err).await;
        self.depth -= 1;
        self.stop_on_error = stop;
        // The failing statement was already reported with its file and line.
        result.map_err(|_| String::new())
    }

    fn redirect(&mut self, path: Option<PathBuf>) -> Result<(), String> {
        if let Some((old, mut file)) = self.output.take() {
            file.flush().map_err(|e| format!("could not finish writing {}: {e}", old.display()))?;
        }
        if let Some(path) = path {
            let file = File::create(&path).map_err(|e| format!("could not open {} for output: {e}", path.display()))?;
            self.output = Some((path, BufWriter::new(file)));
        }
        Ok(())
    }

    /// Flushes and closes an `\o` file, if any.
    pub fn finish(&mut self) -> Result<(), String> {
        self.redirect(None)
    }

    fn target<'a>(&'a mut self, out: &'a mut dyn Write) -> &'a mut dyn Write {
        match &mut self.output {
            Some((_, file)) => file,
            None => out,
        }
    }

    fn notice(&self, err: &mut dyn Write, text: &str) {
        if !self.quiet {
            let _ = writeln!(err, "{text}");
        }
    }
}

/// Writes an error line: `error: MESSAGE`, or `FILE:LINE: error: MESSAGE` for files.
pub(crate) fn report(err: &mut dyn Write, source: Option<&str>, line: usize, message: &str) {
    let _ = match source {
        Some(name) => writeln!(err, "{name}:{line}: error: {message}"),
        None => writeln!(err, "error: {message}"),
    };
    let _ = err.flush();
}

fn on_off(v: bool) -> &'static str {
    if v { "on" } else { "off" }
}

fn first_line(sql: &str) -> &str {
    sql.lines().next().unwrap_or("")
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| p.downcast_ref::<String>().cloned()).unwrap_or_default()
}

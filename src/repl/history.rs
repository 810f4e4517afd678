//! Facts about the user's environment: where the REPL keeps its history
//! between sessions, and how wide the terminal is.

use std::path::PathBuf;

/// `<data dir>/stripe-sql/history` (e.g. `~/.local/share/stripe-sql/history`),
/// or `None` when the platform has no data directory.
pub fn default_history_path() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("stripe-sql").join("history"))
}

/// The width of the terminal on standard output, or `None` when stdout is not
/// a terminal (then tables are never truncated). `COLUMNS` wins when set.
pub fn terminal_width() -> Option<usize> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return None;
    }
    if let Some(cols) = std::env::var("COLUMNS").ok().and_then(|c| c.parse::<usize>().ok()).filter(|&c| c > 0) {
        return Some(cols);
    }
    let mut editor = rustyline::DefaultEditor::new().ok()?;
    editor.dimensions().map(|(w, _)| usize::from(w))
}

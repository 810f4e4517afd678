//! Where the REPL keeps its history between sessions.

use std::path::PathBuf;

/// `<data dir>/stripe-sql/history` (e.g. `~/.local/share/stripe-sql/history`),
/// or `None` when the platform has no data directory.
pub fn default_history_path() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("stripe-sql").join("history"))
}

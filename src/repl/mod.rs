//! The analyst's front end: an interactive rustyline REPL and a script runner,
//! both over the `Backend` trait the engine implements (so this component knows
//! nothing of Stripe). Statements end with `;` and may span lines; lines
//! starting with `\` are meta-commands in the spirit of psql (`\?` lists them).
//!
//! `run_interactive` drives a terminal session; `run_script` runs `-c`/`-f`/
//! piped SQL, stopping at the first error (exit code 1), like
//! `psql -v ON_ERROR_STOP=1`. Both print results with `format`.

mod backend;
pub mod complete;
mod describe;
pub mod format;
mod hints;
mod history;
pub mod meta;
mod progress;
mod runner;
mod script;
mod session;
pub mod statements;

pub use backend::{Backend, ColumnInfo, FunctionInfo, TableInfo, collect_sql};
pub use format::{FormatOptions, OutputFormat, write_batches};
pub use history::{default_history_path, terminal_width};
pub use script::{ScriptOptions, run_script};
pub use session::{ReplOptions, run_interactive};

pub use backend::{RowFeed, WatchStart};

//! The analyst's front end: an interactive rustyline REPL and a script runner,
//! both over the `Backend` trait the engine implements (so this component knows
//! nothing of Stripe). Statements end with `;`; lines starting with `\` are
//! meta-commands in the spirit of psql.

mod backend;
pub mod format;
pub mod meta;
pub mod statements;

pub use backend::{Backend, ColumnInfo, FunctionInfo, TableInfo};
pub use format::{FormatOptions, OutputFormat, write_batches};

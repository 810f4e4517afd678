//! The generic `StripeTable` TableProvider (one per catalog table) and its
//! streaming scan. Pushdown decides the API calls; the scan makes them only
//! when the plan executes, decoding each page into a RecordBatch as it arrives.

pub mod accounts;
pub mod estimate;
pub mod fetch;
pub mod inserts;
pub mod join_keys;
pub mod join_rule;
pub mod metrics;
pub mod order;
pub mod parallel;
pub mod residual;
pub mod scan;
pub mod spec;
pub mod table;

pub use scan::StripeScanExec;
pub use table::{StripeTable, builtin_tables};

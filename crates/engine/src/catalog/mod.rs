//! The catalog (crate `stripe-catalog`: what exists in Stripe, as data) with
//! what the engine adds to it: the Arrow type of each column, its SQL type
//! name, the listings behind `stripe_tables()` / `stripe_columns()` and the
//! answer to `DESCRIBE`.

mod arrow;
pub mod describe;
pub mod listing;
pub mod nearest;
pub(crate) mod sql_type;

pub use arrow::{ArrowSchema, arrow_type};

/// The default catalog name DataFusion uses; the Stripe tables live in its schema `stripe`.
pub const CATALOG: &str = "datafusion";
/// The schema holding the Stripe tables.
pub const SCHEMA: &str = "stripe";
pub use sql_type::{sql_type, sql_type_of_arrow};
pub use stripe_catalog::*;

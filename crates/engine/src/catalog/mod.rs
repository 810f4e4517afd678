//! The catalog (crate `stripe-catalog`: what exists in Stripe, as data) with
//! what the engine adds to it: the Arrow type of each column and the listings
//! behind `stripe_tables()` / `stripe_columns()`.

mod arrow;
pub mod listing;

pub use arrow::{ArrowSchema, arrow_type};
pub use stripe_catalog::*;

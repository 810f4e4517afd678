//! What exists in Stripe, as data: tables, columns and their Arrow types, list
//! filters, search fields, write params and actions. Generated from the OpenAPI
//! spec by the generator and committed; see DESIGN.md §3.
//!
//! Normal builds only parse the committed `catalog.json` ([`builtin`]); the
//! [`generate`] module (spec → catalog) is used by `gen-catalog` and by the
//! test that checks the committed file is up to date.

mod arrow;
mod builtin;
pub mod generate;
pub mod listing;
pub mod model;

pub use arrow::arrow_type;
pub use builtin::{CATALOG_JSON, builtin, event_types};
pub use model::*;

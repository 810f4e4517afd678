//! What exists in Stripe, as data: tables, columns and their logical types, list
//! filters, search fields, write params and actions. Generated from the OpenAPI
//! spec by the generator and committed; see DESIGN.md §3.
//!
//! Normal builds only parse the committed `catalog.json` ([`builtin`]); the
//! generator (spec → catalog) is `xtask`'s `gen-catalog`, whose test checks
//! the committed file is up to date. This crate holds data and its model only
//! (serde): how a column becomes an Arrow type is the engine's business.

mod builtin;
pub mod model;

pub use builtin::{CATALOG_JSON, builtin, event_types};
pub use model::*;

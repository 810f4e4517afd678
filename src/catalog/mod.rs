//! What exists in Stripe, as data: tables, columns and their Arrow types, list
//! filters, search fields, write params and actions. Generated from the OpenAPI
//! spec by the generator and committed; see DESIGN.md §3.

pub mod model;

pub use model::*;

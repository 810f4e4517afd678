//! The generic StripeTable TableProvider and its streaming scan.

pub mod decode;

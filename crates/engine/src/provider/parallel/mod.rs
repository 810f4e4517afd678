//! Parallel list scans: a scan that needs many pages is split into disjoint
//! `created` ranges fetched concurrently ([`split`] decides, purely; [`walk`]
//! runs it against the client, whose limiter keeps every request within the
//! global and per-endpoint budgets).

pub mod split;
pub mod walk;

pub use walk::pages;

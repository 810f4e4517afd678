//! `stripe-sql sync`: the Delta Lake mirror kept equal to the account. Tests
//! mutate the emulator under a sync (creates, updates, deletes, same-second
//! bursts, late events, silent drift, a crash between commits) and compare
//! every mirrored table with a live full scan, row for row; a platform's
//! accounts mirrored into tables partitioned by account.

mod accounts;
mod all;
mod checks;
mod compact;
mod exact;
mod peers;
mod resume;
pub(crate) mod support;

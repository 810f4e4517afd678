//! What a sync reports as it goes, for a terminal progress line or a log:
//! the front end decides how to show it.

use std::sync::Arc;
use std::time::Duration;

/// One thing that happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// A backfill window was committed.
    Backfill {
        /// The table.
        table: String,
        /// Objects committed by this backfill so far.
        fetched: u64,
        /// Objects per second since the backfill (re)started in this process.
        per_second: f64,
        /// Estimated time left (from the share of the `created` span covered).
        eta: Option<Duration>,
        /// Whether the backfill is complete.
        done: bool,
    },
    /// Events (or new rows by created cursor) were applied in one commit.
    Applied {
        /// The table.
        table: String,
        /// Events applied (0 for created-cursor tables).
        events: usize,
        /// Rows inserted or updated.
        upserted: u64,
        /// Rows removed.
        deleted: u64,
        /// Seconds between the newest event applied and now.
        lag: Option<i64>,
    },
    /// The table is backfilled again from scratch.
    Rebackfill {
        /// The table.
        table: String,
        /// Why.
        reason: String,
    },
    /// A reconciliation compared the table with a full re-list.
    Reconciled {
        /// The table.
        table: String,
        /// Rows added, changed or removed to match Stripe.
        repairs: u64,
    },
    /// The table's small files were rewritten into a few large ones
    /// (`SyncOptions::compact_files`); its rows did not change.
    Compacted {
        /// The table.
        table: String,
        /// Data files before.
        files_before: usize,
        /// Data files after.
        files_after: usize,
    },
    /// Data files replaced longer ago than the table's retention were deleted
    /// (Delta `VACUUM`, daily); time travel reaches back that far.
    Vacuumed {
        /// The table.
        table: String,
        /// Files deleted.
        files: usize,
    },
    /// The account cannot list the table (see `SyncOptions::skip_unavailable`):
    /// it is not mirrored, and queries read it live.
    Skipped {
        /// The table.
        table: String,
        /// Stripe's answer.
        reason: String,
    },
    /// A step of the table failed (nothing was committed by it).
    Error {
        /// The table.
        table: String,
        /// What failed.
        message: String,
    },
    /// In a mirror of several accounts (`sync --accounts`): what happened to one account's partition.
    Account {
        /// The account (`acct_…`).
        account: String,
        /// What happened.
        progress: Box<Progress>,
    },
    /// In a mirror of several accounts: an account Stripe refused (revoked,
    /// 403 `account_invalid`, deleted) was skipped for this step; its rows
    /// stay as last synced and the next step asks again.
    AccountSkipped {
        /// The account (`acct_…`).
        account: String,
        /// Stripe's answer.
        reason: String,
    },
}

/// Receives progress (must be quick: it runs on the sync task).
pub type Observer = Arc<dyn Fn(&Progress) + Send + Sync>;

/// An observer that ignores everything.
pub fn quiet() -> Observer {
    Arc::new(|_| {})
}

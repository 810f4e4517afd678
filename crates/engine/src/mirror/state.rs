//! The progress of one mirrored table, committed as JSON in the commit info of
//! every Delta commit that changes the table (with the same step as the Delta
//! application transaction), so the rows and the cursor that produced them are
//! one atomic write: a crash can neither lose nor repeat an update.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Commit-info key holding a [`TableState`].
pub const STATE_KEY: &str = "stripe_sql_sync";
/// Application id of the Delta transaction whose version is [`TableState::step`].
pub const APP_ID: &str = "stripe-sql-sync";

/// Everything a restarted sync needs to continue one table where it stopped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableState {
    /// Commits made by sync so far (the Delta application transaction version).
    pub step: i64,
    /// Rows in the table after this commit.
    pub rows: u64,
    /// The backfill in progress, or `None` once done.
    pub backfill: Option<Backfill>,
    /// Events applied so far (tables with update events and nested tables).
    pub events: EventCursor,
    /// Newest `created` second fetched (tables without update events).
    pub created_cursor: Option<i64>,
    /// Unix seconds of the last reconciliation, and what it repaired.
    pub reconciled_at: Option<i64>,
    /// Rows the last reconciliation repaired (added, changed or removed).
    pub last_repairs: u64,
    /// Rows repaired by every reconciliation so far.
    pub total_repairs: u64,
    /// Why the table was last backfilled from scratch, when it was not the first time.
    pub rebackfill_reason: Option<String>,
}

/// A backfill in progress. A flat table's is one split list scan, committed
/// every few thousand rows with the `created` ranges (and cursors) it has
/// still to list: after a crash it lists exactly those. A nested table's walks
/// its parents in id order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backfill {
    /// Newest `created` second the backfill covers (`i64::MAX` until its first
    /// page, then the newest object's second plus one; for the ETA).
    pub upper: i64,
    /// Every object with `done_to <= created` is committed (`i64::MAX`:
    /// nothing yet). States written before `remaining` existed resume below it.
    pub done_to: i64,
    /// Flat tables: what is still to list (`None` before the first commit, or
    /// in a state written before ranges were kept: everything below `done_to`).
    #[serde(default)]
    pub remaining: Option<Vec<Range>>,
    /// Objects committed by this backfill.
    pub fetched: u64,
    /// Nested tables: parents (sorted ids) up to this one have their children committed.
    #[serde(default)]
    pub after_parent: Option<String>,
    /// A re-backfill: the first commit replaces every row instead of appending.
    #[serde(default)]
    pub replace: bool,
}

/// Objects with `created` in `[lo, hi]` (inclusive unix seconds; `i64::MIN` /
/// `i64::MAX`: no bound) listed after the object `after` in Stripe's
/// newest-first order: one range of a backfill's split scan, as committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    /// Oldest `created` second included.
    pub lo: i64,
    /// Newest `created` second included.
    pub hi: i64,
    /// Cursor: only objects listed after this id.
    pub after: Option<String>,
}

impl Backfill {
    /// A backfill that has committed nothing yet.
    pub fn start(replace: bool) -> Backfill {
        Backfill { upper: i64::MAX, done_to: i64::MAX, remaining: None, fetched: 0, after_parent: None, replace }
    }
}

/// Where the events follower is: events with `created < cursor - lag` are all
/// applied; of the newer ones, those in `seen` are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventCursor {
    /// Newest `created` second applied (start: when the backfill began).
    pub cursor: i64,
    /// Applied events created within the lag window before `cursor`: id -> created.
    pub seen: BTreeMap<String, i64>,
    /// Id of the last event applied.
    pub last_event: Option<String>,
    /// `created` of the last event applied.
    pub last_event_created: Option<i64>,
}

impl EventCursor {
    /// Whether `id`, created at `created`, was applied already.
    pub fn applied(&self, id: &str, created: i64, lag: i64) -> bool {
        created < self.cursor - lag || self.seen.contains_key(id)
    }

    /// Records `id` as applied and forgets ids older than the lag window.
    pub fn record(&mut self, id: &str, created: i64, lag: i64) {
        self.cursor = self.cursor.max(created);
        self.seen.insert(id.to_string(), created);
        if self.last_event_created.is_none_or(|c| c <= created) {
            self.last_event = Some(id.to_string());
            self.last_event_created = Some(created);
        }
        let floor = self.cursor - lag;
        self.seen.retain(|_, c| *c >= floor);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applied_events_are_remembered_for_the_lag_window_only() {
        let mut c = EventCursor { cursor: 100, ..Default::default() };
        assert!(c.applied("evt_old", 30, 60), "older than the lag window: applied before the cursor moved");
        assert!(!c.applied("evt_a", 90, 60));
        c.record("evt_a", 90, 60);
        c.record("evt_b", 200, 60);
        assert!(c.applied("evt_b", 200, 60));
        assert!(!c.applied("evt_late", 150, 60), "late but within the lag: not applied yet");
        assert!(!c.seen.contains_key("evt_a"), "pruned once below cursor - lag");
        assert_eq!((c.cursor, c.last_event.as_deref()), (200, Some("evt_b")));
    }
}

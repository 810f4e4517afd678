//! The high-water mark that makes polling exactly-once: the newest `created`
//! second seen so far plus the ids already seen in a short window before it.
//!
//! Each poll asks for `created >= floor`, where the floor is the high-water
//! second minus a settle window (never before the start): objects created
//! later in a second that was already polled, or listed a moment after their
//! `created` second (a slow request), are still found, and the ids remembered
//! for that window keep the ones already printed from being printed again.
//! With a settle window of 0 only the ids of the high-water second are kept.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where a poll resumes: `created >= floor()`, minus the ids in `seen`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Unix seconds: nothing created before this is ever new (the watch's start).
    pub start: i64,
    /// Unix seconds: the newest `created` seen (or the start).
    pub second: i64,
    /// Seconds before `second` that are polled again for late arrivals.
    pub settle: i64,
    /// Ids already seen with their `created`, for `created >= floor()`.
    pub seen: BTreeMap<String, i64>,
}

impl Cursor {
    /// A cursor that admits everything created at or after `second`, and looks
    /// `settle` seconds behind its high-water mark for objects listed late.
    pub fn starting_at(second: i64, settle: i64) -> Self {
        Cursor { start: second, second, settle: settle.max(0), seen: BTreeMap::new() }
    }

    /// The lowest `created` the next poll asks for.
    pub fn floor(&self) -> i64 {
        self.start.max(self.second - self.settle)
    }

    /// Whether an object `(id, created)` was not seen before.
    pub fn is_new(&self, id: &str, created: i64) -> bool {
        created >= self.floor() && !self.seen.contains_key(id)
    }

    /// Picks the new rows among one poll's `(id, created)` (in order, each id
    /// once) and moves the cursor past everything the poll returned.
    pub fn admit(&mut self, rows: &[(String, i64)]) -> Vec<bool> {
        let fresh: Vec<bool> = rows
            .iter()
            .map(|(id, created)| self.is_new(id, *created) && self.seen.insert(id.clone(), *created).is_none())
            .collect();
        if let Some(newest) = rows.iter().map(|(_, c)| *c).max() {
            self.second = self.second.max(newest);
        }
        let floor = self.floor();
        self.seen.retain(|_, created| *created >= floor);
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(items: &[(&str, i64)]) -> Vec<(String, i64)> {
        items.iter().map(|(id, c)| (id.to_string(), *c)).collect()
    }

    #[test]
    fn a_second_polled_twice_yields_each_id_once() {
        let mut c = Cursor::starting_at(100, 0);
        assert_eq!(c.admit(&rows(&[("a", 100), ("b", 101)])), [true, true]);
        assert_eq!((c.second, c.floor(), c.seen.len()), (101, 101, 1));
        // `c` was created in second 101 after the first poll: found, `b` is not repeated.
        assert_eq!(c.admit(&rows(&[("b", 101), ("c", 101)])), [false, true]);
        assert_eq!(c.seen.keys().collect::<Vec<_>>(), ["b", "c"]);
        assert_eq!(c.admit(&rows(&[("b", 101), ("c", 101), ("d", 105)])), [false, false, true]);
        assert_eq!((c.second, c.seen.len()), (105, 1));
    }

    #[test]
    fn the_settle_window_catches_objects_listed_late() {
        let mut c = Cursor::starting_at(100, 5);
        assert_eq!(c.floor(), 100, "never before the start");
        assert_eq!(c.admit(&rows(&[("b", 103)])), [true]);
        assert_eq!(c.floor(), 100);
        // `a` (created 102) only became listable now: still new; `b` is not repeated.
        assert_eq!(c.admit(&rows(&[("a", 102), ("b", 103), ("z", 110)])), [true, false, true]);
        assert_eq!((c.second, c.floor()), (110, 105));
        assert_eq!(c.seen.keys().collect::<Vec<_>>(), ["z"], "ids below the floor are forgotten");
    }

    #[test]
    fn empty_polls_and_older_rows_change_nothing() {
        let mut c = Cursor::starting_at(50, 0);
        assert!(c.admit(&[]).is_empty());
        assert_eq!(c, Cursor::starting_at(50, 0));
        assert_eq!(c.admit(&rows(&[("old", 49)])), [false]);
        assert_eq!(c.second, 50);
    }

    #[test]
    fn duplicates_within_one_poll_count_once() {
        let mut c = Cursor::starting_at(0, 0);
        assert_eq!(c.admit(&rows(&[("a", 3), ("a", 3)])), [true, false]);
    }
}

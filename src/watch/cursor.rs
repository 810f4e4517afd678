//! The high-water mark that makes polling exactly-once: the newest `created`
//! second seen so far plus the ids already seen at that second.
//!
//! Each poll asks for `created >= second`, so objects created later in a second
//! that was already polled are still found, and the ids remembered for that
//! second keep the ones already printed from being printed again.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// Where a poll resumes: `created >= second`, minus `ids` already seen at `second`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Unix seconds: the newest `created` seen (or the start time).
    pub second: i64,
    /// Ids already seen whose `created` is exactly `second`.
    pub ids: BTreeSet<String>,
}

impl Cursor {
    /// A cursor that admits everything created at or after `second`.
    pub fn starting_at(second: i64) -> Self {
        Cursor { second, ids: BTreeSet::new() }
    }

    /// Whether an object `(id, created)` was not seen before.
    pub fn is_new(&self, id: &str, created: i64) -> bool {
        created > self.second || (created == self.second && !self.ids.contains(id))
    }

    /// Picks the new rows among one poll's `(id, created)` (in order, each id
    /// once) and moves the cursor past everything the poll returned.
    pub fn admit(&mut self, rows: &[(String, i64)]) -> Vec<bool> {
        let mut taken = BTreeSet::new();
        let fresh: Vec<bool> =
            rows.iter().map(|(id, created)| self.is_new(id, *created) && taken.insert(id.as_str())).collect();
        let Some(newest) = rows.iter().map(|(_, c)| *c).max() else { return fresh };
        if newest > self.second {
            self.second = newest;
            self.ids.clear();
        }
        let at_second = rows.iter().filter(|(_, c)| *c == self.second).map(|(id, _)| id.clone());
        self.ids.extend(at_second);
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
        let mut c = Cursor::starting_at(100);
        assert_eq!(c.admit(&rows(&[("a", 100), ("b", 101)])), [true, true]);
        assert_eq!((c.second, c.ids.len()), (101, 1));
        // `c` was created in second 101 after the first poll: found, `b` is not repeated.
        assert_eq!(c.admit(&rows(&[("b", 101), ("c", 101)])), [false, true]);
        assert_eq!(c.ids, ["b".to_string(), "c".to_string()].into());
        assert_eq!(c.admit(&rows(&[("b", 101), ("c", 101), ("d", 105)])), [false, false, true]);
        assert_eq!((c.second, c.ids.len()), (105, 1));
    }

    #[test]
    fn empty_polls_and_older_rows_change_nothing() {
        let mut c = Cursor::starting_at(50);
        assert!(c.admit(&[]).is_empty());
        assert_eq!(c, Cursor::starting_at(50));
        assert_eq!(c.admit(&rows(&[("old", 49)])), [false]);
        assert_eq!(c.second, 50);
    }

    #[test]
    fn duplicates_within_one_poll_count_once() {
        let mut c = Cursor::starting_at(0);
        assert_eq!(c.admit(&rows(&[("a", 3), ("a", 3)])), [true, false]);
    }
}

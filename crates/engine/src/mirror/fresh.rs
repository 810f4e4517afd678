//! How fresh each mirrored table is: after every sync step that left a table
//! in step with Stripe (backfill done, events and cursors applied), the sync
//! records in `fresh.json` the wall-clock second the step started. Every
//! change Stripe had made by then is in the table, so a reader's staleness is
//! `now - checked_at`. Commit times cannot tell this: a quiet table commits
//! nothing for an hour while it is perfectly fresh.

use std::collections::BTreeMap;
use std::path::Path;

/// The file recording when each table was last in step with Stripe.
pub const FRESH_FILE: &str = "fresh.json";

/// The wall clock in unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Table -> unix second it was last known in step with Stripe.
pub fn read(dir: &Path) -> BTreeMap<String, i64> {
    std::fs::read_to_string(dir.join(FRESH_FILE)).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
}

/// Records `tables` as in step with Stripe as of `checked_at`. Written to a
/// temporary file and renamed, so a reader never sees half a file.
pub fn record(dir: &Path, tables: &[&str], checked_at: i64) {
    let mut all = read(dir);
    for t in tables {
        all.insert((*t).to_string(), checked_at);
    }
    let Ok(text) = serde_json::to_string_pretty(&all) else { return };
    let tmp = dir.join(format!("{FRESH_FILE}.tmp"));
    if std::fs::write(&tmp, text).is_ok() {
        let _ = std::fs::rename(&tmp, dir.join(FRESH_FILE));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_merge_per_table() {
        let tmp = tempfile::tempdir().unwrap();
        record(tmp.path(), &["charges"], 100);
        record(tmp.path(), &["customers"], 200);
        record(tmp.path(), &["charges"], 300);
        let all = read(tmp.path());
        assert_eq!((all["charges"], all["customers"]), (300, 200));
    }
}
